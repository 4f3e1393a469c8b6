import { existsSync, readdirSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { CoordError } from "../errors.js";
import { writeRunFiles } from "./execute.js";
import { RUN_FILES, writeDeliverableFile, writeNotesFile } from "./paths.js";
import type { RunRecord } from "./record.js";
import { readSavedRun } from "./saved-run.js";
import type { RunStateValue } from "./state.js";
import { loadSpec } from "./store/specs.js";
import type { RunStore } from "./store/run-store.js";

export interface ExportOptions {
  /** The folder to write (relative paths are from the process's folder); empty or missing unless `force`. */
  outDir: string;
  /** Write into a folder that holds files: coord's own files are replaced, others are left. */
  force?: boolean;
}

export interface ExportedRun {
  /** run.json as written in the export: `runDir` is the export's folder. */
  record: RunRecord;
  dir: string;
  /** The files written, relative to `dir`. */
  files: string[];
}

/**
 * Writes a run's folder anew from what coord keeps of it (its spec and its last checkpoint):
 * report.md, run.json, deliverables/ and notes/. The run folder itself is never read, so this
 * works after it was deleted. Logs, hook logs and task files are not kept, so not written.
 */
export async function exportRun(store: RunStore, runId: string, options: ExportOptions): Promise<ExportedRun> {
  const spec = await loadSpec(store, runId);
  const dir = resolve(options.outDir);
  checkOutDir(dir, !!options.force, dir === resolve(spec.runDir));
  const { state, stop } = await readSavedRun(store, spec);
  const record = writeRunFiles({ ...spec, runDir: dir }, state, stop);
  const files = [RUN_FILES.report, RUN_FILES.record, ...writeDeliverables(dir, record, state), ...writeNotes(dir, state)];
  return { record, dir, files };
}

/** A missing or empty folder, or with `force` any folder: never a file, never files replaced unasked. */
function checkOutDir(dir: string, force: boolean, isRunFolder: boolean): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new CoordError("USAGE", "--out names a file, not a folder", { file: dir, hint: "name a new folder" });
  if (force || readdirSync(dir).length === 0) return;
  throw new CoordError("USAGE", `--out folder is not empty${isRunFolder ? " (it is the run's own folder)" : ""}`, {
    file: dir,
    hint: "name a new folder, or add --force to write over the files coord writes there",
  });
}

/** Every deliverable run.json lists, at the file it names. */
function writeDeliverables(dir: string, record: RunRecord, state: RunStateValue): string[] {
  return record.phases.flatMap((phase) =>
    phase.deliverables.map(({ title, file }) => {
      writeDeliverableFile(dir, file, state.deliverables[phase.index]![title]!);
      return file;
    }),
  );
}

function writeNotes(dir: string, state: RunStateValue): string[] {
  return Object.entries(state.notes).flatMap(([phase, byAgent]) =>
    Object.entries(byAgent).map(([agent, text]) => writeNotesFile(dir, Number(phase), agent, text)),
  );
}
