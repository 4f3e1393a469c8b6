import type { Settings } from "../../definitions/schemas/settings.js";
import { CoordError } from "../../errors.js";
import type { RunRecord } from "../../runtime/record.js";
import { withStore } from "../../runtime/store/open-store.js";
import type { RunStore } from "../../runtime/store/run-store.js";
import { loadSpec } from "../../runtime/store/specs.js";

// Replies that only read runs (`/coord status`, `coord runs list` and `show`) read them here,
// through the store alone: runtime/run.ts's getRun and listRuns give the same records, but that
// module loads LangGraph and every model provider, several times what such a reply needs.

/** A run's record: RUN_NOT_FOUND when the store has no such run or it has no record yet (as readRun). */
export async function readStoredRun(store: RunStore, runId: string): Promise<RunRecord> {
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

/** A run of the project's store, by id (as getRun). */
export function readRunRecord(cwd: string, settings: Pick<Settings, "home" | "database">, runId: string): Promise<RunRecord> {
  return withStore(cwd, settings, (store) => readStoredRun(store, runId));
}

/** Every run the store holds, oldest id first; a run with no record yet is left out (as listRuns). */
export function listRunRecords(cwd: string, settings: Pick<Settings, "home" | "database">): Promise<RunRecord[]> {
  return withStore(cwd, settings, async (store) => {
    const records: RunRecord[] = [];
    for (const id of await store.runIds()) {
      const record = await store
        .findSpec(id)
        .then((spec) => spec && store.readRecord(spec))
        .catch(() => undefined);
      if (record) records.push(record);
    }
    return records;
  });
}
