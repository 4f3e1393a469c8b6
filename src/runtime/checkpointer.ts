import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { RunnableConfig } from "@langchain/core/runnables";
import type { Checkpoint, CheckpointMetadata, PendingWrite } from "@langchain/langgraph-checkpoint";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import Database from "better-sqlite3";
import { checkpointFile } from "./paths.js";

import type { RunGuard } from "./events.js";

// Several processes write one file (a CLI run, a server, workers): wait for the lock, don't fail.
const BUSY_TIMEOUT_MS = 10_000;

/** A SQLite checkpointer that writes nothing once its guard says the run is no longer ours. */
class GuardedSqliteSaver extends SqliteSaver {
  constructor(
    db: Database.Database,
    private readonly guard: RunGuard,
  ) {
    super(db);
  }

  override put(config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata): Promise<RunnableConfig> {
    this.guard.check();
    return super.put(config, checkpoint, metadata);
  }

  override putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string): Promise<void> {
    this.guard.check();
    return super.putWrites(config, writes, taskId);
  }
}

/** The checkpointer of a project's runs: `.coord/checkpoints.sqlite`, guarded when a guard is given. */
export function openCheckpointer(home: string, guard?: RunGuard): SqliteSaver {
  const file = checkpointFile(home);
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
  return guard ? new GuardedSqliteSaver(db, guard) : new SqliteSaver(db);
}
