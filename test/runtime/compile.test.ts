import { BaseChatModel, type BaseChatModelCallOptions, type BindToolsInput } from "@langchain/core/language_models/chat_models";
import { AIMessageChunk, type BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import { convertToOpenAITool } from "@langchain/core/utils/function_calling";
import { MemorySaver } from "@langchain/langgraph";
import { describe, expect, it } from "vitest";
import { AgentRegistry } from "../../src/definitions/agent-registry.js";
import { parseAgent } from "../../src/definitions/agent.js";
import { parseMission } from "../../src/definitions/mission.js";
import { CRITERIA_NODE, INPUTS_NODE, planMission } from "../../src/definitions/plan.js";
import { missionToMermaid } from "../../src/definitions/mermaid.js";
import { isCoordError } from "../../src/errors.js";
import { compileMission, recursionLimitFor } from "../../src/runtime/compile.js";
import { OfflineChatModel } from "../../src/models/offline.js";
import { requestBudget } from "../../src/models/context.js";
import { agentMarkdown, missionMarkdown } from "../helpers/project.js";

interface ScriptedOptions extends BaseChatModelCallOptions {
  tools?: Array<ReturnType<typeof convertToOpenAITool>>;
}

/**
 * A stand-in provider that answers structured-output requests from a script: each reply names
 * which deliverable fields to leave empty. It records every request, as a real server would see it.
 */
class ScriptedModel extends BaseChatModel<ScriptedOptions> {
  requests: Array<{ tool?: string; fields: string[]; prompt: string }> = [];
  judged = 0;
  constructor(private readonly emptyPerCall: string[][]) {
    super({});
  }
  override _llmType() {
    return "scripted";
  }
  override bindTools(tools: BindToolsInput[], kwargs?: Partial<ScriptedOptions>) {
    return this.withConfig({ tools: tools.map((t) => convertToOpenAITool(t as never)), ...kwargs } as Partial<ScriptedOptions>);
  }
  async _generate(messages: BaseMessage[], options: this["ParsedCallOptions"]): Promise<ChatResult> {
    const tool = options.tools?.[0];
    // The check of the success criteria after the last phase is the judge's, not the agents' work.
    if (tool?.function.name === "judge_criteria") {
      this.judged++;
      const message = new AIMessageChunk({ content: "", tool_calls: [{ id: "j", name: "judge_criteria", type: "tool_call", args: { verdicts: [] } }] });
      message.usage_metadata = { input_tokens: 10, output_tokens: 5, total_tokens: 15 };
      return { generations: [{ text: "", message }] };
    }
    const properties = (tool?.function.parameters as { properties?: Record<string, unknown> } | undefined)?.properties ?? {};
    const fields = Object.keys(properties);
    this.requests.push({ ...(tool && { tool: tool.function.name }), fields, prompt: String(messages.at(-1)?.content) });
    const empty = tool ? (this.emptyPerCall.shift() ?? []) : [];
    const message = tool
      ? new AIMessageChunk({
          content: "",
          tool_calls: [{ id: "c", name: tool.function.name, type: "tool_call", args: Object.fromEntries(fields.map((f) => [f, empty.includes(f) ? "" : `text of ${f}`])) }],
        })
      : new AIMessageChunk({ content: "notes" });
    message.usage_metadata = { input_tokens: 10, output_tokens: 5, total_tokens: 15 };
    return { generations: [{ text: "", message }] };
  }
}

const MISSION = parseMission(
  missionMarkdown("One Phase", ["Brief"], [{ title: "Write", lead: "writer", support: ["helper"], deliverables: ["Alpha", "Beta", "Gamma"] }]),
  "one-phase.md",
).mission!;

function registry(): AgentRegistry {
  const r = new AgentRegistry();
  for (const name of ["writer", "helper"]) r.add(parseAgent(agentMarkdown(name), `${name}.md`).agent!);
  return r;
}

const run = (model: BaseChatModel, deliverables: "parallel" | "one-call" = "one-call", checkpointer = new MemorySaver()) =>
  compileMission(MISSION, { agents: registry(), model, checkpointer, deliverables }).invoke(
    { inputs: { brief: "A short brief about onboarding." } },
    { configurable: { thread_id: "t" } },
  );

/** Fails the request for one deliverable the first time it is asked, as a provider outage would. */
class FailingOnceModel extends ScriptedModel {
  failed = false;
  constructor(private readonly field: string, private readonly title: string) {
    super([]);
  }
  override async _generate(messages: BaseMessage[], options: this["ParsedCallOptions"]): Promise<ChatResult> {
    if (!this.failed && String(messages.at(-1)?.content).includes(`Write only the deliverable "${this.title}"`)) {
      this.failed = true;
      this.requests.push({ fields: [this.field], prompt: "failed" });
      // It fails after the other deliverables came back, as a slow request that errors would.
      await new Promise((r) => setTimeout(r, 50));
      throw new Error("provider went away");
    }
    return super._generate(messages, options);
  }
}

describe("compileMission", () => {
  it("names its nodes as the plan does, so --graph draws the compiled graph", () => {
    const graph = compileMission(MISSION, { agents: registry(), model: new OfflineChatModel({}), approve: true });
    const planned = planMission(MISSION, { approve: true }).flatMap((p) => [...p.supports, ...(p.planner ? [p.planner] : []), p.lead, ...(p.review ? [p.review] : [])].map((s) => s.id));
    expect(Object.keys(graph.nodes).filter((n) => n !== "__start__").sort()).toEqual([INPUTS_NODE, ...planned, CRITERIA_NODE].sort());
    expect(missionToMermaid(MISSION, { approve: true })).toContain(`${INPUTS_NODE}[/`);
    expect(missionToMermaid(MISSION, { approve: true })).toContain(`${CRITERIA_NODE}{{"Check 1 success criterion"}}`);
  });

  it("fails with one INPUT_MISSING naming the input when invoked without it, before any agent works", async () => {
    const parallel = parseMission(missionMarkdown("Twin", ["Brief", "Notes"], [{ title: "Look", lead: "lead", support: ["one", "two"], deliverables: ["Findings"] }]), "twin.md").mission!;
    const agents = ["lead", "one", "two"].map((name) => parseAgent(agentMarkdown(name), `${name}.md`).agent!);
    const model = new ScriptedModel([]);
    const graph = compileMission(parallel, { agents, model, checkpointer: new MemorySaver() });
    const error = await graph.invoke({ inputs: { brief: "Only the brief." } }, { configurable: { thread_id: "no-notes" } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isCoordError(error) && error.code).toBe("INPUT_MISSING");
    expect((error as Error).message).toContain("notes");
    expect(model.requests).toHaveLength(0);
  });

  it("writes deliverables side by side by default: a plan first, then one structured call per deliverable, each from the plan", async () => {
    const model = new ScriptedModel([]);
    const state = await run(model, "parallel");
    // The plan is written alongside the support, from the brief and the inputs: both before any deliverable.
    const [first, second] = model.requests;
    expect([first, second].filter((r) => r!.prompt.includes("First write a short plan for this phase"))).toHaveLength(1);
    expect([first, second].every((r) => !r!.tool)).toBe(true);
    const asks = model.requests.slice(2);
    expect(asks.map((a) => a.fields)).toEqual([["deliverable_1"], ["deliverable_1"], ["deliverable_1"]]);
    for (const [i, title] of ["Alpha", "Beta", "Gamma"].entries()) {
      expect(asks[i]!.prompt).toContain(`Write only the deliverable "${title}"`);
      // Every deliverable is written from the same plan, so they agree with each other.
      expect(asks[i]!.prompt).toContain("## Phase plan\n\nnotes");
    }
    expect(state.deliverables["1"]).toEqual({ Alpha: "text of deliverable_1", Beta: "text of deliverable_1", Gamma: "text of deliverable_1" });
    // Three deliverables, 15 tokens each; the plan is a call of its own.
    expect(state.calls["1/lead/writer"]!.usage.totalTokens).toBe(45);
    expect(state.calls["1/plan/writer"]).toMatchObject({ role: "plan", usage: { totalTokens: 15 } });
    expect(state.calls["1/lead/writer"]!.attempts).toBe(1);
  });

  it("asks again, alone, for a deliverable written side by side that came back empty", async () => {
    const model = new ScriptedModel([[], ["deliverable_1"], [], []]);
    const state = await run(model, "parallel");
    const asks = model.requests.filter((r) => r.tool);
    expect(asks).toHaveLength(4);
    expect(asks[3]!.prompt).toContain('Write only the deliverable "Beta"');
    expect(asks[3]!.prompt).toContain("## Missing from your last answer");
    expect(state.deliverables["1"]!.Beta).toBe("text of deliverable_1");
    expect(state.calls["1/lead/writer"]!.attempts).toBe(2);
  });

  it("keeps the deliverables already written when a phase fails mid-way: the resume asks only for the rest", async () => {
    const checkpointer = new MemorySaver();
    const model = new FailingOnceModel("deliverable_1", "Gamma");
    const failed = await run(model, "parallel", checkpointer).catch((e: unknown) => e);
    const causes = (failed as { errors?: Error[] }).errors ?? [failed as Error];
    expect(causes.map((e) => e.message)).toContain("provider went away");
    const before = model.requests.length;
    const graph = compileMission(MISSION, { agents: registry(), model, checkpointer, deliverables: "parallel" });
    const state = await graph.invoke(null, { configurable: { thread_id: "t" } });
    const resumed = model.requests.slice(before);
    expect(resumed.map((r) => r.prompt.match(/Write only the deliverable "(\w+)"/)?.[1] ?? "other")).toEqual(["Gamma"]);
    expect(Object.keys(state.deliverables["1"]!)).toEqual(["Alpha", "Beta", "Gamma"]);
  });

  it("asks the lead for exactly the phase's deliverables through structured output in one call when told to", async () => {
    const model = new ScriptedModel([]);
    const state = await run(model);
    const lead = model.requests.find((r) => r.tool);
    expect(lead?.fields).toHaveLength(3);
    expect(Object.keys(state.deliverables["1"]!)).toEqual(["Alpha", "Beta", "Gamma"]);
    expect(state.calls["1/lead/writer"]!.usage.totalTokens).toBe(15);
  });

  it("asks again, once, for only the deliverables that came back empty", async () => {
    const model = new ScriptedModel([["deliverable_2"], []]);
    const state = await run(model);
    const asks = model.requests.filter((r) => r.tool);
    expect(asks).toHaveLength(2);
    expect(asks[1]!.fields).toEqual(["deliverable_1"]);
    expect(asks[1]!.prompt).toContain("- Beta");
    expect(state.deliverables["1"]!.Beta).toBe("text of deliverable_1");
    expect(state.calls["1/lead/writer"]!.attempts).toBe(2);
  });

  it("fails with a message naming the deliverable when it is still empty the second time", async () => {
    const model = new ScriptedModel([["deliverable_3"], ["deliverable_1"]]);
    const error = await run(model).catch((e: unknown) => e);
    expect(isCoordError(error) && error.code).toBe("RUN_DELIVERABLE_MISSING");
    expect((error as Error).message).toContain('"Gamma"');
  });

  it("writes one deliverable named after a phase that lists none", async () => {
    const bare = parseMission(missionMarkdown("Bare", ["Brief"], [{ title: "Explore", lead: "writer", deliverables: [] }]), "bare.md").mission!;
    const state = await compileMission(bare, { agents: registry(), model: new OfflineChatModel({}) }).invoke({ inputs: { brief: "Explore onboarding." } });
    expect(Object.keys(state.deliverables["1"]!)).toEqual(["Explore"]);
  });

  it("fails before any step when the mission names an unknown agent", () => {
    const r = new AgentRegistry();
    r.add(parseAgent(agentMarkdown("writer"), "writer.md").agent!);
    expect(() => compileMission(MISSION, { agents: r, model: new OfflineChatModel({}) })).toThrow(/helper/);
  });
});

describe("OfflineChatModel", () => {
  it("writes the same draft for the same prompt, says it is not an LLM, and reports usage", async () => {
    const prompt = "## Inputs\n\n### brief\n\nOnboarding takes 23 days and churn is highest in the first 90 days.\n";
    const a = await new OfflineChatModel({}).invoke(prompt);
    const b = await new OfflineChatModel({}).invoke(prompt);
    expect(a.content).toEqual(b.content);
    expect(String(a.content)).toContain("not written by an LLM");
    expect(String(a.content)).toContain("Onboarding takes 23 days");
    expect(a.usage_metadata?.total_tokens).toBeGreaterThan(0);
  });
});

/**
 * A provider with a context window: it writes long drafts, records how big every request was,
 * and, when a request offers read_deliverable, reads the first deliverable it was given in brief.
 */
class LongWriterModel extends ScriptedModel {
  sizes: number[] = [];
  read: string[] = [];
  constructor(private readonly words: number) {
    super([]);
  }
  override async _generate(messages: BaseMessage[], options: this["ParsedCallOptions"]): Promise<ChatResult> {
    this.sizes.push(messages.map((m) => (typeof m.content === "string" ? m.content : JSON.stringify(m.content))).join("\n").length);
    const tools = options.tools ?? [];
    const reader = tools.find((t) => t.function.name === "read_deliverable");
    const last = messages.at(-1)!;
    if (reader && last.getType() !== "tool") {
      const brief = /### Phase (\d+): (.+?) \(in brief/.exec(messages.map((m) => String(m.content)).join("\n"));
      const message = new AIMessageChunk({ content: "", tool_calls: [{ id: "r1", name: "read_deliverable", type: "tool_call", args: { phase: Number(brief![1]), title: brief![2] } }] });
      message.usage_metadata = { input_tokens: 1, output_tokens: 1, total_tokens: 2 };
      return { generations: [{ text: "", message }] };
    }
    if (last.getType() === "tool") this.read.push(String(last.content));
    const text = Array.from({ length: this.words }, (_, i) => `word${i}`).join(" ");
    const tool = tools.find((t) => t.function.name === "write_deliverables");
    const fields = Object.keys((tool?.function.parameters as { properties?: Record<string, unknown> } | undefined)?.properties ?? {});
    const message = tool
      ? new AIMessageChunk({ content: "", tool_calls: [{ id: "c", name: tool.function.name, type: "tool_call", args: Object.fromEntries(fields.map((f) => [f, `## Draft\n\n${text}`])) }] })
      : new AIMessageChunk({ content: `notes ${text}` });
    message.usage_metadata = { input_tokens: 10, output_tokens: 5, total_tokens: 15 };
    return { generations: [{ text: "", message }] };
  }
}

describe("a context budget", () => {
  const phases = Array.from({ length: 12 }, (_, i) => ({ title: `Step ${i + 1}`, lead: "writer", support: ["helper"], deliverables: [`Part ${i + 1}`] }));
  const LONG = parseMission(missionMarkdown("Long Haul", ["Brief"], phases), "long.md").mission!;
  const CONTEXT = 12_000;

  it("keeps every request within the model's context by giving older deliverables in brief, and lets agents read them whole", async () => {
    const model = new LongWriterModel(600);
    const graph = compileMission(LONG, { agents: registry(), model, checkpointer: new MemorySaver(), contextTokens: () => CONTEXT });
    const state = await graph.invoke({ inputs: { brief: "A short brief about onboarding." } }, { configurable: { thread_id: "long" }, recursionLimit: recursionLimitFor(LONG) });
    expect(Object.keys(state.deliverables)).toHaveLength(12);
    // 12 phases of 600-word drafts are far more than the budget holds: every request still fits.
    const budget = requestBudget(CONTEXT);
    expect(Math.max(...model.sizes) / 3.5).toBeLessThanOrEqual(budget);
    expect(model.sizes.length).toBeGreaterThan(24);
    // Digests were made once, when each deliverable was written, and kept in the state.
    expect(state.digests?.["1"]?.["Part 1"]).toMatch(/^\(digest: about 600 words\)\n\nword0 word1 /);
    // Agents given deliverables in brief read one whole through read_deliverable.
    expect(model.read.length).toBeGreaterThan(0);
    expect(model.read[0]).toContain("word599");
  });

  it("refuses a step whose inputs alone are over the budget, before any call, naming the fix", async () => {
    const model = new ScriptedModel([]);
    const graph = compileMission(LONG, { agents: registry(), model, checkpointer: new MemorySaver(), contextTokens: () => 2_000 });
    const error = await graph.invoke({ inputs: { brief: "onboarding ".repeat(5_000) } }, { configurable: { thread_id: "huge" } }).catch((e: unknown) => e);
    expect(isCoordError(error) && error.code).toBe("CONTEXT_TOO_SMALL");
    expect((error as Error).message).toMatch(/phase 1's request to helper needs about \d+ tokens with room for its answer's plan, over the \d+/);
    expect(model.requests).toHaveLength(0);
  });
});

/** Keeps every request's messages as the provider's client would get them. */
class RecordingModel extends ScriptedModel {
  seen: BaseMessage[][] = [];
  override async _generate(messages: BaseMessage[], options: this["ParsedCallOptions"]): Promise<ChatResult> {
    if (options.tools?.[0]?.function.name !== "judge_criteria") this.seen.push(messages);
    return super._generate(messages, options);
  }
}

describe("requests laid out for prompt caches", () => {
  const TWO = parseMission(missionMarkdown("Two Phase", ["Brief"], [
    { title: "Look", lead: "writer", support: ["helper"], deliverables: ["Findings", "Risks"] },
    { title: "Plan", lead: "writer", support: ["helper"], deliverables: ["Plan"] },
  ]), "two.md").mission!;
  const text = (m: BaseMessage) => (typeof m.content === "string" ? m.content : m.content.map((p) => ("text" in p ? p.text : "")).join(""));

  async function requests(modelName: string) {
    const model = new RecordingModel([]);
    await compileMission(TWO, { agents: registry(), model, modelName: () => modelName, checkpointer: new MemorySaver() }).invoke({ inputs: { brief: "A brief." } }, { configurable: { thread_id: "c" } });
    return model.seen;
  }

  it("starts every request of a phase with the same shared context, and later phases with the earlier ones' whole", async () => {
    const seen = await requests("openai:gpt-4o-mini");
    const systems = seen.map((messages) => text(messages[0]!));
    const shared = (system: string) => system.slice(0, system.indexOf("## Your role"));
    // Phase 1: the support, the lead's plan and its two deliverables all share one prefix.
    const phase1 = systems.filter((s) => !s.includes("## Earlier deliverables"));
    expect(new Set(phase1.map(shared)).size).toBe(1);
    const phase2 = systems.filter((s) => s.includes("## Earlier deliverables"));
    expect(phase2.length).toBeGreaterThan(0);
    for (const s of phase2) expect(s.startsWith(shared(phase1[0]!).trimEnd())).toBe(true);
    // The step's own ask comes last, in the human message.
    expect(seen.every((messages) => messages[1]!.getType() === "human" && text(messages[1]!).startsWith("## Phase"))).toBe(true);
  });

  it("marks the shared context for Anthropic's cache, and only for Anthropic", async () => {
    const anthropic = await requests("anthropic:claude-haiku-4-5");
    for (const messages of anthropic) {
      const blocks = messages[0]!.content as Array<{ text: string; cache_control?: unknown }>;
      expect(blocks[0]!.cache_control).toEqual({ type: "ephemeral" });
      expect(blocks[0]!.text.startsWith("# Mission: Two Phase")).toBe(true);
      expect(blocks[1]!.cache_control).toBeUndefined();
      expect(blocks[1]!.text).toContain("## Your role");
    }
    const openai = await requests("openai:gpt-4o-mini");
    expect(openai.every((messages) => typeof messages[0]!.content === "string")).toBe(true);
  });
});
