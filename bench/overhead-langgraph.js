// The hand-written LangGraph script bench/overhead.js measures coord against: the same mission's
// model calls, made the same way (per phase: the supports at once; then the lead writes a short
// plan and each deliverable by its own forced tool call, all at once; a phase with one deliverable
// gets one call), with ChatOpenAI streaming from an OpenAI-compatible server. It reads the inputs
// and writes the deliverables as markdown files; no checkpoints, hooks, run records or retries.
// Usage: node bench/overhead-langgraph.js BASE_URL PROJECT_DIR OUT_DIR
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The mission both sides run: bench/overhead.js writes it as a coord mission file. */
export const PHASES = [
  { title: "Analysis", lead: "analyst", support: ["researcher", "seller"], deliverables: ["Churn analysis", "Stall analysis"] },
  { title: "Plan", lead: "planner", support: ["analyst"], deliverables: ["Onboarding plan", "Pricing plan"] },
  { title: "Review", lead: "writer", support: ["researcher"], deliverables: ["Review notes"] },
];

async function main([baseURL, projectDir, outDir]) {
  const [{ Annotation, END, START, StateGraph }, { ChatOpenAI }, { HumanMessage, SystemMessage }, { z }] = await Promise.all([
    import("@langchain/langgraph"),
    import("@langchain/openai"),
    import("@langchain/core/messages"),
    import("zod"),
  ]);
  const model = new ChatOpenAI({ model: "gpt-4o-mini", apiKey: "sk-bench", configuration: { baseURL }, maxRetries: 0 });
  const inputsDir = join(projectDir, "inputs");
  const inputs = readdirSync(inputsDir).map((name) => `### ${name}\n\n${readFileSync(join(inputsDir, name), "utf8")}`).join("\n\n");
  const role = (agent) => `## Your role\n\nYou are ${agent}, a careful specialist.`;
  const merge = (a, b) => ({ ...a, ...b });
  const State = Annotation.Root({ notes: Annotation({ reducer: merge, default: () => ({}) }), deliverables: Annotation({ reducer: merge, default: () => ({}) }) });

  const context = (state) =>
    `# Mission: Overhead\n\n## Inputs\n\n${inputs}\n\n## Earlier deliverables\n\n${Object.entries(state.deliverables)
      .map(([title, text]) => `### ${title}\n\n${text}`)
      .join("\n\n")}`;
  const messages = (state, agent, ask) => [new SystemMessage(`${context(state)}\n${role(agent)}`), new HumanMessage(ask)];
  const write = (state, agent, ask, titles) => {
    const schema = z.object(Object.fromEntries(titles.map((t, i) => [`deliverable_${i + 1}`, z.string().describe(t)])));
    return model
      .withStructuredOutput(schema, { name: "write_deliverables", method: "functionCalling" })
      .invoke(messages(state, agent, ask))
      .then((out) => Object.fromEntries(titles.map((t, i) => [t, out[`deliverable_${i + 1}`]])));
  };

  const graph = new StateGraph(State);
  PHASES.forEach((phase, i) => {
    for (const agent of phase.support) {
      graph.addNode(`p${i}-${agent}`, async (state) => {
        const reply = await model.invoke(messages(state, agent, `Phase ${i + 1}: ${phase.title}. Write notes for ${phase.lead} on: ${phase.deliverables.join(", ")}.`));
        return { notes: { [`${i}/${agent}`]: reply.content } };
      });
    }
    graph.addNode(`p${i}-lead`, async (state) => {
      const notes = phase.support.map((s) => `### ${s}\n\n${state.notes[`${i}/${s}`]}`).join("\n\n");
      const ask = `Phase ${i + 1}: ${phase.title}. Write: ${phase.deliverables.join(", ")}.\n\n## Support notes\n\n${notes}`;
      if (phase.deliverables.length === 1) return { deliverables: await write(state, phase.lead, ask, phase.deliverables) };
      const plan = await model.invoke(messages(state, phase.lead, `${ask}\n\nFirst write a short plan.`));
      const written = await Promise.all(phase.deliverables.map((t) => write(state, phase.lead, `${ask}\n\n## Plan\n\n${plan.content}\n\nWrite only "${t}".`, [t])));
      return { deliverables: Object.assign({}, ...written) };
    });
    const supports = phase.support.map((s) => `p${i}-${s}`);
    const entry = i === 0 ? [START] : [`p${i - 1}-lead`];
    for (const from of entry) for (const s of supports) graph.addEdge(from, s);
    graph.addEdge(supports, `p${i}-lead`);
  });
  graph.addEdge(`p${PHASES.length - 1}-lead`, END);
  const result = await graph.compile().invoke({});
  mkdirSync(outDir, { recursive: true });
  for (const [title, text] of Object.entries(result.deliverables)) writeFileSync(join(outDir, `${title.toLowerCase().replace(/\W+/g, "-")}.md`), `# ${title}\n\n${text}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
