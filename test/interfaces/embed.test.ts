import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { MemorySaver } from "@langchain/langgraph";
import { describe, expect, it } from "vitest";
import { loadAgents, loadMission, missionTool, OfflineChatModel, compileMission } from "../../src/index.js";
import { REPO, cliEnv } from "../helpers/cli.js";

const { mission } = loadMission("sales-marketing-alignment", { cwd: REPO });
const deliverableCount = mission.phases.reduce((n, p) => n + p.deliverables.length, 0);

describe("embedding", () => {
  it("runs examples/embed offline with one command: the mission as a subgraph and as a tool", () => {
    // The example imports the package by name, which resolves to dist/: the global setup built it from src.
    const r = spawnSync(process.execPath, [join(REPO, "examples", "embed", "swarm.mjs")], { cwd: REPO, env: cliEnv(), encoding: "utf8", timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`subgraph: ${deliverableCount} deliverables, first: ${mission.phases[0]!.deliverables[0]}`);
    expect(r.stdout).toContain(`tool: sales_marketing_alignment -> The alignment team delivered ${deliverableCount} sections.`);
  });

  it("gives the mission tool a schema of the mission's inputs, required where the mission says", () => {
    const t = missionTool(mission, { agents: loadAgents({ cwd: REPO }), model: new OfflineChatModel({}) });
    const shape = (t.schema as unknown as { shape: Record<string, { isOptional(): boolean }> }).shape;
    expect(Object.keys(shape)).toEqual(mission.inputs.map((i) => i.id));
    expect(Object.values(shape).map((f) => f.isOptional())).toEqual(mission.inputs.map((i) => !i.required));
  });

  it("compiles with a plain list of agents and a checkpointer, and resumes a thread", async () => {
    const agents = loadAgents({ cwd: REPO }).agents;
    const graph = compileMission(mission, { agents, model: new OfflineChatModel({}), checkpointer: new MemorySaver() });
    const inputs = Object.fromEntries(mission.inputs.map((i) => [i.id, `${i.title}: details for the test.`]));
    const config = { configurable: { thread_id: "embed" }, recursionLimit: 100 };
    const state = await graph.invoke({ inputs }, config);
    expect(Object.values(state.deliverables).flatMap((d) => Object.keys(d))).toHaveLength(deliverableCount);
    expect((await graph.getState(config)).next).toEqual([]);
  });
});

describe("missionTool with createAgent over a real HTTP model", () => {
  it("is called by a langchain agent whose model decides to use it", async () => {
    const { startFakeOpenAI } = await import("../helpers/openai-server.js");
    const { createAgent } = await import("langchain");
    const { ChatOpenAI } = await import("@langchain/openai");
    const server = await startFakeOpenAI();
    try {
      const inputs = Object.fromEntries(mission.inputs.map((i) => [i.id, `${i.title}: details.`]));
      // The supervisor's model asks for the mission tool once, then answers.
      server.toolCalls = (body) => (body.tools?.some((t) => t.function.name === "sales_marketing_alignment") && !body.messages.some((m) => m.role === "tool") ? [{ name: "sales_marketing_alignment", args: inputs }] : undefined);
      const tool = missionTool(mission, { agents: loadAgents({ cwd: REPO }), model: new OfflineChatModel({}) });
      const agent = createAgent({ model: new ChatOpenAI({ model: "gpt-4o-mini", apiKey: "sk-test", configuration: { baseURL: server.url } }), tools: [tool] });
      const result = await agent.invoke({ messages: [{ role: "user", content: "Align sales and marketing." }] });
      const toolMessage = result.messages.find((m) => m.getType() === "tool");
      expect(String(toolMessage?.content)).toContain(`## Phase 1: ${mission.phases[0]!.deliverables[0]}`);
      expect(server.requests.at(-1)!.body.messages.some((m) => m.role === "tool")).toBe(true);
    } finally {
      await server.close();
    }
  });
});
