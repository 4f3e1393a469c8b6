import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import type { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import Database from "better-sqlite3";
import { writeFileAtomic } from "../../files.js";
import type { RunGuard } from "../events.js";
import { lockRun } from "../lock.js";
import { checkpointFile, runOwnerFile, specFile, specsDir } from "../paths.js";
import { readRecord, type RunRecord } from "../record.js";
import type { RunSpec } from "../store.js";
import { guardWrites } from "./guarded-saver.js";
import type { RemovedRows, RunOwner, RunQueue, RunStore } from "./run-store.js";
import { SqliteRunQueue } from "./sqlite-queue.js";

// Several processes write one file (a CLI run, a server, workers): wait for the lock, don't fail.
const BUSY_TIMEOUT_MS = 10_000;

// LangGraph loads a thread's latest checkpoint per namespace (the highest checkpoint_id, as
// getTuple orders them) with the writes made against it; checkpoints from v4 on read nothing of
// their parent, and the run's state channels hold whole values, not deltas of earlier ones.
const LATEST = (table: string) => `(SELECT MAX(c.checkpoint_id) FROM checkpoints c WHERE c.thread_id = @thread AND c.checkpoint_ns = ${table}.checkpoint_ns)`;

/**
 * One machine's store, nothing to install: specs as JSON files under `.coord/runs/`, run.json in
 * the run folder, and LangGraph's checkpoints and the queue in `.coord/checkpoints.sqlite`. The
 * database file is opened on first use, so reading a project that never ran creates nothing.
 */
export class SqliteRunStore implements RunStore {
  readonly kind = "sqlite";
  readonly location: string;
  private db: Database.Database | undefined;
  private runQueue: SqliteRunQueue | undefined;

  constructor(
    readonly home: string,
    private readonly now?: () => number,
  ) {
    this.location = checkpointFile(home);
  }

  private open(): Database.Database {
    if (!this.db) {
      mkdirSync(dirname(this.location), { recursive: true });
      this.db = new Database(this.location, { timeout: BUSY_TIMEOUT_MS });
      this.db.pragma("journal_mode = WAL");
    }
    return this.db;
  }

  get queue(): RunQueue {
    this.runQueue ??= new SqliteRunQueue(this.open(), this.now);
    return this.runQueue;
  }

  /** Whether the database file exists yet: no file, no queue entries and no checkpoints. */
  private exists(): boolean {
    return !!this.db || existsSync(this.location);
  }

  async saveSpec(spec: RunSpec): Promise<void> {
    writeFileAtomic(specFile(this.home, spec.runId), `${JSON.stringify(spec, null, 2)}\n`);
  }

  async findSpec(runId: string): Promise<RunSpec | undefined> {
    const file = specFile(this.home, runId);
    return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as RunSpec) : undefined;
  }

  async runIds(): Promise<string[]> {
    const dir = specsDir(this.home);
    return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5)).sort() : [];
  }

  async saveRecord(): Promise<void> {
    // run.json in the run folder is the record: written there by every run already.
  }

  async readRecord(spec: RunSpec): Promise<RunRecord | undefined> {
    return readRecord(spec.runDir);
  }

  async saveOwner(runId: string, owner: RunOwner): Promise<void> {
    writeFileAtomic(runOwnerFile(this.home, runId), `${JSON.stringify(owner)}\n`);
  }

  async readOwner(runId: string): Promise<RunOwner> {
    const file = runOwnerFile(this.home, runId);
    if (!existsSync(file)) return {};
    try {
      return JSON.parse(readFileSync(file, "utf8")) as RunOwner;
    } catch {
      return {};
    }
  }

  async lockRun(runId: string): Promise<() => Promise<void>> {
    // A lock file under .coord/runs: one machine is all a SQLite store serves.
    const unlock = lockRun(this.home, runId);
    return async () => unlock();
  }

  async checkpointer(guard?: RunGuard): Promise<SqliteSaver> {
    // Imported here, not above: reading specs and records (runs list, status) loads no LangChain.
    const { SqliteSaver } = await import("@langchain/langgraph-checkpoint-sqlite");
    return guardWrites(new SqliteSaver(this.open()), guard);
  }

  async dropHistory(runId: string): Promise<RemovedRows> {
    if (!this.hasCheckpointTables()) return { checkpoints: 0, writes: 0 };
    const db = this.open();
    // The latest is chosen inside the transaction: a checkpoint written meanwhile is the one kept.
    const drop = db.transaction(() => ({
      writes: db.prepare(`DELETE FROM writes WHERE thread_id = @thread AND checkpoint_id IS NOT ${LATEST("writes")}`).run({ thread: runId }).changes,
      checkpoints: db.prepare(`DELETE FROM checkpoints WHERE thread_id = @thread AND checkpoint_id < ${LATEST("checkpoints")}`).run({ thread: runId }).changes,
    }));
    return drop.immediate();
  }

  async deleteRun(runId: string): Promise<void> {
    if (this.hasCheckpointTables()) await (await this.checkpointer()).deleteThread(runId);
    rmSync(runOwnerFile(this.home, runId), { force: true });
    rmSync(specFile(this.home, runId), { force: true });
  }

  /** Whether LangGraph created its tables in this file yet (it does on first use). */
  private hasCheckpointTables(): boolean {
    return this.exists() && !!this.open().prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'checkpoints'").get();
  }

  async close(): Promise<void> {
    this.db?.close();
    this.db = undefined;
    this.runQueue = undefined;
  }
}
