import { readFileSync } from "node:fs";
import { join } from "node:path";
import { HumanMessage, SystemMessage, type BaseMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { MemorySaver } from "@langchain/langgraph";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { parseAgent } from "../../src/definitions/agent.js";
import { parseMission } from "../../src/definitions/mission.js";
import { progress } from "../../src/interfaces/cli/progress.js";
import { createModel, modelsForRun, type ModelSettings } from "../../src/models/resolve.js";
import type { StepToken } from "../../src/models/streaming.js";
import { DELIVERABLES_TOOL } from "../../src/models/tool-binding.js";
import { compileMission } from "../../src/runtime/compile.js";
import { runMission } from "../../src/runtime/run.js";
import { startFakeOpenAI, streamTokens, type FakeOpenAI } from "../helpers/openai-server.js";
import { agentMarkdown, missionMarkdown, runProject } from "../helpers/project.js";

const SPEC = "openai:gpt-4o-mini";
const FAST_RETRY = { retries: 3, baseMs: 1, maxMs: 5 };
const STEP = { phase: 1, role: "support" as const, agent: "analyst" };
const LONG_ANSWER =
  "Churn is concentrated in the first ninety days, when onboarding still takes twenty-three days on average; " +
  "buyers who reach their first report within a week stay, and the others leave before the first renewal.";

let server: FakeOpenAI | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const MESSAGES: BaseMessage[] = [new SystemMessage("You are analyst, a careful specialist."), new HumanMessage("## Your task\n\nList the churn drivers.")];

const deliverables = tool(async () => "", {
  name: DELIVERABLES_TOOL,
  description: "Write the deliverables",
  schema: z.object({ churn_analysis: z.string().describe("Churn analysis"), stall_analysis: z.string().describe("Stall analysis") }),
});

/** A model on the fake server whose tokens, labelled with STEP, land in `tokens` with their arrival time. */
async function streamingModel(fake: FakeOpenAI, tokens: Array<StepToken & { at: number }>, settings: Partial<ModelSettings> = {}) {
  let calls = 0;
  return createModel(SPEC, {
    baseUrl: fake.url,
    env: { OPENAI_API_KEY: "sk-test" },
    retry: FAST_RETRY,
    onToken: (t) => tokens.push({ ...t, at: Date.now() }),
    stepOf: () => STEP,
    nextCall: () => ++calls,
    ...settings,
  });
}

/** The text of one call's last attempt, joined from its token events. */
function joined(tokens: StepToken[], call: number): string {
  const ofCall = tokens.filter((t) => t.call === call);
  const last = Math.max(...ofCall.map((t) => t.attempt));
  return ofCall
    .filter((t) => t.attempt === last)
    .map((t) => t.text)
    .join("");
}

describe("streamed answers over HTTP", () => {
  it("hands on the text as it arrives, coalesced and in order, and returns the whole message with the server's usage", async () => {
    server = await startFakeOpenAI({ tokenDelayMs: 15 });
    server.replyText = () => LONG_ANSWER;
    const tokens: Array<StepToken & { at: number }> = [];
    const reply = await (await streamingModel(server, tokens)).invoke(MESSAGES);
    const done = Date.now();

    expect(server.requests[0]!.body.stream).toBe(true);
    expect(reply.content).toBe(LONG_ANSWER);
    expect(joined(tokens, 1)).toBe(LONG_ANSWER);
    expect(tokens.every((t) => t.phase === 1 && t.role === "support" && t.agent === "analyst" && t.attempt === 1 && t.tool === undefined)).toBe(true);
    // Streamed: the first text came well before the answer was whole (the server took ~15 ms a token).
    const sent = streamTokens(LONG_ANSWER).length;
    expect(done - tokens[0]!.at).toBeGreaterThan(sent * 15 * 0.5);
    // Coalesced: fewer events than tokens, yet more than one.
    expect(tokens.length).toBeGreaterThan(1);
    expect(tokens.length).toBeLessThan(sent / 2);
    const served = server.requests[0]!.usage!;
    expect(reply.usage_metadata).toMatchObject({ input_tokens: served.prompt_tokens, output_tokens: served.completion_tokens, total_tokens: served.total_tokens });
  });

  it("streams a forced tool call: its arguments arrive as tokens naming the tool, and the call comes back whole", async () => {
    server = await startFakeOpenAI({ tokenDelayMs: 2 });
    const tokens: Array<StepToken & { at: number }> = [];
    const reply = await (await streamingModel(server, tokens)).bindTools([deliverables]).invoke(MESSAGES);
    expect(reply.tool_calls).toHaveLength(1);
    const args = reply.tool_calls![0]!.args as Record<string, string>;
    expect(Object.keys(args).sort()).toEqual(["churn_analysis", "stall_analysis"]);
    expect(args.churn_analysis).toBe('Server draft of Churn analysis by "You are analyst, a careful specialist.".');
    expect(tokens.every((t) => t.tool === DELIVERABLES_TOOL)).toBe(true);
    expect(JSON.parse(joined(tokens, 1))).toEqual(args);
  });

  it.each(["drop", "end"] as const)("retries a stream cut mid-way (%s) like a failed call, and returns the whole answer", async (cut) => {
    server = await startFakeOpenAI({ tokenDelayMs: 2 });
    server.replyText = () => LONG_ANSWER;
    server.streamCuts.push(cut);
    const tokens: Array<StepToken & { at: number }> = [];
    const retries: string[] = [];
    const reply = await (await streamingModel(server, tokens, { onRetry: (m) => retries.push(m) })).invoke(MESSAGES);

    expect(reply.content).toBe(LONG_ANSWER);
    expect(server.requests.map((r) => r.cut ?? "whole")).toEqual([cut, "whole"]);
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatch(cut === "drop" ? /^openai:gpt-4o-mini: terminated \(other side closed\); retry 1 in / : /stream was cut before the answer's end; retry 1 in /);
    // The cut attempt's text was handed on as far as it went; the retry's is the whole answer.
    const first = tokens.filter((t) => t.attempt === 1).map((t) => t.text).join("");
    expect(first.length).toBeGreaterThan(0);
    expect(LONG_ANSWER.startsWith(first)).toBe(true);
    expect(first.length).toBeLessThan(LONG_ANSWER.length);
    expect(joined(tokens, 1)).toBe(LONG_ANSWER);
  });

  it("gives up on streams cut every time after the policy's retries", async () => {
    server = await startFakeOpenAI({ tokenDelayMs: 0 });
    server.streamCuts.push("end", "end", "end");
    const error = await (await streamingModel(server, [], { retry: { retries: 2, baseMs: 1, maxMs: 5 } })).invoke(MESSAGES).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.name).toBe("StreamCutError");
    expect(server.requests).toHaveLength(3);
  });
});

describe("tokens of a run's steps", () => {
  const mission = parseMission(
    missionMarkdown("Stream", ["Brief"], [{ title: "Study", lead: "planner", support: ["analyst", "code-reviewer"], deliverables: ["Findings"] }]),
    "stream.md",
  ).mission!;
  const agents = ["planner", "analyst", "code-reviewer"].map((name) => parseAgent(agentMarkdown(name), `${name}.md`).agent!);

  it("labels each streamed text with the phase, role and agent of the graph step that asked for it", async () => {
    server = await startFakeOpenAI({ tokenDelayMs: 3 });
    const tokens: StepToken[] = [];
    const models = await modelsForRun(mission, agents, { default: SPEC, baseUrl: server.url, env: {}, retry: FAST_RETRY, onToken: (t) => tokens.push(t) });
    const graph = compileMission(mission, { agents, model: (agent) => models.byAgent.get(agent.name)!.model, checkpointer: new MemorySaver() });
    const state = (await graph.invoke({ inputs: { brief: "Onboarding takes 23 days." } }, { configurable: { thread_id: "t" } })) as {
      notes: Record<number, Record<string, string>>;
      deliverables: Record<number, Record<string, string>>;
    };

    const steps = [...new Set(tokens.map((t) => `${t.phase}/${t.role}/${t.agent}`))].sort();
    expect(steps).toEqual(["1/lead/planner", "1/support/analyst", "1/support/code-reviewer"]);
    // Each support's tokens, joined, are the notes the run kept for it.
    for (const agent of ["analyst", "code-reviewer"]) {
      const calls = [...new Set(tokens.filter((t) => t.agent === agent).map((t) => t.call))];
      expect(calls).toHaveLength(1);
      expect(joined(tokens, calls[0]!)).toBe(state.notes[1]![agent]);
    }
    // The lead's deliverable came as a tool call's arguments.
    const lead = tokens.filter((t) => t.role === "lead" && t.tool === DELIVERABLES_TOOL);
    expect(lead.length).toBeGreaterThan(0);
    expect(JSON.stringify(state.deliverables[1])).toContain("Server draft of Findings");
  });

  it("finishes a run whole when a stream is cut mid-way: the call is retried and the deliverables are the server's", async () => {
    server = await startFakeOpenAI({ tokenDelayMs: 1 });
    server.replyText = () => LONG_ANSWER;
    server.streamCuts.push("drop");
    const cwd = runProject({
      mission: missionMarkdown("Cut", ["Brief"], [{ title: "Study", lead: "planner", support: ["analyst"], deliverables: ["Findings"] }]),
      agents: { planner: {}, analyst: {} },
      inputs: { brief: "Onboarding takes 23 days.\n" },
    });
    const warnings: string[] = [];
    const outcome = await runMission({
      cwd,
      mission: "test-mission",
      inputsDir: "inputs",
      runId: "cut",
      env: { OPENAI_API_KEY: "sk-test" },
      settings: { models: { default: SPEC, baseUrl: server.url }, hooks: { enabled: false } },
      onEvent: (e) => e.type === "warning" && warnings.push(e.message),
    });
    expect(outcome.record.status).toBe("completed");
    expect(server.requests.filter((r) => r.cut)).toHaveLength(1);
    expect(warnings.some((w) => /terminated.*retry 1 in/.test(w))).toBe(true);
    const file = outcome.record.phases[0]!.deliverables[0]!.file;
    expect(readFileSync(join(cwd, "runs", "cut", file), "utf8")).toContain("Server draft of Findings");
    // The notes are the analyst's whole answer, not the part before the cut.
    expect(server.requests[0]!.cut).toBe("drop");
    expect(readFileSync(join(cwd, "runs", "cut", "notes", "p1-analyst.md"), "utf8").trim()).toBe(LONG_ANSWER);
  });
});

describe("the live progress view", () => {
  it("shows each running step with the latest text its model streamed, and starts over when a call is retried", async () => {
    server = await startFakeOpenAI({ tokenDelayMs: 2 });
    server.replyText = () => LONG_ANSWER;
    server.streamCuts.push("end");
    let screen = "";
    const view = progress({
      out: () => {},
      err: (text) => (screen += `${text}\n`),
      errStream: { isTTY: true, write: (text: string) => (screen += text), columns: 120 } as { isTTY: boolean; write(text: string): unknown },
      env: {},
      cwd: "/",
      json: false,
      quiet: false,
      verbose: false,
    });
    const lead = { phase: 1, role: "lead" as const, agent: "planner" };
    for (const step of [STEP, { phase: 1, role: "support" as const, agent: "researcher" }, lead]) view.onEvent({ type: "step", state: "start", ...step });
    const tokens: Array<StepToken & { at: number }> = [];
    await (await streamingModel(server, tokens)).invoke(MESSAGES);
    // The lead writes its deliverables as a tool call's arguments: shown as text, without the JSON around it.
    await (await streamingModel(server, tokens, { stepOf: () => lead, nextCall: () => 2 })).bindTools([deliverables]).invoke(MESSAGES);
    for (const t of tokens) view.onEvent({ type: "token", ...t });
    await new Promise((r) => setTimeout(r, 300));
    const lastDraw = screen.slice(screen.lastIndexOf("\r\x1b[2K"));
    view.stop();
    const lines = lastDraw.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "").replace(/\r/g, "").split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^. \[ *\d+\.\ds\] phase 1 · support analyst \(\d+s\)  ….*before the first renewal\.$/);
    expect(lines[0]!.length).toBeLessThanOrEqual(119);
    expect(lines[1]).toMatch(/^ +phase 1 · support researcher \(\d+s\)$/);
    expect(lines[2]).toMatch(/^ +phase 1 · lead planner \(\d+s\)  ….*Server draft of Stall analysis by "You are analyst, a careful specialist\."\.$/);
    expect(lines[2]).not.toContain("stall_analysis");
    // The cut attempt's text was dropped when the retry began: the tail reads as one answer.
    const shown = lines[0]!.split("  …")[1]!;
    expect(LONG_ANSWER.endsWith(shown)).toBe(true);
  });
});
