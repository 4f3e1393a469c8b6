import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { CoordError, diagnostic, type Diagnostic } from "../errors.js";
import { parseAgent } from "./agent.js";
import { PACKAGE_ROOT, isDirectory, searchRoots, walkFiles, type SearchRoot } from "./discover.js";
import { missionIdFromPath, parseMission } from "./mission.js";
import type { Agent } from "./schemas/agent.js";
import type { Mission } from "./schemas/mission.js";
import { closestNames } from "./suggest.js";
import { slugify } from "./text.js";

export interface LoadOptions {
  /** `--agents DIR` folders, searched first, in order. */
  agentDirs?: string[];
  /** `--missions DIR` folders, searched first, in order. */
  missionDirs?: string[];
  /** Where ./agents, ./.claude/agents and ./missions are looked for. Default: process.cwd(). */
  cwd?: string;
  /** Include the agents and missions that ship with coord. Default: true. */
  builtin?: boolean;
}

const AGENT_FILE = /\.(md|markdown|ya?ml)$/i;
const MISSION_FILE = /\.(md|markdown)$/i;

function readText(file: string): string | Diagnostic {
  try {
    return readFileSync(file, "utf8");
  } catch (cause) {
    return diagnostic("FILE_UNREADABLE", `cannot read file: ${(cause as Error).message}`, {
      file,
      hint: "check the file exists and is readable",
    });
  }
}

/** Agents by name, in precedence order, with everything noticed while loading them. */
export class AgentRegistry {
  readonly agents: Agent[] = [];
  readonly diagnostics: Diagnostic[] = [];
  private readonly byName = new Map<string, Agent>();
  private readonly bySlug = new Map<string, Agent>();

  /** Adds an agent unless an earlier one has its name; returns the agent that holds the name. */
  add(agent: Agent): Agent {
    const earlier = this.byName.get(agent.name);
    if (earlier) {
      this.diagnostics.push(
        diagnostic("AGENT_DUPLICATE", `agent "${agent.name}" is also defined in ${earlier.file}, which wins`, {
          file: agent.file,
          line: agent.line,
          hint: "rename one of the two agents, or remove the copy",
        }),
      );
      return earlier;
    }
    this.agents.push(agent);
    this.byName.set(agent.name, agent);
    const slug = slugify(agent.name);
    if (!this.bySlug.has(slug)) this.bySlug.set(slug, agent);
    return agent;
  }

  /** By exact name, then by slug, so `@load-balancing-coordinator` finds "Load Balancing Coordinator". */
  get(ref: string): Agent | undefined {
    return this.byName.get(ref) ?? this.bySlug.get(slugify(ref));
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

export function missionSearchRoots(options: LoadOptions = {}): SearchRoot[] {
  const defaults: Array<SearchRoot> = [{ dir: "missions", origin: "project" }];
  if (options.builtin !== false) defaults.push({ dir: join(PACKAGE_ROOT, "missions"), origin: "builtin" });
  return searchRoots(options.missionDirs ?? [], defaults, options.cwd ?? process.cwd());
}

/** Reads agent files into a registry; files that are not agents are skipped quietly. */
export function loadAgentFiles(files: string[], registry = new AgentRegistry()): AgentRegistry {
  for (const file of files) {
    const text = readText(file);
    if (typeof text !== "string") {
      registry.diagnostics.push(text);
      continue;
    }
    const parsed = parseAgent(text, file);
    registry.diagnostics.push(...parsed.diagnostics);
    if (parsed.agent) registry.add(parsed.agent);
  }
  return registry;
}

/** Every agent visible from `cwd`: --agents folders, ./agents, ./.claude/agents, then coord's own. */
export function loadAgents(options: LoadOptions = {}): AgentRegistry {
  const files = agentSearchRoots(options).flatMap((root) => walkFiles(root.dir, (name) => AGENT_FILE.test(name)));
  return loadAgentFiles(files);
}

/** Expands paths given on a command line (files or folders) into files; unknown paths are errors. */
export function expandPaths(paths: string[], accept: RegExp, cwd = process.cwd()): { files: string[]; diagnostics: Diagnostic[] } {
  const files: string[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const path of paths) {
    const full = resolve(cwd, path);
    if (!existsSync(full)) {
      diagnostics.push(diagnostic("PATH_NOT_FOUND", `no such file or folder: ${path}`, { hint: "check the path" }));
    } else if (isDirectory(full)) files.push(...walkFiles(full, (name) => accept.test(name)));
    else files.push(full);
  }
  return { files, diagnostics };
}

export const AGENT_FILE_PATTERN = AGENT_FILE;
export const MISSION_FILE_PATTERN = MISSION_FILE;

/** Missions by id, in precedence order. */
export class MissionCatalog {
  readonly missions: Mission[] = [];
  readonly diagnostics: Diagnostic[] = [];
  private readonly byId = new Map<string, Mission>();

  add(mission: Mission): void {
    const earlier = this.byId.get(mission.id);
    if (earlier) {
      this.diagnostics.push(
        diagnostic("MISSION_DUPLICATE", `mission "${mission.id}" is also defined in ${earlier.file}, which wins`, {
          file: mission.file,
          line: 1,
          hint: "rename one of the two files",
        }),
      );
      return;
    }
    this.missions.push(mission);
    this.byId.set(mission.id, mission);
  }

  get(id: string): Mission | undefined {
    return this.byId.get(id);
  }
}

/** Parses one mission file; diagnostics include why it is not a mission. */
export function loadMissionFile(file: string): { mission?: Mission; diagnostics: Diagnostic[] } {
  const text = readText(file);
  if (typeof text !== "string") return { diagnostics: [text] };
  return parseMission(text, file);
}

function missionFiles(options: LoadOptions): string[] {
  return missionSearchRoots(options).flatMap((root) =>
    walkFiles(root.dir, (name) => MISSION_FILE.test(name) && !/^(readme|changelog|license)\./i.test(name)),
  );
}

/** Every mission visible from `cwd`. Markdown that holds no mission is skipped quietly. */
export function loadMissions(options: LoadOptions = {}): MissionCatalog {
  const catalog = new MissionCatalog();
  for (const file of missionFiles(options)) {
    const parsed = loadMissionFile(file);
    if (!parsed.mission || parsed.mission.phases.length === 0) continue;
    catalog.diagnostics.push(...parsed.diagnostics);
    catalog.add(parsed.mission);
  }
  return catalog;
}

/**
 * A mission named by path or by id. Only the file with that id is parsed, so naming a mission
 * does not cost parsing all of them.
 */
export function loadMission(ref: string, options: LoadOptions = {}): { mission: Mission; diagnostics: Diagnostic[] } {
  const cwd = options.cwd ?? process.cwd();
  const asPath = resolve(cwd, ref);
  const looksLikePath = /[/\\]|\.(md|markdown)$/i.test(ref);
  const candidates = looksLikePath && existsSync(asPath) && statSync(asPath).isFile()
    ? [asPath]
    : missionFiles(options).filter((file) => missionIdFromPath(file) === ref);
  for (const file of candidates) {
    const parsed = loadMissionFile(file);
    if (parsed.mission) return { mission: parsed.mission, diagnostics: parsed.diagnostics };
    const error = parsed.diagnostics.find((d) => d.severity === "error");
    if (error) throw CoordError.from(error);
  }
  const known = missionFiles(options).map(missionIdFromPath);
  const close = closestNames(ref, known);
  throw new CoordError(
    "MISSION_NOT_FOUND",
    `no mission named "${ref}"${close.length ? ` (did you mean ${close.join(", ")}?)` : ""}`,
    { hint: "run `coord missions list`, pass a path to the mission file, or add a folder with --missions DIR" },
  );
}
