import type { LoadOptions } from "../../../definitions/discover.js";
import { GRAPH_MODULE, initLanggraph, LANGGRAPH_JSON } from "../../../service/langgraph-project.js";
import { printJson, table, type Io } from "../io.js";

/** `coord langgraph init`: langgraph.json and the graph module, then how to start the server. */
export function langgraphInit(io: Io, load: LoadOptions, flags: { approve?: boolean; force?: boolean }): number {
  const result = initLanggraph({ ...load, cwd: io.cwd }, { ...(flags.approve && { approve: true }), ...(flags.force && { force: true }) });
  if (!io.quiet) for (const { id, reason } of result.skipped) io.err(`coord: left out ${id}: ${reason}`);
  if (io.json) {
    printJson(io, result);
    return 0;
  }
  io.out(result.wrote.length ? `wrote ${result.wrote.join(" and ")}` : `${LANGGRAPH_JSON} and ${GRAPH_MODULE} are up to date`);
  io.out(table(result.graphs.map((g) => [`  ${g.id}`, inputsLine(g.inputs)])));
  if (!result.langgraphInstalled) {
    io.err("coord: the LangGraph server loads @langchain/langgraph from the project, which has none: install coord in it first (npm install coord-missions)");
  }
  io.out("\nserve them (LangGraph Studio opens on it): npx @langchain/langgraph-cli dev");
  io.out('resume a paused thread with the decision coord takes everywhere: { "action": "approve" } or { "action": "reject", "note": "..." }');
  return 0;
}

const SHOWN_INPUTS = 4;

function inputsLine(inputs: string[]): string {
  if (inputs.length === 0) return "no inputs";
  const more = inputs.length > SHOWN_INPUTS ? ` (+${inputs.length - SHOWN_INPUTS} more)` : "";
  return `inputs: ${inputs.slice(0, SHOWN_INPUTS).join(", ")}${more}`;
}
