import { BaseChatModel, type BaseChatModelCallOptions, type BindToolsInput } from "@langchain/core/language_models/chat_models";
import { AIMessageChunk, type BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import { convertToOpenAITool } from "@langchain/core/utils/function_calling";
import { MemorySaver } from "@langchain/langgraph";
import { describe, expect, it } from "vitest";
import { AgentRegistry } from "../../src/definitions/agent-registry.js";
import { parseAgent } from "../../src/definitions/agent.js";
import { parseMission } from "../../src/definitions/mission.js";
import { INPUTS_NODE, planMission } from "../../src/definitions/plan.js";
import { missionToMermaid } from "../../src/definitions/mermaid.js";
import { isCoordError } from "../../src/errors.js";
import { compileMission } from "../../src/runtime/compile.js";
import { OfflineChatModel } from "../../src/models/offline.js";
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

const run = (model: BaseChatModel) =>
  compileMission(MISSION, { agents: registry(), model, checkpointer: new MemorySaver() }).invoke(
    { inputs: { brief: "A short brief about onboarding." } },
    { configurable: { thread_id: "t" } },
  );

describe("compileMission", () => {
  it("names its nodes as the plan does, so --graph draws the compiled graph", () => {
    const graph = compileMission(MISSION, { agents: registry(), model: new OfflineChatModel({}), approve: true });
    const planned = planMission(MISSION, { approve: true }).flatMap((p) => [...p.supports, p.lead, ...(p.review ? [p.review] : [])].map((s) => s.id));
    expect(Object.keys(graph.nodes).filter((n) => n !== "__start__").sort()).toEqual([INPUTS_NODE, ...planned].sort());
    expect(missionToMermaid(MISSION, { approve: true })).toContain(`${INPUTS_NODE}[/`);
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

  it("asks the lead for exactly the phase's deliverables through structured output", async () => {
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
