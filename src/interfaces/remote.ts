import { CoordError } from "../errors.js";

/**
 * Callers reaching coord over HTTP, MCP or chat name missions by id only: a path would let them
 * run (and send to a model) any markdown file on the machine, or probe which files exist.
 */
export function requireMissionId(ref: string): void {
  if (/[/\\]/.test(ref) || /\.(md|markdown)$/i.test(ref)) {
    throw new CoordError("MISSION_NOT_FOUND", `"${ref.slice(0, 80)}" is not a mission id`, { hint: "name a mission by its id, as list_missions or /coord list show" });
  }
}
