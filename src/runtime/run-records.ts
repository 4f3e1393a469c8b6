import { CoordError } from "../errors.js";
import { SettingsSchema, type SettingsInput } from "../definitions/schemas/settings.js";
import type { RunRecord } from "./record.js";
import { withStore } from "./store/open-store.js";
import type { RunStore } from "./store/run-store.js";
import { loadSpec } from "./store/specs.js";

// Reading runs needs the store alone, never the graph: this module loads no LangChain, so the
// replies that only read runs (`runs list|show`, `/coord status`, the web page's list) start fast.

/** Where runs are listed from: the project folder and its settings (`home`, `database`). */
export interface RunsOptions {
  cwd?: string;
  settings?: SettingsInput;
}

/** The store of the project's runs, for one piece of work. */
export function withRunsStore<T>(options: RunsOptions, work: (store: RunStore) => Promise<T>): Promise<T> {
  return withStore(options.cwd ?? process.cwd(), SettingsSchema.parse(options.settings ?? {}), work);
}

/** Every run a store holds, oldest id first; a run with no record yet (stopped before its first write) is left out. */
export async function readRecords(store: RunStore): Promise<RunRecord[]> {
  const records: RunRecord[] = [];
  for (const id of await store.runIds()) {
    const record = await store
      .findSpec(id)
      .then((spec) => spec && store.readRecord(spec))
      .catch(() => undefined);
    if (record) records.push(record);
  }
  return records;
}

/** A run's record from its store: RUN_NOT_FOUND when there is no such run or it has no record yet. */
export async function readRun(store: RunStore, runId: string): Promise<RunRecord> {
  const spec = await loadSpec(store, runId);
  const record = await store.readRecord(spec);
  if (!record) {
    throw new CoordError("RUN_NOT_FOUND", `run "${runId}" has no run.json in ${spec.runDir}`, {
      hint: `continue it with \`coord resume ${runId}\``,
      hints: { remote: "the run was stopped before its first step; it can be resumed from the CLI" },
    });
  }
  return record;
}

/** Every run of the project's store (see readRecords). */
export function listRuns(options: RunsOptions = {}): Promise<RunRecord[]> {
  return withRunsStore(options, readRecords);
}

/** A run of the project's store, by id (see readRun). */
export function getRun(runId: string, options: RunsOptions = {}): Promise<RunRecord> {
  return withRunsStore(options, (store) => readRun(store, runId));
}
