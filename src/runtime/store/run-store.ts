import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import type { RunGuard } from "../events.js";
import type { RunRecord } from "../record.js";
import type { ReviewDecision } from "../state.js";
import type { RunSpec } from "../store.js";

/** A run a worker holds: its id, the fence that proves the lease is still this worker's, and the decision to carry out. */
export interface Lease {
  runId: string;
  fence: number;
  /** A paused run's approval or rejection, taken on any surface and carried out by the worker. */
  decision?: ReviewDecision;
}

/**
 * The queue of runs waiting for a worker. A worker leases a run and renews the lease while it
 * works; a lease that ran out (a worker killed or stalled) makes the run claimable again. Every
 * claim raises the run's fence, so a worker can always tell whether the run is still its own.
 */
export interface RunQueue {
  /** Queues a run (again): a worker will start it, or continue it from its last checkpoint. */
  enqueue(runId: string): Promise<void>;
  /** Queues a decision on a paused run; the first wins: false when the run is already queued or in a worker's hands. */
  decide(runId: string, decision: ReviewDecision): Promise<boolean>;
  /** Leases the oldest run that is queued or whose lease ran out, or returns undefined. */
  claim(worker: string, leaseMs: number): Promise<Lease | undefined>;
  /** Extends a lease still held; false when it was lost (ran out and was claimed, or finished). */
  renew(lease: Lease, leaseMs: number): Promise<boolean>;
  /** Whether the lease is still this worker's right now: same fence, not run out. */
  holds(lease: Lease): Promise<boolean>;
  /** How many milliseconds the lease has left, measured when the store answers; 0 or less when it is not this worker's. */
  leaseLeft(lease: Lease): Promise<number>;
  /** The run stopped (completed, paused, failed): done, unless someone else holds it by now. */
  finish(lease: Lease): Promise<void>;
  /** Drops a finished run's entry (prune); false when there was none or the run is active. */
  forget(runId: string): Promise<boolean>;
  /** Whether a run is waiting for a worker or in one's hands. */
  isActive(runId: string): Promise<boolean>;
  /** Runs waiting for a worker, oldest first. */
  queued(): Promise<string[]>;
}

/** Rows deleted from the checkpoint tables. */
export interface RemovedRows {
  checkpoints: number;
  writes: number;
}

/** Who started a run from a chat, and where its news goes: kept with the run. */
export interface RunOwner {
  slackUser?: string;
  /** The command's response_url: whichever worker stops the run posts its reply there. */
  responseUrl?: string;
}

/**
 * Where runs live: their specs (mission, agents and inputs as they started), their records,
 * LangGraph's checkpoints and the queue. `sqlite` is one file under the project's `.coord/` for
 * one machine; `postgres` is a database any number of machines share, so a worker anywhere can
 * carry on a run with no copy of the project.
 */
export interface RunStore {
  readonly kind: "sqlite" | "postgres";
  /** Where the store is, for messages: a file, or the database URL without its password. */
  readonly location: string;
  /** The project's state folder on this machine: lock files of foreground runs. */
  readonly home: string;
  readonly queue: RunQueue;
  saveSpec(spec: RunSpec): Promise<void>;
  /** The run's spec, or undefined when the store has no such run. */
  findSpec(runId: string): Promise<RunSpec | undefined>;
  runIds(): Promise<string[]>;
  /** Keeps run.json's content where every surface reads it (the file store has it in the run folder already). */
  saveRecord(record: RunRecord): Promise<void>;
  readRecord(spec: RunSpec): Promise<RunRecord | undefined>;
  saveOwner(runId: string, owner: RunOwner): Promise<void>;
  readOwner(runId: string): Promise<RunOwner>;
  /**
   * Takes a run for this process while it drives the run in the foreground (a resume, an
   * approval), so two processes never carry the same run on at once: RUN_BUSY otherwise.
   * Workers hold leases instead. Returns the release.
   */
  lockRun(runId: string): Promise<() => Promise<void>>;
  /** LangGraph's checkpointer over this store; with a guard, it writes nothing once the guard says the run is no longer ours. */
  checkpointer(guard?: RunGuard): Promise<BaseCheckpointSaver>;
  /** Deletes every checkpoint of a run's thread but the latest, and every write not made against it. */
  dropHistory(runId: string): Promise<RemovedRows>;
  /** Deletes what the store keeps of a run: checkpoints, spec, record and owner (not its queue entry). */
  deleteRun(runId: string): Promise<void>;
  /**
   * Calls `onQueued` whenever a run is queued anywhere, so an idle worker wakes at once instead of
   * at its next poll (Postgres LISTEN/NOTIFY); absent where polling is all there is. Returns the stop.
   */
  listen?(onQueued: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
