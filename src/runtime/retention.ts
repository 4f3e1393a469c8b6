import { rmSync } from "node:fs";
import { openCheckpointer } from "./checkpointer.js";
import { runOwnerFile, specFile } from "./paths.js";
import type { RunStatus } from "./record.js";
import { readSavedRun } from "./saved-run.js";
import { loadSpec } from "./store.js";

/** Runs that will not move again unless someone resumes them: the ones retention may touch. */
export function isFinished(status: RunStatus): status is "completed" | "failed" {
  return status === "completed" || status === "failed";
}

/** Rows deleted from the checkpoint tables. */
export interface RemovedRows {
  checkpoints: number;
  writes: number;
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
export async function compactRun(home: string, runId: string): Promise<Compaction> {
  const { stop } = await readSavedRun(home, loadSpec(home, runId));
  if (!isFinished(stop.status)) return { runId, status: stop.status, compacted: false, checkpoints: 0, writes: 0 };
  return { runId, status: stop.status, compacted: true, ...dropHistory(home, runId) };
}

// LangGraph loads a thread's latest checkpoint per namespace (the highest checkpoint_id, as
// getTuple orders them) with the writes made against it; checkpoints from v4 on read nothing of
// their parent, and the run's state channels hold whole values, not deltas of earlier ones.
const LATEST = (table: string) => `(SELECT MAX(c.checkpoint_id) FROM checkpoints c WHERE c.thread_id = @thread AND c.checkpoint_ns = ${table}.checkpoint_ns)`;

/**
 * Deletes every checkpoint of a run's thread but the latest of each namespace, and every write
 * not made against a kept one. No status check: callers know the run is finished.
 */
export function dropHistory(home: string, runId: string): RemovedRows {
  const { db } = openCheckpointer(home);
  try {
    // The latest is chosen inside the transaction: a checkpoint written meanwhile is the one kept.
    const drop = db.transaction(() => ({
      writes: db.prepare(`DELETE FROM writes WHERE thread_id = @thread AND checkpoint_id IS NOT ${LATEST("writes")}`).run({ thread: runId }).changes,
      checkpoints: db.prepare(`DELETE FROM checkpoints WHERE thread_id = @thread AND checkpoint_id < ${LATEST("checkpoints")}`).run({ thread: runId }).changes,
    }));
    return hasCheckpointTables(db) ? drop.immediate() : { checkpoints: 0, writes: 0 };
  } finally {
    db.close();
  }
}

/**
 * Deletes what coord keeps of a run in its home: the thread's checkpoints and writes, the spec
 * and who started it. The run folder and the queue entry are the caller's to remove.
 */
export async function deleteRunState(home: string, runId: string): Promise<void> {
  const saver = openCheckpointer(home);
  try {
    if (hasCheckpointTables(saver.db)) await saver.deleteThread(runId);
  } finally {
    saver.db.close();
  }
  rmSync(runOwnerFile(home, runId), { force: true });
  rmSync(specFile(home, runId), { force: true });
}

/** Whether LangGraph created its tables in this file yet (it does on first use). */
function hasCheckpointTables(db: ReturnType<typeof openCheckpointer>["db"]): boolean {
  return !!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'checkpoints'").get();
}
