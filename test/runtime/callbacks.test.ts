import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import { awaitAllCallbacks } from "@langchain/core/callbacks/promises";
import type { Serialized } from "@langchain/core/load/serializable";
import { afterEach, describe, expect, it } from "vitest";
import { resumeRun, runMission } from "../../src/index.js";
import { runBinAsync } from "../helpers/cli.js";
import { agentMarkdown, GROWTH_INPUTS, GROWTH_PLAN, runProject } from "../helpers/project.js";
import { startFakeOpenAI, type FakeOpenAI } from "../helpers/openai-server.js";

// Issue #15: `runMission`, `resumeRun` and `compileMission` take LangChain callbacks that reach
// every model and tool call of a run, tagged with the mission, phase, agent and role, with the run
// id in their metadata. A real handler, as LangSmith's tracer or a user's own would be.

interface Seen {
  event: "chat" | "llm" | "tool";
  name: string;
  tags: string[];
  metadata: Record<string, unknown>;
}

class Recorder extends BaseCallbackHandler {
  name = "recorder";
  seen: Seen[] = [];

  override handleChatModelStart(llm: Serialized, _messages: unknown, _runId: string, _parent?: string, _extra?: unknown, tags?: string[], metadata?: Record<string, unknown>, runName?: string): void {
    this.seen.push({ event: "chat", name: runName ?? String(llm.id.at(-1)), tags: tags ?? [], metadata: metadata ?? {} });
  }

  override handleLLMStart(llm: Serialized, _prompts: string[], _runId: string, _parent?: string, _extra?: unknown, tags?: string[], metadata?: Record<string, unknown>, runName?: string): void {
    this.seen.push({ event: "llm", name: runName ?? String(llm.id.at(-1)), tags: tags ?? [], metadata: metadata ?? {} });
  }

  override handleToolStart(tool: Serialized, _input: string, _runId: string, _parent?: string, tags?: string[], metadata?: Record<string, unknown>, runName?: string): void {
    this.seen.push({ event: "tool", name: runName ?? String(tool.id.at(-1)), tags: tags ?? [], metadata: metadata ?? {} });
  }

  /** Model calls (a chat model reports handleChatModelStart; a plain LLM handleLLMStart). */
  get models(): Seen[] {
    return this.seen.filter((s) => s.event !== "tool");
  }
}

/** Who a call was for, as its metadata says: `phase/agent/role`. */
const stepOf = (s: Seen) => `${s.metadata.coord_phase}/${s.metadata.coord_agent}/${s.metadata.coord_role}`;

/** Every model call of an offline GROWTH_PLAN run, by step: the lead writing two deliverables side by side plans first. */
const GROWTH_CALLS = [
  "0/judge/judge",
  "1/analyst/lead",
  "1/analyst/lead",
  "1/analyst/plan",
  "1/researcher/support",
  "1/seller/support",
  "2/planner/lead",
  "2/researcher/support",
];

function growthProject(): string {
  return runProject({ mission: GROWTH_PLAN, agents: { analyst: {}, researcher: {}, seller: {}, planner: {} }, inputs: GROWTH_INPUTS });
}

function expectTagged(s: Seen, runId: string): void {
  expect(s.metadata.coord_run_id, stepOf(s)).toBe(runId);
  expect(s.metadata.coord_mission).toBe("test-mission");
  expect(s.tags).toEqual(expect.arrayContaining(["coord", "coord:mission:test-mission", `coord:phase:${s.metadata.coord_phase}`, `coord:agent:${s.metadata.coord_agent}`, `coord:role:${s.metadata.coord_role}`]));
}

let server: FakeOpenAI | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("callbacks of runMission and resumeRun", () => {
  it("see every model call of an offline run once, tagged with its mission, phase, agent, role and the run id", async () => {
    const cwd = growthProject();
    const recorder = new Recorder();
    const outcome = await runMission({ cwd, mission: "test-mission", inputsDir: "inputs", runId: "traced", callbacks: [recorder] });
    await awaitAllCallbacks();
    expect(outcome.record.status).toBe("completed");
    // Once each: the offline model inside coord's managed model is not a second call.
    expect(recorder.models.map(stepOf).sort()).toEqual(GROWTH_CALLS);
    expect(recorder.models.every((s) => s.event === "chat" && s.name === "ManagedChatModel")).toBe(true);
    for (const s of recorder.models) expectTagged(s, "traced");
    // Which call of its step each was: the lead's plan, then one call per deliverable.
    expect(recorder.models.filter((s) => s.metadata.coord_agent === "analyst").map((s) => s.metadata.coord_call).sort()).toEqual(["deliverable-1", "deliverable-2", "lead-plan"]);
    // LangGraph's own metadata is kept: the task each call ran in.
    expect(recorder.models.every((s) => typeof s.metadata.langgraph_node === "string")).toBe(true);
    // As many as run.json counts for the run's steps (one per support and plan, the lead's longest chain, the judge).
    const record = outcome.record;
    const recorded = record.phases.flatMap((p) => p.calls).length + (record.criteriaCalls?.length ?? 0);
    expect(recorded).toBe(new Set(GROWTH_CALLS).size);
  });

  it("reach the calls a resume makes, with the same run id", async () => {
    const cwd = growthProject();
    const first = new Recorder();
    const paused = await runMission({ cwd, mission: "test-mission", inputsDir: "inputs", runId: "paused", settings: { approve: true }, callbacks: [first] });
    expect(paused.exitCode).toBe(3);
    const second = new Recorder();
    const resumed = await resumeRun("paused", { cwd, decision: { action: "approve" }, callbacks: [second] });
    expect(resumed.exitCode).toBe(3);
    const third = new Recorder();
    const done = await resumeRun("paused", { cwd, decision: { action: "approve" }, callbacks: [third] });
    await awaitAllCallbacks();
    expect(done.record.status).toBe("completed");
    expect(first.models.map(stepOf).sort()).toEqual(GROWTH_CALLS.filter((c) => c.startsWith("1/")));
    expect(second.models.map(stepOf).sort()).toEqual(GROWTH_CALLS.filter((c) => c.startsWith("2/")));
    expect(third.models.map(stepOf)).toEqual(["0/judge/judge"]);
    for (const s of [...first.models, ...second.models, ...third.models]) expectTagged(s, "paused");
  });

  it("over HTTP: one handleChatModelStart per request the provider received, and every tool call, tagged", async () => {
    server = await startFakeOpenAI();
    const cwd = growthProject();
    writeFileSync(join(cwd, "agents", "researcher.md"), agentMarkdown("researcher").replace("capabilities: [testing]", "capabilities: [testing]\ntools: Read, LS"));
    // The researcher lists the inputs once, then answers.
    server.toolCalls = (body) => (body.tools?.some((t) => t.function.name === "ls") && !body.messages.some((m) => m.role === "tool") ? [{ name: "ls", args: { path: "inputs" } }] : undefined);
    const recorder = new Recorder();
    const outcome = await runMission({
      cwd,
      mission: "test-mission",
      inputsDir: "inputs",
      runId: "http",
      settings: { models: { default: "openai:gpt-4o-mini", baseUrl: server.url, retries: 0 } },
      env: { OPENAI_API_KEY: "sk-test" },
      callbacks: [recorder],
    });
    await awaitAllCallbacks();
    expect(outcome.record.status, outcome.error).toBe("completed");
    expect(server.requests.every((q) => q.status === 200)).toBe(true);
    // Exactly one start per request: neither coord's managed model nor the provider's model inside it counts twice.
    expect(recorder.models.filter((s) => s.event === "chat")).toHaveLength(server.requests.length);
    expect(recorder.models.filter((s) => s.event === "llm")).toHaveLength(0);
    for (const s of recorder.seen) expectTagged(s, "http");
    // The researcher's tool loop takes two requests in each of its two phases; everything else one.
    const researcher = recorder.models.filter((s) => s.metadata.coord_agent === "researcher");
    expect(researcher.map(stepOf).sort()).toEqual(["1/researcher/support", "1/researcher/support", "2/researcher/support", "2/researcher/support"]);
    const tools = recorder.seen.filter((s) => s.event === "tool");
    expect(tools.map((s) => `${s.name} ${stepOf(s)}`).sort()).toEqual(["ls 1/researcher/support", "ls 2/researcher/support"]);
  });
});

/** A run as LangSmith receives it: the `post.ID` part of a multipart upload, with its `extra`. */
interface TracedRun {
  id: string;
  name: string;
  run_type: string;
  trace_id: string;
  parent_run_id?: string;
  tags?: string[];
  metadata: Record<string, unknown>;
}

/** A stand-in for LangSmith's API: answers /info, and keeps every run posted to /runs/multipart. */
async function fakeLangSmith(): Promise<{ url: string; runs: TracedRun[]; apiKeys: string[]; close(): Promise<void> }> {
  const parts = new Map<string, Record<string, unknown>>();
  const apiKeys = new Set<string>();
  const server = createServer((req, res) => {
    const key = req.headers["x-api-key"];
    if (typeof key === "string") apiKeys.add(key);
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const boundary = /boundary=(\S+)/.exec(req.headers["content-type"] ?? "")?.[1];
      if (boundary) {
        for (const part of Buffer.concat(chunks).toString("utf8").split(`--${boundary}`)) {
          const name = /name="([^"]+)"/.exec(part)?.[1];
          const body = part.slice(part.indexOf("\r\n\r\n") + 4).trim();
          if (name?.startsWith("post.") && body.startsWith("{")) parts.set(name, JSON.parse(body) as Record<string, unknown>);
        }
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(req.url?.startsWith("/info") ? JSON.stringify({ version: "test", batch_ingest_config: { use_multipart_endpoint: true } }) : "{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get runs() {
      return [...parts.entries()]
        .filter(([name]) => name.split(".").length === 2)
        .map(([name, run]) => ({ ...(run as unknown as TracedRun), metadata: ((parts.get(`${name}.extra`)?.metadata ?? {}) as Record<string, unknown>) }));
    },
    get apiKeys() {
      return [...apiKeys];
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe("LangSmith", () => {
  it("traces a `coord run` from the project's .env as from the shell", async () => {
    const langsmith = await fakeLangSmith();
    const cwd = growthProject();
    writeFileSync(join(cwd, ".env"), `LANGSMITH_TRACING=true\nLANGSMITH_ENDPOINT=${langsmith.url}\nLANGSMITH_API_KEY=lsv2-from-dotenv\n`);
    try {
      const r = await runBinAsync(["run", "test-mission", "--inputs", "inputs", "--run-id", "dotenv", "--quiet"], { cwd });
      expect(r.code, r.stderr).toBe(0);
    } finally {
      await langsmith.close();
    }
    const root = langsmith.runs.find((r) => !r.parent_run_id);
    expect(root?.name).toBe("test-mission");
    expect(root?.metadata.thread_id).toBe("dotenv");
    const calls = langsmith.runs.filter((r) => r.name === "ManagedChatModel");
    expect(calls.map((r) => stepOf({ event: "chat", name: r.name, tags: r.tags ?? [], metadata: r.metadata })).sort()).toEqual(GROWTH_CALLS);
    expect(calls.every((r) => r.trace_id === root!.id)).toBe(true);
    expect(langsmith.apiKeys).toEqual(expect.arrayContaining(["lsv2-from-dotenv"]));
  });


  it("traces a `coord run` from its usual environment variables: every model call inside the mission's graph, tagged", async () => {
    const langsmith = await fakeLangSmith();
    try {
      // The real bin in a process of its own, as users run it: its environment is all it is told.
      const r = await runBinAsync(["run", "test-mission", "--inputs", "inputs", "--run-id", "smith", "--quiet"], {
        cwd: growthProject(),
        env: { LANGSMITH_TRACING: "true", LANGSMITH_ENDPOINT: langsmith.url, LANGSMITH_API_KEY: "lsv2-test" },
      });
      expect(r.code, r.stderr).toBe(0);
    } finally {
      await langsmith.close();
    }
    const runs = langsmith.runs;
    const root = runs.find((r) => !r.parent_run_id);
    expect(root?.name).toBe("test-mission");
    expect(root?.metadata.thread_id).toBe("smith");
    const ancestors = (run: TracedRun): TracedRun[] => {
      const parent = runs.find((p) => p.id === run.parent_run_id);
      return parent ? [parent, ...ancestors(parent)] : [];
    };
    const seen = (r: TracedRun): Seen => ({ event: "chat", name: r.name, tags: r.tags ?? [], metadata: r.metadata });
    const calls = runs.filter((r) => r.name === "ManagedChatModel");
    expect(calls.map((r) => stepOf(seen(r))).sort()).toEqual(GROWTH_CALLS);
    for (const r of calls) {
      // One trace, the run's graph: each call under the task it ran in.
      expect(r.trace_id).toBe(root!.id);
      expect(ancestors(r).map((a) => a.name)).toContain(r.metadata.langgraph_node);
      expectTagged(seen(r), "smith");
    }
  });
});
