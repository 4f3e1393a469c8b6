import { join, resolve } from "node:path";
import { CoordError } from "../errors.js";
import type { Agent } from "../definitions/schemas/agent.js";
import type { Mission } from "../definitions/schemas/mission.js";
import type { Settings } from "../definitions/schemas/settings.js";
import type { Actor } from "./state.js";

/** Everything needed to continue a run from its id alone, written when the run starts. */
export interface RunSpec {
  runId: string;
  /** The mission as parsed when the run started: later edits to the file don't change a running run. */
  mission: Mission;
  /** The agents the mission uses, as they were when the run started. */
  agents: Agent[];
  inputs: Record<string, string>;
  inputSources: Record<string, string>;
  extra: Array<{ name: string; text: string }>;
  notProvided: string[];
  runDir: string;
  /** The inputs folder, if one was given: agents' file tools may read it and the project. */
  inputsDir: string | null;
  cwd: string;
  /** The run's model (agents may name their own). */
  model: string;
  /**
   * The settings the run started with, its model pinned as `models.default`, so a resume never
   * drifts to another model. MCP servers are left out: their entries may hold tokens.
   */
  settings: Settings;
  startedAt: string;
  /** Who started the run; runs started before coord recorded it have none. */
  startedBy?: Actor;
  /**
   * The run's OpenTelemetry trace, once a traced segment of it ran: every later segment (a
   * resume, on any process or worker) is a child of its first span, in the same trace.
   */
  trace?: { traceId: string; spanId: string };
}

/** The folder coord keeps a project's state in: `settings.home` (`.coord`) under the project. */
export function homeDir(cwd: string, settings: Pick<Settings, "home">): string {
  return resolve(cwd, settings.home);
}

/** Where parsed agent and mission files are kept between commands (LoadOptions.cacheDir): `.coord/cache`. */
export function parseCacheDir(cwd: string, settings: Pick<Settings, "home">): string {
  return join(homeDir(cwd, settings), "cache");
}

const RUN_ID = /^[A-Za-z0-9][\w.-]{0,127}$/;

/** Run ids become file names: plain ones only, so no id can point outside `.coord/runs`. */
export function checkRunId(runId: string): void {
  if (!RUN_ID.test(runId) || runId.includes("..")) {
    throw new CoordError("RUN_ID_INVALID", `"${runId.slice(0, 80)}" is not a valid run id`, { hint: "use letters, digits, '.', '_' and '-' only" });
  }
}

/** A sortable, readable id: the mission and the start time, plus a little randomness. */
export function newRunId(missionId: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\..*$/, "").replace("T", "-");
  // Mission ids may hold spaces or other scripts; run ids become file names, so they are plain.
  const base = missionId.replace(/[^A-Za-z0-9_.-]+/g, "-").replace(/\.{2,}/g, ".").replace(/^[^A-Za-z0-9]+/, "").slice(0, 40).replace(/[-.]+$/, "") || "run";
  return `${base}-${stamp}-${Math.random().toString(36).slice(2, 6)}`;
}
