import { join } from "node:path";
import { CoordError, diagnostic, type Diagnostic } from "../errors.js";
import { parseAgent, type AgentParse } from "./agent.js";
import { AGENT_PARSES } from "./agent-cache.js";
import { ParseCache } from "./parse-cache.js";
import { PACKAGE_ROOT } from "../package.js";
import { MAX_DEFINITION_BYTES, readText, searchRoots, type LoadOptions, type SearchRoot } from "./discover.js";
import { walkFiles } from "../files.js";
import type { Agent } from "./schemas/agent.js";
import { FirstWins } from "./first-wins.js";
import { closestNames } from "./suggest.js";
import { slugify } from "./text.js";

export const AGENT_FILE_PATTERN = /\.(md|markdown|ya?ml)$/i;

/** Agents by name, in precedence order, with everything noticed while loading them. */
export class AgentRegistry extends FirstWins<Agent> {
  private readonly bySlug = new Map<string, Agent>();

  constructor() {
    super(
      (agent) => agent.name,
      (agent, earlier) =>
        diagnostic("AGENT_DUPLICATE", `agent "${agent.name}" is also defined in ${earlier.file}, which wins`, {
          file: agent.file,
          line: agent.line,
          hint: "rename one of the two agents, or remove the copy",
        }),
    );
  }

  get agents(): Agent[] {
    return this.items;
  }

  override add(agent: Agent): Agent {
    const held = super.add(agent);
    const slug = slugify(agent.name);
    if (held === agent && !this.bySlug.has(slug)) this.bySlug.set(slug, agent);
    return held;
  }

  /** By exact name, then by slug, so `@load-balancing-coordinator` finds "Load Balancing Coordinator". */
  get(ref: string): Agent | undefined {
    return this.byKey.get(ref) ?? this.bySlug.get(slugify(ref));
  }

  names(): string[] {
    return this.agents.map((a) => a.name);
  }

  /** The agent, or an error that suggests the closest names. */
  require(ref: string): Agent {
    const agent = this.get(ref);
    if (agent) return agent;
    const close = closestNames(ref, this.names());
    throw new CoordError("AGENT_NOT_FOUND", `no agent named "${ref}"${close.length ? ` (did you mean ${close.join(", ")}?)` : ""}`, {
      hint: "run `coord agents list` to see every agent, or add a folder with --agents DIR",
    });
  }
}

export function agentSearchRoots(options: LoadOptions = {}): SearchRoot[] {
  const defaults: Array<SearchRoot> = [
    { dir: "agents", origin: "project" },
    { dir: join(".claude", "agents"), origin: "claude" },
  ];
  if (options.builtin !== false) defaults.push({ dir: join(PACKAGE_ROOT, "agents"), origin: "builtin" });
  return searchRoots(options.agentDirs ?? [], defaults, options.cwd ?? process.cwd());
}

/** One file's parse, or why it was not read. */
function parseFile(file: string): AgentParse | Diagnostic {
  const text = readText(file);
  return typeof text === "string" ? parseAgent(text, file) : text;
}

/**
 * Reads agent files into a registry; files that are not agents are skipped quietly. With a cache,
 * files unchanged since it was written are not parsed again (the registry is the same either way).
 */
export function loadAgentFiles(files: string[], registry = new AgentRegistry(), cache?: ParseCache<AgentParse>): AgentRegistry {
  for (const file of files) {
    const parsed = cache ? cache.parse(file, MAX_DEFINITION_BYTES, readText, parseAgent) : parseFile(file);
    if (!("diagnostics" in parsed)) {
      registry.diagnostics.push(parsed);
      continue;
    }
    registry.diagnostics.push(...parsed.diagnostics);
    if (parsed.agent) registry.add(parsed.agent);
  }
  return registry;
}

/** Agent files visible from `cwd`, in precedence order: --agents folders, ./agents, ./.claude/agents, then coord's own. */
export function agentFiles(options: LoadOptions = {}): string[] {
  return agentSearchRoots(options).flatMap((root) => walkFiles(root.dir, (name) => AGENT_FILE_PATTERN.test(name)));
}

/**
 * Every agent visible from `cwd`: --agents folders, ./agents, ./.claude/agents, then coord's own.
 * With `cacheDir`, parses are kept there between loads (see parse-cache.ts).
 */
export function loadAgents(options: LoadOptions = {}): AgentRegistry {
  const files = agentFiles(options);
  if (!options.cacheDir) return loadAgentFiles(files);
  const cache = ParseCache.open(options.cacheDir, AGENT_PARSES);
  const registry = loadAgentFiles(files, new AgentRegistry(), cache);
  cache.save();
  return registry;
}
