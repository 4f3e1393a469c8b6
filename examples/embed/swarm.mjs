// Embedding a coord mission in a larger LangGraph swarm, offline. Run: node examples/embed/swarm.mjs
// (in a project: npm install coord-missions; here the package imports itself by name, from dist/).
// 1. as a subgraph: the compiled mission is a node of a parent graph that shares its state keys;
// 2. with approval: the subgraph pauses after each phase and the parent resumes it with a decision;
// 3. as a tool: a supervisor hands the mission a tool call and a ToolNode runs it.
// With a real model, the supervisor would be createAgent({ model, tools: [alignmentTool] }) from
// "langchain", or @langchain/langgraph-supervisor; here it is a plain node so the example runs offline.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { AIMessage, ToolMessage } from "@langchain/core/messages";
import { Annotation, Command, END, MemorySaver, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import { ToolNode } from "@langchain/langgraph/prebuilt";
import { MissionState, OfflineChatModel, compileMission, loadAgents, loadMission, missionTool, recursionLimitFor } from "coord-missions";

const here = dirname(fileURLToPath(import.meta.url));
const cwd = join(here, "..", "..");
// By id: ./missions, then the shipped ones (add `missionDirs: [...]`, `agentDirs: [...]` for your own folders).
const { mission } = loadMission("sales-marketing-alignment", { cwd });
const agents = loadAgents({ cwd });
const model = new OfflineChatModel({});
const inputs = Object.fromEntries(mission.inputs.map((i) => [i.id, readFileSync(join(here, "..", "acme", `${i.id}.md`), "utf8")]));

// 1. Subgraph: the parent state extends the mission's, so the mission reads `inputs` and writes
// `deliverables` straight into it; the parent adds what it needs (here a summary).
const Parent = Annotation.Root({ ...MissionState.spec, summary: Annotation() });
const parent = new StateGraph(Parent)
  .addNode("alignment", compileMission(mission, { agents, model }))
  .addNode("summarize", (state) => {
    const titles = Object.values(state.deliverables).flatMap((byTitle) => Object.keys(byTitle));
    return { summary: `${titles.length} deliverables, first: ${titles[0]}` };
  })
  .addEdge(START, "alignment")
  .addEdge("alignment", "summarize")
  .addEdge("summarize", END)
  .compile({ checkpointer: new MemorySaver() });
const result = await parent.invoke({ inputs }, { configurable: { thread_id: "embed-demo" }, recursionLimit: recursionLimitFor(mission) });
console.log(`subgraph: ${result.summary}`);

// 2. Approval: with `approve: true` the mission interrupts after each phase; the parent (which has
// the checkpointer) returns `__interrupt__`, and a Command({ resume: ReviewDecision }) continues.
const reviewed = new StateGraph(MissionState)
  .addNode("alignment", compileMission(mission, { agents, model, approve: true }))
  .addEdge(START, "alignment")
  .addEdge("alignment", END)
  .compile({ checkpointer: new MemorySaver() });
const thread = { configurable: { thread_id: "embed-review" }, recursionLimit: recursionLimitFor(mission) };
let review = await reviewed.invoke({ inputs }, thread);
const decisions = [];
while (review.__interrupt__?.length) {
  const { phase } = review.__interrupt__[0].value;
  // A reviewer would read state.deliverables[phase] here; this one sends phase 1 back once.
  const decision = phase === 1 && !decisions.includes("reject") ? { action: "reject", note: "Name an owner for every handoff." } : { action: "approve" };
  decisions.push(decision.action);
  review = await reviewed.invoke(new Command({ resume: decision }), thread);
}
console.log(`approval: ${decisions.join(", ")} -> ${Object.keys(review.reviews).length} phases reviewed`);

// 3. Tool: the mission's inputs are the tool's zod schema; the answer is the deliverables as markdown.
const alignmentTool = missionTool(mission, { agents, model });
const supervisor = new StateGraph(MessagesAnnotation)
  .addNode("supervisor", (state) => {
    const last = state.messages.at(-1);
    if (last instanceof ToolMessage) return { messages: [new AIMessage(`The alignment team delivered ${last.content.split("\n## ").length} sections.`)] };
    return { messages: [new AIMessage({ content: "", tool_calls: [{ id: "call_alignment", name: alignmentTool.name, args: inputs, type: "tool_call" }] })] };
  })
  .addNode("tools", new ToolNode([alignmentTool]))
  .addEdge(START, "supervisor")
  .addConditionalEdges("supervisor", (state) => (state.messages.at(-1)?.tool_calls?.length ? "tools" : END), ["tools", END])
  .addEdge("tools", "supervisor")
  .compile();
const chat = await supervisor.invoke({ messages: [{ role: "user", content: "Align sales and marketing at Acme." }] });
console.log(`tool: ${alignmentTool.name} -> ${chat.messages.at(-1).content}`);
