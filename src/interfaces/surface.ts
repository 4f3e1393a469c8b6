import { CoordError } from "../errors.js";
import type { LoadOptions } from "../definitions/discover.js";
import type { Settings } from "../definitions/schemas/settings.js";
import type { RunRecord } from "../runtime/record.js";
import { scrubPaths } from "./error-voice.js";

/** What every surface (CLI, chat, MCP, HTTP) is given once, at its start, and passes down. */
export interface SurfaceContext {
  /** The project folder. */
  cwd: string;
  load?: LoadOptions;
  /** The one settings object, resolved by the interface that started (see `loadSettings`). */
  settings: Settings;
  /** The environment with `.env` in it: providers' keys; hooks inherit it. */
  env: Record<string, string | undefined>;
}

/** Runs started by remote callers run no hooks: the callers are not the machine's user. */
export function remoteRunSettings(settings: Settings): Settings {
  return { ...settings, hooks: { ...settings.hooks, enabled: false } };
}

/**
 * Callers reaching coord over HTTP, MCP or chat name missions by id only: a path would let them
 * run (and send to a model) any markdown file on the machine, or probe which files exist.
 */
export function requireMissionId(ref: string): void {
  if (/[/\\]/.test(ref) || /\.(md|markdown)$/i.test(ref)) {
    throw new CoordError("MISSION_PATH_REFUSED", `"${ref.slice(0, 80)}" is not a mission id`, { hint: "name a mission by its id, as list_missions or /coord list show" });
  }
}

/** A run record as remote callers see it: its folder relative to the project, never a server path. */
export function remoteRecord(record: RunRecord, cwd: string): RunRecord {
  return { ...record, runDir: scrubPaths(record.runDir, cwd), ...(record.error && { error: scrubPaths(record.error, cwd) }) };
}
