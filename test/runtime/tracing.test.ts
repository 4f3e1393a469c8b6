import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { resumeRun, runMission } from "../../src/index.js";
import { BIN, REPO, cliEnv } from "../helpers/cli.js";
import { agentMarkdown, GROWTH_INPUTS, GROWTH_PLAN, runProject } from "../helpers/project.js";
import { startFakeOpenAI, type FakeOpenAI } from "../helpers/openai-server.js";

// Issue #15, "Traces": with the standard OTLP variables in the run's environment, a run is sent
// as OpenTelemetry spans over OTLP/HTTP (GenAI semantic conventions 1.37), to a real receiver
// on loopback here; without them nothing is sent and no OpenTelemetry module is loaded.

type Value = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Array<{ key: string; value: Value }>;
  events?: Array<{ name: string; attributes?: Array<{ key: string; value: Value }> }>;
  status?: { code?: number; message?: string };
}
interface Span extends Omit<OtlpSpan, "attributes" | "events"> {
  attrs: Record<string, string | number | boolean | undefined>;
  events: Array<{ name: string; attrs: Record<string, string | number | boolean | undefined> }>;
  service?: string;
}

const valueOf = (v: Value) => v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.doubleValue ?? v.boolValue));
const attrsOf = (list: Array<{ key: string; value: Value }> | undefined) => Object.fromEntries((list ?? []).map((a) => [a.key, valueOf(a.value)]));

/** An OTLP/HTTP JSON receiver: keeps every span POSTed to /v1/traces, and the requests' headers. */
async function otlpReceiver() {
  const spans: Span[] = [];
  const headers: Array<Record<string, string | string[] | undefined>> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method === "POST" && req.url === "/v1/traces") {
        headers.push(req.headers);
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
          resourceSpans: Array<{ resource?: { attributes?: Array<{ key: string; value: Value }> }; scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
        };
        for (const rs of body.resourceSpans) {
          const service = attrsOf(rs.resource?.attributes)["service.name"] as string | undefined;
          for (const ss of rs.scopeSpans) {
            for (const s of ss.spans) {
              const { attributes, events, ...rest } = s;
              spans.push({ ...rest, attrs: attrsOf(attributes), events: (events ?? []).map((e) => ({ name: e.name, attrs: attrsOf(e.attributes) })), ...(service && { service }) });
            }
          }
        }
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    headers,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers) await close();
  closers = [];
});

function parentOf(spans: Span[], span: Span): Span | undefined {
  return spans.find((s) => s.spanId === span.parentSpanId);
}

function ancestry(spans: Span[], span: Span): string[] {
  const parent = parentOf(spans, span);
  return parent ? [parent.name, ...ancestry(spans, parent)] : [];
}

describe("OpenTelemetry traces of a run", () => {
  it("a run with supports, tools, a hook and an approval, and its resumes: one trace, spans named and tagged by the GenAI conventions", async () => {
    const receiver = await otlpReceiver();
    const server: FakeOpenAI = await startFakeOpenAI();
    closers.push(receiver.close, server.close);
    const cwd = runProject({ mission: GROWTH_PLAN, agents: { analyst: { pre: "echo ready" }, researcher: {}, seller: {}, planner: {} }, inputs: GROWTH_INPUTS });
    writeFileSync(join(cwd, "agents", "researcher.md"), agentMarkdown("researcher").replace("capabilities: [testing]", "capabilities: [testing]\ntools: Read, LS"));
    mkdirSync(join(cwd, "hooks"), { recursive: true });
    writeFileSync(join(cwd, "hooks", "post-phase"), "#!/bin/sh\ncat > /dev/null\n");
    chmodSync(join(cwd, "hooks", "post-phase"), 0o755);
    server.toolCalls = (body) => (body.tools?.some((t) => t.function.name === "ls") && !body.messages.some((m) => m.role === "tool") ? [{ name: "ls", args: { path: "inputs" } }] : undefined);
    const env = {
      OPENAI_API_KEY: "sk-test",
      OTEL_EXPORTER_OTLP_ENDPOINT: `${receiver.url}/`,
      OTEL_EXPORTER_OTLP_HEADERS: "x-team=coord%20tests",
      OTEL_SERVICE_NAME: "coord-test",
    };
    const settings = { approve: true, models: { default: "openai:gpt-4o-mini", baseUrl: server.url, retries: 0 } };

    const paused = await runMission({ cwd, mission: "test-mission", inputsDir: "inputs", runId: "otel", settings, env });
    expect(paused.exitCode, paused.error).toBe(3);
    // Sent before runMission returned: a CLI process exits with its spans delivered.
    const first = [...receiver.spans];
    const roots = first.filter((s) => s.name === "invoke_workflow test-mission");
    expect(roots).toHaveLength(1);
    const root = roots[0]!;
    expect(root.parentSpanId ?? "").toBe("");
    expect(root.service).toBe("coord-test");
    expect(receiver.headers[0]?.["x-team"]).toBe("coord tests");
    expect(root.attrs).toMatchObject({ "gen_ai.operation.name": "invoke_workflow", "coord.mission": "test-mission", "coord.run_id": "otel", "coord.status": "paused" });
    expect(root.events).toContainEqual({ name: "coord.paused", attrs: { "coord.pause_reason": "approval", "coord.phase": 1 } });
    expect(first.every((s) => s.traceId === root.traceId)).toBe(true);

    // The tree: workflow → phase → invoke_agent → chat / execute_tool / hook.
    const phase1 = first.find((s) => s.name === "phase 1")!;
    expect(parentOf(first, phase1)).toBe(root);
    expect(phase1.attrs).toMatchObject({ "coord.phase": 1, "coord.phase_title": "Analysis" });
    const agents = first.filter((s) => s.name.startsWith("invoke_agent "));
    expect(agents.map((s) => `${s.attrs["gen_ai.agent.name"]}/${s.attrs["coord.role"]}`).sort()).toEqual(["analyst/lead", "analyst/plan", "researcher/support", "seller/support"]);
    for (const a of agents) {
      expect(parentOf(first, a), a.name).toBe(phase1);
      expect(a.attrs).toMatchObject({ "gen_ai.operation.name": "invoke_agent", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o-mini", "coord.phase": 1, "coord.run_id": "otel" });
    }
    const chats = first.filter((s) => s.attrs["gen_ai.operation.name"] === "chat");
    expect(chats).toHaveLength(server.requests.length);
    for (const c of chats) {
      expect(c.name).toBe("chat gpt-4o-mini");
      expect(c.kind).toBe(3); // CLIENT
      expect(parentOf(first, c)?.name).toBe(`invoke_agent ${c.attrs["gen_ai.agent.name"]}`);
      expect(c.attrs).toMatchObject({ "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o-mini", "coord.mission": "test-mission", "coord.phase": 1 });
      expect(typeof c.attrs["coord.cost_usd"]).toBe("number");
      // No content unless the user opts in.
      expect(c.attrs["gen_ai.input.messages"]).toBeUndefined();
      expect(c.attrs["gen_ai.output.messages"]).toBeUndefined();
    }
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    expect(sum(chats.map((c) => c.attrs["gen_ai.usage.input_tokens"] as number))).toBe(sum(server.requests.map((q) => q.usage?.prompt_tokens ?? 0)));
    expect(sum(chats.map((c) => c.attrs["gen_ai.usage.output_tokens"] as number))).toBe(sum(server.requests.map((q) => q.usage?.completion_tokens ?? 0)));
    expect(sum(chats.map((c) => c.attrs["gen_ai.usage.input_tokens"] as number))).toBeGreaterThan(0);
    const tools = first.filter((s) => s.name.startsWith("execute_tool"));
    expect(tools.map((t) => t.name)).toEqual(["execute_tool ls"]);
    expect(tools[0]!.attrs).toMatchObject({ "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "ls", "gen_ai.agent.name": "researcher" });
    expect(ancestry(first, tools[0]!)).toEqual(["invoke_agent researcher", "phase 1", "invoke_workflow test-mission"]);
    const agentHook = first.find((s) => s.name === "hook analyst.pre")!;
    expect(ancestry(first, agentHook)).toEqual(["invoke_agent analyst", "phase 1", "invoke_workflow test-mission"]);
    expect(agentHook.attrs).toMatchObject({ "coord.hook": "analyst.pre", "process.exit.code": 0 });
    const postPhase = first.find((s) => s.name === "hook post-phase")!;
    expect(parentOf(first, postPhase)).toBe(phase1);

    // Approved: phase 2 runs (and pauses), then the last approval completes it, judge and all.
    const second = await resumeRun("otel", { cwd, decision: { action: "approve" }, env });
    expect(second.exitCode, second.error).toBe(3);
    const done = await resumeRun("otel", { cwd, decision: { action: "approve" }, env });
    expect(done.record.status, done.error).toBe("completed");
    const all = receiver.spans;
    expect(new Set(all.map((s) => s.traceId))).toEqual(new Set([root.traceId]));
    const segments = all.filter((s) => s.name === "invoke_workflow test-mission");
    expect(segments).toHaveLength(3);
    for (const s of segments.slice(1)) {
      expect(s.parentSpanId).toBe(root.spanId);
      expect(s.attrs["coord.resumed"]).toBe(true);
      expect(s.events.map((e) => e.name)).toContain("coord.approval");
      expect(s.events.find((e) => e.name === "coord.approval")?.attrs["coord.decision"]).toBe("approve");
    }
    expect(segments[2]!.attrs["coord.status"]).toBe("completed");
    const planner = all.find((s) => s.name === "invoke_agent planner")!;
    // The second segment's span, itself under the first's.
    expect(ancestry(all, planner)).toEqual(["phase 2", "invoke_workflow test-mission", "invoke_workflow test-mission"]);
    expect(parentOf(all, planner)?.parentSpanId).toBe(segments[1]!.spanId);
    const judge = all.find((s) => s.name === "invoke_agent judge")!;
    expect(parentOf(all, judge)).toBe(segments[2]);
    expect(all.filter((s) => s.attrs["gen_ai.operation.name"] === "chat")).toHaveLength(server.requests.length);
  });

  it("sends prompts and completions only when content capture is on", async () => {
    const receiver = await otlpReceiver();
    closers.push(receiver.close);
    const cwd = runProject({ mission: GROWTH_PLAN, agents: { analyst: {}, researcher: {}, seller: {}, planner: {} }, inputs: GROWTH_INPUTS });
    const env = { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`, OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: "true", OTEL_SEMCONV_STABILITY_OPT_IN: "gen_ai_latest_experimental" };
    const outcome = await runMission({ cwd, mission: "test-mission", inputsDir: "inputs", runId: "content", env });
    expect(outcome.record.status, outcome.error).toBe("completed");
    const chats = receiver.spans.filter((s) => s.attrs["gen_ai.operation.name"] === "chat");
    expect(chats.length).toBeGreaterThan(0);
    for (const c of chats) {
      expect(c.attrs).toMatchObject({ "gen_ai.provider.name": "coord.offline", "gen_ai.request.model": "offline" });
      // Opted in to the latest conventions only: no pre-1.37 `gen_ai.system`.
      expect(c.attrs["gen_ai.system"]).toBeUndefined();
      const input = JSON.parse(c.attrs["gen_ai.input.messages"] as string) as Array<{ role: string; parts: unknown[] }>;
      expect(input.some((m) => m.role === "user" || m.role === "system")).toBe(true);
      expect(JSON.parse(c.attrs["gen_ai.output.messages"] as string)[0].role).toBe("assistant");
    }
    expect(receiver.spans.find((s) => s.name === "invoke_workflow test-mission")?.service).toBe("coord");
  });

  it("marks a budget pause as an event of the run's span", async () => {
    const receiver = await otlpReceiver();
    closers.push(receiver.close);
    const cwd = runProject({ mission: GROWTH_PLAN, agents: { analyst: {}, researcher: {}, seller: {}, planner: {} }, inputs: GROWTH_INPUTS });
    const outcome = await runMission({ cwd, mission: "test-mission", inputsDir: "inputs", runId: "budget", settings: { budget: { maxTokens: 1 } }, env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url } });
    expect(outcome.record.reason).toBe("budget");
    const root = receiver.spans.find((s) => s.name === "invoke_workflow test-mission")!;
    expect(root.attrs["coord.status"]).toBe("paused");
    expect(root.events.find((e) => e.name === "coord.paused")?.attrs["coord.pause_reason"]).toBe("budget");
  });

  it("without the variables: nothing is sent, and `coord run` loads no OpenTelemetry module; with them, the CLI sends its run", async () => {
    const receiver = await otlpReceiver();
    closers.push(receiver.close);
    const cwd = runProject({ mission: GROWTH_PLAN, agents: { analyst: {}, researcher: {}, seller: {}, planner: {} }, inputs: GROWTH_INPUTS });
    const traces = mkdtempSync(join(tmpdir(), "coord-otel-"));
    const coordRun = (runId: string, extra: Record<string, string | undefined>) => {
      const traceFile = join(traces, `${runId}.txt`);
      writeFileSync(traceFile, "");
      const otelUnset = { OTEL_EXPORTER_OTLP_ENDPOINT: undefined, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: undefined };
      // Asynchronous: the receiver answers in this process while the CLI runs.
      return new Promise<{ code: number | null; stderr: string; modules: string[] }>((resolve) => {
        const child = spawn(process.execPath, ["--import", join(REPO, "bench", "trace-imports.js"), BIN, "run", "test-mission", "--inputs", "inputs", "--run-id", runId, "--quiet"], {
          cwd,
          env: cliEnv({ ...otelUnset, ...extra, TRACE_FILE: traceFile }),
        });
        let stderr = "";
        child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
        child.on("close", (code) => resolve({ code, stderr, modules: readFileSync(traceFile, "utf8").split("\n").filter(Boolean) }));
      });
    };
    const OTEL = /\/node_modules\/@opentelemetry\//;
    const plain = await coordRun("plain", {});
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.modules.length, "the tracer recorded nothing").toBeGreaterThan(0);
    expect(plain.modules.filter((url) => OTEL.test(url))).toEqual([]);
    expect(receiver.spans).toEqual([]);
    // Also in process: a run without the variables sends nothing.
    const inProcess = await runMission({ cwd, mission: "test-mission", inputsDir: "inputs", runId: "quiet", env: {} });
    expect(inProcess.record.status).toBe("completed");
    expect(receiver.spans).toEqual([]);

    const traced = await coordRun("traced", { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    expect(traced.code, traced.stderr).toBe(0);
    expect(traced.modules.filter((url) => OTEL.test(url)).length).toBeGreaterThan(0);
    expect(receiver.spans.find((s) => s.name === "invoke_workflow test-mission")?.attrs["coord.run_id"]).toBe("traced");
  });
});
