import { existsSync, realpathSync, rmSync } from "node:fs";
import { basename, isAbsolute, relative } from "node:path";
import { isCoordError } from "../errors.js";
import { lockRun } from "../runtime/lock.js";
import { isFinished, type RemovedRows } from "../runtime/retention.js";
import { readSavedRun } from "../runtime/saved-run.js";
import type { RunSpec } from "../runtime/store.js";
import { loadSpec } from "../runtime/store/specs.js";
import type { RunStore } from "../runtime/store/run-store.js";

export interface PruneOptions {
  /** Finished runs that finished longer ago than this are removed. */
  olderThanMs: number;
  /** The project: a run folder is removed only when it lies inside it. */
  projectDir: string;
  /** The present, for "longer ago" (tests pass a later one instead of waiting). */
  now?: Date;
  /** List what would be removed and remove nothing. */
  dryRun?: boolean;
}

/** Where a pruned run's folder is: removed when inside the project, kept when outside. */
export type FolderPlace = "inside-project" | "outside-project" | "missing";

export interface PrunedRun {
  runId: string;
  status: "completed" | "failed";
  finishedAt: string;
  runDir: string;
  folder: FolderPlace;
  /** Whether it had a queue entry (a run worked on by `coord worker`); false on a dry run. */
  queueEntry: boolean;
}

export interface PruneResult {
  /** Runs removed (or, on a dry run, that would be). */
  pruned: PrunedRun[];
  /** Finished runs kept because they are recent, with the history compaction removed from them. */
  compacted: Array<RemovedRows & { runId: string }>;
  /** Finished runs left alone because a process, a request or a worker is on them (a resume). */
  busy: string[];
}

/**
 * Deletes finished runs (completed or failed) that finished longer ago than `olderThanMs`: their
 * checkpoints and writes, spec, queue entry and run folder. Paused, queued and running runs are
 * never touched. Finished runs it keeps are compacted to their last checkpoint.
 */
export async function pruneRuns(store: RunStore, options: PruneOptions): Promise<PruneResult> {
  const cutoff = (options.now ?? new Date()).getTime() - options.olderThanMs;
  const result: PruneResult = { pruned: [], compacted: [], busy: [] };
  for (const runId of await store.runIds()) {
    const spec = await readableSpec(store, runId);
    // A first look without the lock, so runs that are not finished are passed over quietly;
    // pruneOne looks again once the run is held.
    if (!spec || !isFinished((await readSavedRun(store, spec)).stop.status)) continue;
    const unlock = tryLock(store.home, spec.runId);
    if (!unlock || (await store.queue.isActive(spec.runId))) {
      unlock?.();
      result.busy.push(spec.runId);
      continue;
    }
    try {
      await pruneOne(store, spec, cutoff, options, result);
    } finally {
      unlock();
    }
  }
  return result;
}

/** One run, held: removed when finished before the cutoff, compacted when finished since. */
async function pruneOne(store: RunStore, spec: RunSpec, cutoff: number, options: PruneOptions, result: PruneResult): Promise<void> {
  const { stop } = await readSavedRun(store, spec);
  if (!isFinished(stop.status) || !stop.finishedAt) return;
  if (Date.parse(stop.finishedAt) > cutoff) {
    if (options.dryRun) return;
    const removed = await store.dropHistory(spec.runId);
    if (removed.checkpoints + removed.writes > 0) result.compacted.push({ runId: spec.runId, ...removed });
    return;
  }
  const folder = folderPlace(spec, options.projectDir);
  const pruned: PrunedRun = { runId: spec.runId, status: stop.status, finishedAt: stop.finishedAt, runDir: spec.runDir, folder, queueEntry: false };
  if (!options.dryRun) {
    if (folder === "inside-project") rmSync(spec.runDir, { recursive: true, force: true });
    pruned.queueEntry = await store.queue.forget(spec.runId);
    await store.deleteRun(spec.runId);
  }
  result.pruned.push(pruned);
}

/** A spec this coord can read; others (an older coord's, a broken file) are not pruned. */
function readableSpec(store: RunStore, runId: string): Promise<RunSpec | undefined> {
  return loadSpec(store, runId).catch(() => undefined);
}

/** The run's lock, or undefined when a process or request of this one is working on it. */
function tryLock(home: string, runId: string): (() => void) | undefined {
  try {
    return lockRun(home, runId);
  } catch (error) {
    if (isCoordError(error) && error.code === "RUN_BUSY") return undefined;
    throw error;
  }
}

/**
 * A run folder is removed only when it lies inside the project (real paths, so a symlink cannot
 * lead out) and is named after the run, as coord names them: a spec edited to point at any other
 * folder cannot make prune delete it.
 */
function folderPlace(spec: RunSpec, projectDir: string): FolderPlace {
  if (!existsSync(spec.runDir)) return "missing";
  const inside = relative(realpathSync(projectDir), realpathSync(spec.runDir));
  const within = inside !== "" && !inside.startsWith("..") && !isAbsolute(inside);
  return within && basename(spec.runDir) === spec.runId ? "inside-project" : "outside-project";
}

