import { hostname } from "node:os";
import { CoordError } from "../errors.js";
import type { Settings } from "../definitions/schemas/settings.js";
import type { RunEvent } from "../runtime/events.js";
import { recordRunFailure, resumeRun, type RunGuard, type RunOutcome } from "../runtime/run.js";
import { openStore } from "../runtime/store/open-store.js";
import type { Lease, RunQueue, RunStore } from "../runtime/store/run-store.js";

export interface WorkerOptions {
  cwd: string;
  settings: Settings;
  env: Record<string, string | undefined>;
  /** Runs worked on at once. */
  concurrency?: number;
  /** How long a lease lasts without renewal (default settings.workers.leaseMs); renewed every third of it. */
  leaseMs?: number;
  /** How often an idle worker looks for queued runs. */
  pollMs?: number;
  /** Run the hooks of runs that allow them (the project's shell commands). */
  allowHooks?: boolean;
  /** Stops taking runs once aborted; runs in hand are finished first. */
  signal?: AbortSignal;
  log?: (message: string) => void;
  onEvent?: (runId: string, event: RunEvent) => void;
  /** Tells whoever waits (a Slack channel, a webhook) that a run completed, paused or failed. */
  onStop?: (outcome: RunOutcome) => Promise<void>;
}

/** Thrown before a step (or a checkpoint write) of a run whose lease this worker no longer holds. */
export class LeaseLostError extends CoordError {
  constructor(runId: string) {
    super("LEASE_LOST", `lost the lease on run "${runId}": another worker carries it on`, { hint: "nothing to do for the run; give workers a longer --lease-seconds if it happens often", exitCode: 1 });
  }
}

/**
 * `coord worker`: takes queued runs, works on each under a lease it renews, and stops taking
 * new ones when its signal aborts. A run whose lease it loses (it stalled past the lease and
 * another worker took over) is dropped before its next step, with nothing more written.
 */
export async function runWorker(options: WorkerOptions): Promise<void> {
  const store = await openStore(options.cwd, options.settings);
  const id = `${hostname()}:${process.pid}`;
  const leaseMs = options.leaseMs ?? options.settings.workers.leaseMs;
  const log = options.log ?? (() => {});
  const inHand = new Set<Promise<void>>();
  const wake = new Wake();
  const unlisten = await listenForRuns(store, () => wake.now());
  try {
    while (!options.signal?.aborted) {
      const lease = inHand.size < (options.concurrency ?? 1) ? await claim(store.queue, id, leaseMs, log) : undefined;
      if (!lease) {
        await wake.after(options.pollMs ?? 100, options.signal, inHand);
        continue;
      }
      const work = workOn(lease, store.queue, { ...options, leaseMs, log }).finally(() => inHand.delete(work));
      inHand.add(work);
    }
    await Promise.all(inHand);
  } finally {
    await unlisten();
    await store.close();
  }
}

/** A claim; a database that does not answer for a moment is waited out, not the worker's end. */
async function claim(queue: RunQueue, id: string, leaseMs: number, log: (m: string) => void): Promise<Lease | undefined> {
  try {
    return await queue.claim(id, leaseMs);
  } catch (error) {
    log(`could not look for queued runs: ${(error as Error).message}`);
    return undefined;
  }
}

/** On Postgres, a queued run wakes an idle worker at once (LISTEN/NOTIFY); polling stays as the fallback. */
async function listenForRuns(store: RunStore, onRun: () => void): Promise<() => Promise<void>> {
  return store.listen ? store.listen(onRun) : async () => {};
}

/** An idle worker's wait: until the next poll, a notice of a queued run, a run in hand ending, or the stop signal. */
class Wake {
  private pending: (() => void) | undefined;
  private early = false;

  now(): void {
    if (this.pending) this.pending();
    else this.early = true;
  }

  after(ms: number, signal: AbortSignal | undefined, inHand: Set<Promise<void>>): Promise<void> {
    if (this.early) {
      this.early = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        this.pending = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener("abort", done, { once: true });
      for (const work of inHand) void work.then(done, done);
      this.pending = done;
    });
  }
}

/** One leased run, from its last checkpoint to its next stop, with the lease renewed meanwhile. */
async function workOn(lease: Lease, queue: RunQueue, options: WorkerOptions & { leaseMs: number; log: (m: string) => void }): Promise<void> {
  const guard = leaseGuard(lease, queue);
  // A renewal that fails (the database away for a moment) is tried again at the next tick; the
  // guard stops the run if the lease runs out meanwhile.
  const renewal = setInterval(() => void queue.renew(lease, options.leaseMs).catch(() => {}), Math.max(100, Math.floor(options.leaseMs / 3)));
  options.log(`run ${lease.runId}: taken (fence ${lease.fence})`);
  try {
    const outcome = await resumeRun(lease.runId, {
      cwd: options.cwd,
      settings: options.settings,
      env: options.env,
      guard,
      allowHooks: !!options.allowHooks,
      ...(lease.decision && { decision: lease.decision }),
      onEvent: (event) => options.onEvent?.(lease.runId, event),
    });
    await queue.finish(lease);
    options.log(`run ${lease.runId}: ${outcome.record.status}${outcome.record.reason ? ` (${outcome.record.reason})` : ""}`);
    await options.onStop?.(outcome).catch((error: unknown) => options.log(`run ${lease.runId}: could not tell who waits: ${(error as Error).message}`));
  } catch (error) {
    if (error instanceof LeaseLostError || (error as CoordError)?.code === "LEASE_LOST") {
      options.log(`run ${lease.runId}: lease lost, stopped; another worker carries it on`);
      return;
    }
    // The run could not even start here (no key for its model, say): it says so in its record,
    // and is resumable once the cause is fixed.
    options.log(`run ${lease.runId}: could not be worked on: ${(error as Error).message}`);
    await queue.finish(lease).catch(() => {});
    const record = await recordRunFailure(lease.runId, { cwd: options.cwd, settings: options.settings }, error).catch(() => undefined);
    if (record) await options.onStop?.({ record, exitCode: 1, ...(record.error && { error: record.error }) }).catch(() => {});
  } finally {
    clearInterval(renewal);
  }
}

function leaseGuard(lease: Lease, queue: RunQueue): RunGuard {
  return {
    async check() {
      const asked = performance.now();
      // A lease that cannot be confirmed (the database away) counts as lost: stopping is safe, going on may not be.
      const left = await queue.leaseLeft(lease).catch(() => -1);
      // The answer is only as fresh as the question: a worker frozen after the store answered
      // (a database round trip is long enough) must not act on it once the lease has run out.
      if (left < 0 || performance.now() - asked >= left) throw new LeaseLostError(lease.runId);
    },
  };
}
