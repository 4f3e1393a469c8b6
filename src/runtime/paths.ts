import { join } from "node:path";
import { writeFileAtomic } from "../files.js";
import { slugify } from "../definitions/text.js";

/**
 * Every file coord writes, in one place: the run folder a person reads (`runs/RUN_ID/`) and the
 * project's state folder coord keeps for itself (`.coord/`). Paths in the run folder are relative
 * to it, as run.json lists them.
 */
export const RUN_FILES = {
  record: "run.json",
  report: "report.md",
  log: "run.log",
} as const;

/** A deliverable's file: stable names, so a redone phase overwrites in place. */
export function deliverableFile(phase: number, position: number, title: string): string {
  return join("deliverables", `p${phase}-${String(position + 1).padStart(2, "0")}-${slugify(title).slice(0, 60) || "deliverable"}.md`);
}

/** A support agent's notes for a phase. */
export function notesFile(phase: number, agent: string): string {
  return join("notes", `p${phase}-${slugify(agent)}.md`);
}

/** Writes a deliverable at its file (relative to the run folder): a run and its export write the same bytes. */
export function writeDeliverableFile(runDir: string, file: string, text: string): void {
  writeFileAtomic(join(runDir, file), `${text.trim()}\n`);
}

/** Writes a support agent's notes for a phase; returns the file, relative to the run folder. */
export function writeNotesFile(runDir: string, phase: number, agent: string, text: string): string {
  const file = notesFile(phase, agent);
  writeFileAtomic(join(runDir, file), `${text}\n`);
  return file;
}

/** The base name of a step's task and hook files: phase, role and agent. */
export function stepFileBase(phase: number, role: string, agent: string): string {
  return `p${phase}-${role}-${agent.replace(/[^\w.-]+/g, "_")}`;
}

/** The full task text of a step, for hooks that want more than the TASK variable holds. */
export function taskFile(base: string): string {
  return join("tasks", `${base}.md`);
}

/** What a hook printed: `hooks/<step>.<pre|post>.log` or `hooks/project-<name>.log`. */
export function hookLogFile(name: string): string {
  return join("hooks", `${name}.log`);
}

/** coord's own state of a project: checkpoints, run specs and locks. */
export function checkpointFile(home: string): string {
  return join(home, "checkpoints.sqlite");
}

export function specsDir(home: string): string {
  return join(home, "runs");
}

export function specFile(home: string, runId: string): string {
  return join(specsDir(home), `${runId}.json`);
}

export function lockFile(home: string, runId: string): string {
  return join(specsDir(home), `${runId}.lock`);
}

/** Who started a run from a chat (`{ "slackUser": "U123" }`): they may approve it from there. */
export function runOwnerFile(home: string, runId: string): string {
  return join(specsDir(home), `${runId}.owner`);
}
