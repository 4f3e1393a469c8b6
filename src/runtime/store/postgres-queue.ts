import type pg from "pg";
import type { ReviewDecision } from "../state.js";
import type { Lease, RunQueue } from "./run-store.js";

/** The channel workers listen on: a queued run wakes an idle worker at once instead of at its next poll. */
export const QUEUE_CHANNEL = "coord_jobs";

/**
 * The run queue on PostgreSQL, for any number of machines. Time is the database's clock
 * (`clock_timestamp()`), never a worker's, so workers whose clocks disagree still agree on when
 * a lease ran out. A claim skips rows another worker is claiming (`FOR UPDATE SKIP LOCKED`), so
 * workers never wait on each other nor lease the same run.
 */
export class PostgresRunQueue implements RunQueue {
  private readonly jobs: string;

  constructor(
    private readonly pool: pg.Pool,
    schema: string,
  ) {
    this.jobs = `"${schema}".coord_jobs`;
  }

  async enqueue(runId: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.jobs} (run_id, state, queued_at) VALUES ($1, 'queued', clock_timestamp())
       ON CONFLICT (run_id) DO UPDATE SET state = 'queued', worker = NULL, lease_until = NULL, queued_at = excluded.queued_at, decision = NULL`,
      [runId],
    );
    await this.pool.query("SELECT pg_notify($1, $2)", [QUEUE_CHANNEL, runId]);
  }

  async decide(runId: string, decision: ReviewDecision): Promise<boolean> {
    const result = await this.pool.query(
      `INSERT INTO ${this.jobs} (run_id, state, queued_at, decision) VALUES ($1, 'queued', clock_timestamp(), $2)
       ON CONFLICT (run_id) DO UPDATE SET state = 'queued', worker = NULL, lease_until = NULL, queued_at = excluded.queued_at, decision = excluded.decision
       WHERE ${this.jobs}.state = 'done'`,
      [runId, JSON.stringify(decision)],
    );
    if (result.rowCount === 1) await this.pool.query("SELECT pg_notify($1, $2)", [QUEUE_CHANNEL, runId]);
    return result.rowCount === 1;
  }

  async claim(worker: string, leaseMs: number): Promise<Lease | undefined> {
    const { rows } = await this.pool.query<{ run_id: string; fence: number; decision: ReviewDecision | null }>(
      `UPDATE ${this.jobs} j SET state = 'leased', worker = $1, lease_until = clock_timestamp() + $2 * interval '1 millisecond', fence = j.fence + 1
       FROM (SELECT run_id FROM ${this.jobs}
             WHERE state = 'queued' OR (state = 'leased' AND lease_until < clock_timestamp())
             ORDER BY queued_at LIMIT 1 FOR UPDATE SKIP LOCKED) next
       WHERE j.run_id = next.run_id
       RETURNING j.run_id, j.fence::int AS fence, j.decision`,
      [worker, leaseMs],
    );
    const row = rows[0];
    return row && { runId: row.run_id, fence: row.fence, ...(row.decision && { decision: row.decision }) };
  }

  async renew(lease: Lease, leaseMs: number): Promise<boolean> {
    const result = await this.pool.query(
      `UPDATE ${this.jobs} SET lease_until = clock_timestamp() + $3 * interval '1 millisecond'
       WHERE run_id = $1 AND fence = $2 AND state = 'leased' AND lease_until >= clock_timestamp()`,
      [lease.runId, lease.fence, leaseMs],
    );
    return result.rowCount === 1;
  }

  async holds(lease: Lease): Promise<boolean> {
    return (await this.leaseLeft(lease)) >= 0;
  }

  async leaseLeft(lease: Lease): Promise<number> {
    const { rows } = await this.pool.query<{ left: number }>(
      `SELECT (EXTRACT(EPOCH FROM lease_until - clock_timestamp()) * 1000)::float8 AS left FROM ${this.jobs} WHERE run_id = $1 AND fence = $2 AND state = 'leased'`,
      [lease.runId, lease.fence],
    );
    return rows[0]?.left ?? -1;
  }

  async finish(lease: Lease): Promise<void> {
    await this.pool.query(`UPDATE ${this.jobs} SET state = 'done', worker = NULL, lease_until = NULL, decision = NULL WHERE run_id = $1 AND fence = $2`, [lease.runId, lease.fence]);
  }

  async forget(runId: string): Promise<boolean> {
    const result = await this.pool.query(`DELETE FROM ${this.jobs} WHERE run_id = $1 AND state = 'done'`, [runId]);
    return result.rowCount === 1;
  }

  async isActive(runId: string): Promise<boolean> {
    const { rows } = await this.pool.query<{ state: string }>(`SELECT state FROM ${this.jobs} WHERE run_id = $1`, [runId]);
    return !!rows[0] && rows[0].state !== "done";
  }

  async queued(): Promise<string[]> {
    const { rows } = await this.pool.query<{ run_id: string }>(`SELECT run_id FROM ${this.jobs} WHERE state = 'queued' ORDER BY queued_at`);
    return rows.map((r) => r.run_id);
  }
}
