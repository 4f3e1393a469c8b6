import type { Callbacks } from "@langchain/core/callbacks/manager";
import { loadAgents, type AgentRegistry } from "../definitions/agent-registry.js";
import type { LoadOptions } from "../definitions/discover.js";
import type { SettingsInput } from "../definitions/schemas/settings.js";
import { loadSettings } from "../definitions/settings.js";
import { compileMission, type CompiledMission } from "./compile.js";
import type { Env } from "./events.js";
import { compileOptions } from "./execute.js";
import { agentsOf, requireKnownAgents, resolveRunModels, validMission } from "./prepare.js";
import { parseCacheDir } from "./store.js";

export interface MissionGraphOptions extends LoadOptions {
  /** Settings over the project's (`coord.config.json`, `.env`, the environment): `{ approve: true }`. */
  settings?: SettingsInput;
  /** Where providers' keys are read (default: process.env, with the project's `.env` under it). */
  env?: Env;
  /** LangChain callbacks for every model and tool call, tagged as in a run. */
  callbacks?: Callbacks;
}

// A server loads every mission of a project at once (coord-graphs.mjs exports one each): the
// project's agents are loaded once for all of them, per set of load options.
const projects = new Map<string, AgentRegistry>();

function agentsOfProject(load: LoadOptions): AgentRegistry {
  const key = JSON.stringify([load.cwd, load.agentDirs, load.builtin, load.cacheDir]);
  let registry = projects.get(key);
  if (!registry) projects.set(key, (registry = loadAgents(load)));
  return registry;
}

/**
 * A project's mission as a compiled LangGraph graph for a LangGraph server: the module that
 * `coord langgraph init` writes exports one per mission, so `npx @langchain/langgraph-cli dev`,
 * LangGraph Studio or a self-hosted Agent Server serve them. The server brings the checkpointer,
 * threads and runs; the graph brings the mission's agents and models, resolved as `coord run`
 * resolves them, and its inputs as its input schema. An approval pauses the thread with the
 * phase's interrupt; it is resumed with the decision every other surface takes:
 * `{ action: "approve" }` or `{ action: "reject", note }`.
 *
 * What a run of `coord run` adds around the graph is not here: the run folder and its report,
 * agent hooks, MCP servers and the run's own traces. The server keeps the state instead.
 */
export async function missionGraph(ref: string, options: MissionGraphOptions = {}): Promise<CompiledMission> {
  const cwd = options.cwd ?? process.cwd();
  const { settings, env } = loadSettings(cwd, options.env ?? process.env, options.settings ?? {});
  // Through the project's parse cache, as the CLI reads it.
  const load: LoadOptions = { cacheDir: parseCacheDir(cwd, settings), ...options, cwd };
  const mission = validMission(ref, load);
  const registry = agentsOfProject(load);
  requireKnownAgents(mission, registry, ref);
  const agents = agentsOf(mission, registry);
  const models = await resolveRunModels(mission, agents, settings, env);
  const compile = compileOptions({ mission, agents, settings, cwd, inputsDir: null }, models);
  return compileMission(mission, { ...compile, ...(options.callbacks && { callbacks: options.callbacks }) });
}
