import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { CoordError } from "../errors.js";
import type { LoadOptions } from "../definitions/discover.js";
import { PACKAGE_NAME, PACKAGE_ROOT } from "../package.js";
import { loadAgents } from "../definitions/agent-registry.js";
import { loadMissions } from "../definitions/mission-catalog.js";
import { readSettingsFile } from "../definitions/settings.js";
import { writeFileAtomic } from "../files.js";
import { validateMissionAgents } from "../definitions/validate.js";

/** The module `coord langgraph init` writes next to langgraph.json: every mission as a graph. */
export const GRAPH_MODULE = "coord-graphs.mjs";
export const LANGGRAPH_JSON = "langgraph.json";
const HEADER = "// Written by `coord langgraph init`";

export interface LanggraphInitOptions {
  /** Pause each thread after every phase for a decision (the project's `approve` setting otherwise). */
  approve?: boolean;
  /** Replace a graph module that coord did not write. */
  force?: boolean;
}

export interface LanggraphGraph {
  /** The graph id in langgraph.json: the mission id, which is the assistant a client names. */
  id: string;
  exportName: string;
  title: string;
  inputs: string[];
}

export interface LanggraphInit {
  graphs: LanggraphGraph[];
  /**
   * Missions left out, and why: a graph whose agents are missing would stop the server starting,
   * and a graph of your own under a mission's id in langgraph.json is kept.
   */
  skipped: Array<{ id: string; reason: string }>;
  /** The files written (unchanged ones are not). */
  wrote: string[];
  /**
   * Whether the project resolves @langchain/langgraph itself, as the LangGraph server requires
   * (it loads the graphs' LangGraph from the project): true where coord is installed in it.
   */
  langgraphInstalled: boolean;
}

/**
 * Writes `langgraph.json` and `coord-graphs.mjs` in the project, so `npx @langchain/langgraph-cli
 * dev`, LangGraph Studio or an Agent Server serve every mission of the project as a graph.
 * langgraph.json keeps the graphs and settings that are not coord's; running it again after a
 * mission is added or removed brings both files up to date.
 */
export function initLanggraph(load: LoadOptions & { cwd: string }, options: LanggraphInitOptions = {}): LanggraphInit {
  const { cwd } = load;
  const moduleFile = join(cwd, GRAPH_MODULE);
  const configFile = join(cwd, LANGGRAPH_JSON);
  const currentConfig = existsSync(configFile) ? readSettingsFile(configFile) : undefined;
  const config = parseConfig(currentConfig);
  const { graphs, skipped } = missionGraphs(load, foreignGraphs(config));
  const moduleText = graphModule(graphs, coordEntry(cwd), options);
  const current = existsSync(moduleFile) ? readSettingsFile(moduleFile) : undefined;
  if (current !== undefined && !current.startsWith(HEADER) && !options.force) {
    throw new CoordError("USAGE", "exists and was not written by coord", { file: GRAPH_MODULE, hint: "pass --force to replace it, or move it away" });
  }
  const configText = langgraphJson(config, graphs, existsSync(join(cwd, ".env")));
  const wrote: string[] = [];
  // Each through a temporary file: two inits at once, or one killed, never leave half a file.
  if (current !== moduleText) {
    write(moduleFile, GRAPH_MODULE, moduleText);
    wrote.push(GRAPH_MODULE);
  }
  if (configText !== currentConfig) {
    write(configFile, LANGGRAPH_JSON, configText);
    wrote.push(LANGGRAPH_JSON);
  }
  return { graphs, skipped, wrote, langgraphInstalled: resolvesFrom(cwd, "@langchain/langgraph") };
}

/** A file written through a temporary one; a project coord cannot write in says so in one line. */
function write(file: string, name: string, text: string): void {
  try {
    writeFileAtomic(file, text);
  } catch (cause) {
    throw new CoordError("FILE_UNWRITABLE", `cannot write: ${(cause as Error).message}`, { file: name, hint: "run it where you may write the project's files", cause });
  }
}

function resolvesFrom(cwd: string, specifier: string): boolean {
  try {
    createRequire(join(cwd, "package.json")).resolve(specifier);
    return true;
  } catch {
    return false;
  }
}

/** Every mission that can be served, with an export name each; the others with why not. */
function missionGraphs(load: LoadOptions, foreign: Set<string>): { graphs: LanggraphGraph[]; skipped: LanggraphInit["skipped"] } {
  const catalog = loadMissions(load);
  const agents = loadAgents(load);
  const graphs: LanggraphGraph[] = [];
  const skipped: LanggraphInit["skipped"] = [];
  const taken = new Set(MODULE_NAMES);
  for (const mission of catalog.missions) {
    if (foreign.has(mission.id)) {
      skipped.push({ id: mission.id, reason: `${LANGGRAPH_JSON} serves a graph of its own under that id, which is kept` });
      continue;
    }
    const unknown = validateMissionAgents(mission, agents);
    if (unknown.length > 0) {
      skipped.push({ id: mission.id, reason: unknown.map((d) => d.message).join("; ") });
      continue;
    }
    graphs.push({ id: mission.id, exportName: exportName(mission.id, taken), title: mission.title, inputs: mission.inputs.map((i) => i.id) });
  }
  return { graphs, skipped };
}

// Names an export may not take: the module's own bindings, and JavaScript's reserved words.
const MODULE_NAMES = [
  "cwd", "settings", "missionGraph", "fileURLToPath", "default", "arguments", "eval", "await", "break", "case", "catch", "class",
  "const", "continue", "debugger", "delete", "do", "else", "enum", "export", "extends", "false", "finally", "for", "function",
  "if", "implements", "import", "in", "instanceof", "interface", "let", "new", "null", "package", "private", "protected",
  "public", "return", "static", "super", "switch", "this", "throw", "true", "try", "typeof", "var", "void", "while", "with", "yield",
];

/** `sales-marketing-alignment` -> `sales_marketing_alignment`: a JavaScript name, unique in the module. */
function exportName(id: string, taken: Set<string>): string {
  const base = id.replace(/[^A-Za-z0-9_$]/g, "_").replace(/^(?=\d)/, "_") || "mission";
  let name = base;
  for (let n = 2; taken.has(name); n++) name = `${base}_${n}`;
  taken.add(name);
  return name;
}

/**
 * How the graph module imports coord: by package name where the project can resolve it (coord
 * installed in the project), else by the file of this copy of coord (run through npx or a global
 * install), which the server's loader (tsx) imports as it is, TypeScript sources included.
 */
function coordEntry(cwd: string): string {
  if (resolvesFrom(cwd, PACKAGE_NAME)) return PACKAGE_NAME;
  const built = join(PACKAGE_ROOT, "dist", "index.js");
  const source = join(PACKAGE_ROOT, "src", "index.ts");
  const ownFile = import.meta.url.endsWith(".ts") && existsSync(source) ? source : built;
  return pathToFileURL(ownFile).href;
}

function graphModule(graphs: LanggraphGraph[], entry: string, options: LanggraphInitOptions): string {
  const settings = options.approve ? "{ approve: true }" : "{}";
  const exports = graphs.map((g) => `/** ${g.title.replace(/\*\//g, "* /")} */\nexport const ${g.exportName} = missionGraph(${JSON.stringify(g.id)}, { cwd, settings });`);
  return [
    `${HEADER}: the missions of this project as LangGraph graphs, for`,
    "// `npx @langchain/langgraph-cli dev` (LangGraph Studio) or a LangGraph Agent Server. Run it again",
    "// after adding or removing a mission. Agents, models and keys are read as `coord run` reads them:",
    "// coord.config.json, .env and the environment of the server.",
    'import { fileURLToPath } from "node:url";',
    `import { missionGraph } from ${JSON.stringify(entry)};`,
    "",
    "const cwd = fileURLToPath(new URL(\".\", import.meta.url));",
    `const settings = ${settings};`,
    "",
    ...exports,
    "",
  ].join("\n");
}

interface LanggraphConfig {
  graphs?: Record<string, string>;
  [key: string]: unknown;
}

function parseConfig(text: string | undefined): LanggraphConfig {
  if (text === undefined) return {};
  let config: unknown;
  try {
    config = JSON.parse(text.replace(/^\ufeff/, ""));
  } catch (cause) {
    throw new CoordError("CONFIG_INVALID", `not valid JSON: ${(cause as Error).message}`, { file: LANGGRAPH_JSON, hint: "fix its JSON syntax, then run coord langgraph init again", cause });
  }
  const graphs = (config as LanggraphConfig | null)?.graphs;
  if (!config || typeof config !== "object" || Array.isArray(config) || (graphs !== undefined && (typeof graphs !== "object" || graphs === null || Array.isArray(graphs)))) {
    throw new CoordError("CONFIG_INVALID", 'is not { "graphs": { ... } }', { file: LANGGRAPH_JSON, hint: "fix the file, then run coord langgraph init again" });
  }
  return config as LanggraphConfig;
}

/** Whether a langgraph.json graph is one of coord's: in its module, written `./` or not. */
const isOwnGraph = (spec: unknown) => String(spec).replace(/^\.\//, "").startsWith(`${GRAPH_MODULE}:`);

/** Graph ids of langgraph.json that are not coord's. */
function foreignGraphs(config: LanggraphConfig): Set<string> {
  return new Set(Object.entries(config.graphs ?? {}).flatMap(([id, spec]) => (isOwnGraph(spec) ? [] : [id])));
}

/** langgraph.json with coord's graphs replaced by the current ones; everything else kept. */
function langgraphJson(config: LanggraphConfig, graphs: LanggraphGraph[], hasDotenv: boolean): string {
  const own = `./${GRAPH_MODULE}:`;
  const others = Object.fromEntries(Object.entries(config.graphs ?? {}).filter(([, spec]) => !isOwnGraph(spec)));
  const next: LanggraphConfig = {
    node_version: "20",
    ...(hasDotenv && { env: ".env" }),
    ...config,
    graphs: { ...others, ...Object.fromEntries(graphs.map((g) => [g.id, `${own}${g.exportName}`])) },
  };
  return `${JSON.stringify(next, null, 2)}\n`;
}
