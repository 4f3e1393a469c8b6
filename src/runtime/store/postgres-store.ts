import { userInfo } from "node:os";
import type { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import pg from "pg";
import { CoordError } from "../../errors.js";
import type { RunGuard } from "../events.js";
import { lockRun } from "../lock.js";
import type { RunRecord } from "../record.js";
import type { RunSpec } from "../store.js";
import { guardWrites } from "./guarded-saver.js";
import { PostgresRunQueue, QUEUE_CHANNEL } from "./postgres-queue.js";
import type { RemovedRows, RunOwner, RunStore } from "./run-store.js";

/**
 * coord's own tables, as versioned migrations applied in order by whichever process connects
 * first (under an advisory lock, so two starting at once apply each once); `coord_schema_version`
 * remembers how far they went. LangGraph's checkpoint tables are its own, migrated by its setup().
 */
const MIGRATIONS = (s: string) => [
  `CREATE TABLE ${s}.coord_runs (
     run_id TEXT PRIMARY KEY,
     spec JSONB NOT NULL,
     record JSONB,
     owner JSONB,
     created_at TIMESTAMPTZ NOT NULL DEFAULT now()
   );
   CREATE TABLE ${s}.coord_jobs (
     run_id TEXT PRIMARY KEY,
     state TEXT NOT NULL CHECK (state IN ('queued', 'leased', 'done')),
     worker TEXT,
     lease_until TIMESTAMPTZ,
     fence BIGINT NOT NULL DEFAULT 0,
     queued_at TIMESTAMPTZ NOT NULL,
     decision JSONB
   );
   CREATE INDEX coord_jobs_claimable ON ${s}.coord_jobs (state, queued_at);`,
];

// Any constant of our own: serialises migrations of every coord process on the database.
const MIGRATION_LOCK = 0x636f6f7264;

/** A database URL as given, split into what pg connects with and coord's own `?schema=` (default public). */
export interface DatabaseUrl {
  connectionString: string;
  schema: string;
  /** The URL without its password, for messages. */
  location: string;
}

export function parseDatabaseUrl(url: string): DatabaseUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw badUrl(url, "it is not a URL");
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") throw badUrl(url, `"${parsed.protocol}" is not postgres:`);
  const schema = parsed.searchParams.get("schema") ?? "public";
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) throw badUrl(url, `schema "${schema.slice(0, 80)}" is not a plain name`);
  parsed.searchParams.delete("schema");
  // No user in the URL: the OS user, as psql and libpq take it (pg would otherwise send none).
  if (!parsed.username) parsed.username = userInfo().username;
  const connectionString = parsed.toString();
  if (parsed.password) parsed.password = "***";
  return { connectionString, schema, location: parsed.toString() };
}

function badUrl(url: string, why: string): CoordError {
  const shown = url.replace(/\/\/([^:/@]*):[^@/]*@/, "//$1:***@").slice(0, 200);
  return new CoordError("CONFIG_INVALID", `the database URL "${shown}" cannot be used: ${why}`, {
    hint: "use postgres://USER:PASSWORD@HOST:5432/DATABASE (add ?schema=NAME to keep coord's tables in a schema of their own), or leave COORD_DATABASE_URL unset for SQLite",
  });
}

interface Shared {
  pool: pg.Pool;
  ready: Promise<void>;
}

// One pool per database for the whole process: a server or a worker opens the store per run.
const pools = new Map<string, Shared>();

function shared(url: DatabaseUrl): Shared {
  const key = `${url.connectionString}#${url.schema}`;
  let entry = pools.get(key);
  if (!entry) {
    // allowExitOnIdle: a CLI command that used the database exits when done, without closing it.
    const pool = new pg.Pool({ connectionString: url.connectionString, max: 20, connectionTimeoutMillis: 10_000, allowExitOnIdle: true });
    // A connection dropped while idle is replaced on next use; it must not crash the process.
    pool.on("error", () => {});
    entry = { pool, ready: migrate(pool, url) };
    // A failed start is not remembered: the next open tries again (the database may be up by then).
    entry.ready.catch(() => pools.delete(key));
    pools.set(key, entry);
  }
  return entry;
}

async function migrate(pool: pg.Pool, url: DatabaseUrl): Promise<void> {
  const s = `"${url.schema}"`;
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw new CoordError("DATABASE_UNREACHABLE", `cannot reach the database at ${url.location}: ${(error as Error).message || (error as { code?: string }).code}`, {
      hint: "check COORD_DATABASE_URL (or --db) and that PostgreSQL is running and reachable from here",
      exitCode: 1,
    });
  }
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${s}.coord_schema_version (version INTEGER NOT NULL)`);
    const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${s}.coord_schema_version`);
    const from = rows[0]?.version ?? 0;
    const all = MIGRATIONS(s);
    if (from < all.length) {
      await client.query("BEGIN");
      for (const sql of all.slice(from)) await client.query(sql);
      await client.query(rows[0] ? `UPDATE ${s}.coord_schema_version SET version = $1` : `INSERT INTO ${s}.coord_schema_version (version) VALUES ($1)`, [all.length]);
      await client.query("COMMIT");
    }
    const { PostgresSaver } = await import("@langchain/langgraph-checkpoint-postgres");
    await new PostgresSaver(pool, undefined, { schema: url.schema }).setup();
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    if (error instanceof CoordError) throw error;
    throw new CoordError("DATABASE_UNREACHABLE", `could not set up coord's tables in ${url.location}: ${(error as Error).message}`, {
      hint: "the database user needs to create tables in the schema (or run once as one who can)",
      exitCode: 1,
    });
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]).catch(() => {});
    client.release();
  }
}

/** Ends every pool this process opened: for servers and workers that stop, and tests. */
export async function closePostgresPools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map(({ pool }) => pool.end().catch(() => {})));
}

/**
 * Runs in PostgreSQL, for a team: specs (with the mission and agents), records, owners, the
 * queue and LangGraph's checkpoints (`@langchain/langgraph-checkpoint-postgres`) all live in the
 * database, so any machine that reaches it can serve, work on, show and approve any run.
 */
export class PostgresRunStore implements RunStore {
  readonly kind = "postgres";
  readonly location: string;
  readonly queue: PostgresRunQueue;
  private readonly runs: string;

  private constructor(
    readonly home: string,
    private readonly url: DatabaseUrl,
    private readonly pool: pg.Pool,
  ) {
    this.location = url.location;
    this.runs = `"${url.schema}".coord_runs`;
    this.queue = new PostgresRunQueue(pool, url.schema);
  }

  /** Connects (once per process and database) and brings the schema up to date. */
  static async open(home: string, url: string): Promise<PostgresRunStore> {
    const parsed = parseDatabaseUrl(url);
    const { pool, ready } = shared(parsed);
    await ready;
    return new PostgresRunStore(home, parsed, pool);
  }

  /** A client of its own, for LISTEN: workers hear of queued runs at once. */
  async listen(onNotice: () => void, channel = QUEUE_CHANNEL): Promise<() => Promise<void>> {
    const client = await this.pool.connect();
    client.on("notification", onNotice);
    await client.query(`LISTEN ${channel}`);
    return async () => {
      client.off("notification", onNotice);
      await client.query(`UNLISTEN ${channel}`).catch(() => {});
      client.release();
    };
  }

  async saveSpec(spec: RunSpec): Promise<void> {
    await this.pool.query(`INSERT INTO ${this.runs} (run_id, spec) VALUES ($1, $2) ON CONFLICT (run_id) DO UPDATE SET spec = excluded.spec`, [spec.runId, JSON.stringify(spec)]);
  }

  async findSpec(runId: string): Promise<RunSpec | undefined> {
    const { rows } = await this.pool.query<{ spec: RunSpec }>(`SELECT spec FROM ${this.runs} WHERE run_id = $1`, [runId]);
    return rows[0]?.spec;
  }

  async runIds(): Promise<string[]> {
    const { rows } = await this.pool.query<{ run_id: string }>(`SELECT run_id FROM ${this.runs} ORDER BY run_id`);
    return rows.map((r) => r.run_id);
  }

  async saveRecord(record: RunRecord): Promise<void> {
    await this.pool.query(`UPDATE ${this.runs} SET record = $2 WHERE run_id = $1`, [record.runId, JSON.stringify(record)]);
  }

  async readRecord(spec: RunSpec): Promise<RunRecord | undefined> {
    const { rows } = await this.pool.query<{ record: RunRecord | null }>(`SELECT record FROM ${this.runs} WHERE run_id = $1`, [spec.runId]);
    return rows[0]?.record ?? undefined;
  }

  async saveOwner(runId: string, owner: RunOwner): Promise<void> {
    await this.pool.query(`UPDATE ${this.runs} SET owner = $2 WHERE run_id = $1`, [runId, JSON.stringify(owner)]);
  }

  async readOwner(runId: string): Promise<RunOwner> {
    const { rows } = await this.pool.query<{ owner: RunOwner | null }>(`SELECT owner FROM ${this.runs} WHERE run_id = $1`, [runId]);
    return rows[0]?.owner ?? {};
  }

  /**
   * The machine's lock file (what this machine's server checks before an approval) and a
   * PostgreSQL advisory lock on the run, held by a connection of its own while the run is driven:
   * two machines resuming or approving the same run at once, the second is refused.
   */
  async lockRun(runId: string): Promise<() => Promise<void>> {
    const unlockHere = lockRun(this.home, runId);
    let client: pg.PoolClient | undefined;
    try {
      client = await this.pool.connect();
      const { rows } = await client.query<{ taken: boolean }>("SELECT pg_try_advisory_lock(hashtext($1)) AS taken", [`coord:${this.url.schema}:${runId}`]);
      if (!rows[0]?.taken) {
        throw new CoordError("RUN_BUSY", `run "${runId}" is being worked on by a coord process on another machine`, {
          hint: `wait for it to finish or pause (\`coord runs show ${runId}\`), then try again`,
          hints: { remote: "wait for the run to finish or pause, then try again" },
        });
      }
    } catch (error) {
      client?.release();
      unlockHere();
      throw error;
    }
    const held = client;
    return async () => {
      // Ending the session would free the lock too; unlocking keeps the connection for others.
      await held.query("SELECT pg_advisory_unlock(hashtext($1))", [`coord:${this.url.schema}:${runId}`]).catch(() => {});
      held.release();
      unlockHere();
    };
  }

  async checkpointer(guard?: RunGuard): Promise<PostgresSaver> {
    // Its tables were set up when the store opened, once per process and database.
    const { PostgresSaver } = await import("@langchain/langgraph-checkpoint-postgres");
    return guardWrites(new PostgresSaver(this.pool, undefined, { schema: this.url.schema }), guard);
  }

  /**
   * Keeps a run's latest checkpoint of each namespace, the writes made against it and the blobs
   * (channel values) it refers to; the rest of the thread's history goes, in one transaction.
   */
  async dropHistory(runId: string): Promise<RemovedRows> {
    const s = `"${this.url.schema}"`;
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const latest = `(SELECT MAX(c.checkpoint_id) FROM ${s}.checkpoints c WHERE c.thread_id = $1 AND c.checkpoint_ns = t.checkpoint_ns)`;
      const writes = await client.query(`DELETE FROM ${s}.checkpoint_writes t WHERE thread_id = $1 AND checkpoint_id IS DISTINCT FROM ${latest}`, [runId]);
      const checkpoints = await client.query(`DELETE FROM ${s}.checkpoints t WHERE thread_id = $1 AND checkpoint_id < ${latest}`, [runId]);
      await client.query(
        `DELETE FROM ${s}.checkpoint_blobs b WHERE thread_id = $1 AND NOT EXISTS (
           SELECT 1 FROM ${s}.checkpoints c WHERE c.thread_id = b.thread_id AND c.checkpoint_ns = b.checkpoint_ns
             AND c.checkpoint -> 'channel_versions' ->> b.channel = b.version)`,
        [runId],
      );
      await client.query("COMMIT");
      return { checkpoints: checkpoints.rowCount ?? 0, writes: writes.rowCount ?? 0 };
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  async deleteRun(runId: string): Promise<void> {
    await (await this.checkpointer()).deleteThread(runId);
    await this.pool.query(`DELETE FROM ${this.runs} WHERE run_id = $1`, [runId]);
  }

  async close(): Promise<void> {
    // The pool is the process's, shared by every store on this database: closePostgresPools ends it.
  }
}
