import Database from "better-sqlite3";
import type { ReviewDecision } from "../state.js";
import type { Lease, RunQueue } from "./run-store.js";

// The queue lives in the checkpoint file: one file holds everything a run needs on one machine.
// Its schema changes are versioned migrations, applied in order by whoever opens the file first;
// `coord_queue_version` remembers how far they went (LangGraph's own tables are LangGraph's).
const MIGRATIONS = [
  `CREATE TABLE coord_jobs (
     run_id TEXT PRIMARY KEY,
     state TEXT NOT NULL CHECK (state IN ('queued', 'leased', 'done')),
     worker TEXT,
     lease_until INTEGER,
     fence INTEGER NOT NULL DEFAULT 0,
     queued_at INTEGER NOT NULL
   );
   CREATE INDEX coord_jobs_claimable ON coord_jobs (state, queued_at);`,
  "ALTER TABLE coord_jobs ADD COLUMN decision TEXT;",
];

function migrate(db: Database.Database): void {
  db.exec("CREATE TABLE IF NOT EXISTS coord_queue_version (version INTEGER NOT NULL)");
  const apply = db.transaction(() => {
    const row = db.prepare("SELECT version FROM coord_queue_version").get() as { version: number } | undefined;
    const from = row?.version ?? 0;
    MIGRATIONS.slice(from).forEach((sql) => db.exec(sql));
    if (!row) db.prepare("INSERT INTO coord_queue_version (version) VALUES (?)").run(MIGRATIONS.length);
    else if (from < MIGRATIONS.length) db.prepare("UPDATE coord_queue_version SET version = ?").run(MIGRATIONS.length);
  });
  apply.immediate();
}

/**
 * The run queue of one machine, in the project's SQLite file, on the process's clock. Claims
 * take SQLite's write lock (BEGIN IMMEDIATE), so two workers never lease the same run.
 */
export class SqliteRunQueue implements RunQueue {
  constructor(
    private readonly db: Database.Database,
    private readonly now: () => number = Date.now,
  ) {
    migrate(db);
  }

  /** Queues a run (again): a worker will start it, or continue it from its last checkpoint. */
  async enqueue(runId: string): Promise<void> {
    this.db
      .prepare("INSERT INTO coord_jobs (run_id, state, queued_at) VALUES (?, 'queued', ?) ON CONFLICT (run_id) DO UPDATE SET state = 'queued', worker = NULL, lease_until = NULL, queued_at = excluded.queued_at, decision = NULL")
      .run(runId, this.now());
  }

  /**
   * Queues a decision on a paused run for a worker to carry out. The first decision on a pause
   * wins: false when the run is already queued or in a worker's hands.
   */
  async decide(runId: string, decision: ReviewDecision): Promise<boolean> {
    const result = this.db
      .prepare(
        "INSERT INTO coord_jobs (run_id, state, queued_at, decision) VALUES (?, 'queued', ?, ?) ON CONFLICT (run_id) DO UPDATE SET state = 'queued', worker = NULL, lease_until = NULL, queued_at = excluded.queued_at, decision = excluded.decision WHERE coord_jobs.state = 'done'",
      )
      .run(runId, this.now(), JSON.stringify(decision));
    return result.changes === 1;
  }

  /** Leases the oldest run that is queued or whose lease ran out, or returns undefined. */
  async claim(worker: string, leaseMs: number): Promise<Lease | undefined> {
    const claim = this.db.transaction((): Lease | undefined => {
      const now = this.now();
      const row = this.db
        .prepare("SELECT run_id, decision FROM coord_jobs WHERE state = 'queued' OR (state = 'leased' AND lease_until < ?) ORDER BY queued_at LIMIT 1")
        .get(now) as { run_id: string; decision: string | null } | undefined;
      if (!row) return undefined;
      const leased = this.db
        .prepare("UPDATE coord_jobs SET state = 'leased', worker = ?, lease_until = ?, fence = fence + 1 WHERE run_id = ? RETURNING fence")
        .get(worker, now + leaseMs, row.run_id) as { fence: number };
      return { runId: row.run_id, fence: leased.fence, ...(row.decision && { decision: JSON.parse(row.decision) as ReviewDecision }) };
    });
    // IMMEDIATE: two workers claiming at once take the write lock in turn, never the same run.
    return claim.immediate();
  }

  /** Extends a lease still held; false when it was lost (ran out and was claimed, or finished). */
  async renew(lease: Lease, leaseMs: number): Promise<boolean> {
    const now = this.now();
    const result = this.db
      .prepare("UPDATE coord_jobs SET lease_until = ? WHERE run_id = ? AND fence = ? AND state = 'leased' AND lease_until >= ?")
      .run(now + leaseMs, lease.runId, lease.fence, now);
    return result.changes === 1;
  }

  /** Whether the lease is still this worker's right now: same fence, not run out. */
  async holds(lease: Lease): Promise<boolean> {
    return (await this.leaseLeft(lease)) >= 0;
  }

  async leaseLeft(lease: Lease): Promise<number> {
    const row = this.db.prepare("SELECT fence, state, lease_until FROM coord_jobs WHERE run_id = ?").get(lease.runId) as
      | { fence: number; state: string; lease_until: number }
      | undefined;
    return row && row.fence === lease.fence && row.state === "leased" ? row.lease_until - this.now() : -1;
  }

  /** The run stopped (completed, paused, failed): done, unless someone else holds it by now. */
  async finish(lease: Lease): Promise<void> {
    this.db.prepare("UPDATE coord_jobs SET state = 'done', worker = NULL, lease_until = NULL, decision = NULL WHERE run_id = ? AND fence = ?").run(lease.runId, lease.fence);
  }

  /** Drops a finished run's entry (prune); false when there was none or the run is active. */
  async forget(runId: string): Promise<boolean> {
    return this.db.prepare("DELETE FROM coord_jobs WHERE run_id = ? AND state = 'done'").run(runId).changes === 1;
  }

  /** Whether a run is waiting for a worker or in one's hands. */
  async isActive(runId: string): Promise<boolean> {
    const row = this.db.prepare("SELECT state FROM coord_jobs WHERE run_id = ?").get(runId) as { state: string } | undefined;
    return !!row && row.state !== "done";
  }

  /** Runs waiting for a worker, oldest first. */
  async queued(): Promise<string[]> {
    return (this.db.prepare("SELECT run_id FROM coord_jobs WHERE state = 'queued' ORDER BY queued_at").all() as Array<{ run_id: string }>).map((r) => r.run_id);
  }
}
