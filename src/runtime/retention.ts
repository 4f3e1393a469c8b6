import type { RunStatus } from "./record.js";
import { readSavedRun } from "./saved-run.js";
import { loadSpec } from "./store/specs.js";
import type { RemovedRows, RunStore } from "./store/run-store.js";

export type { RemovedRows };

/** Runs that will not move again unless someone resumes them: the ones retention may touch. */
export function isFinished(status: RunStatus): status is "completed" | "failed" {
  return status === "completed" || status === "failed";
}

/** What compactRun did: nothing for a run that is not finished. */
export interface Compaction extends RemovedRows {
  runId: string;
  status: RunStatus;
  compacted: boolean;
}

/**
 * Keeps a finished run's last checkpoint and drops its history, so the checkpoint tables grow
 * with the number of runs, not their steps. The last checkpoint is all a getState, an export
 * or a resume reads; a paused, running or queued run is left whole. Safe to call at any stop.
 */
export async function compactRun(store: RunStore, runId: string): Promise<Compaction> {
  const { stop } = await readSavedRun(store, await loadSpec(store, runId));
  if (!isFinished(stop.status)) return { runId, status: stop.status, compacted: false, checkpoints: 0, writes: 0 };
  return { runId, status: stop.status, compacted: true, ...(await store.dropHistory(runId)) };
}
