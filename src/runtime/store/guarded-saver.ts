import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import type { RunGuard } from "../events.js";

/**
 * Makes a checkpointer write nothing once its guard says the run is no longer this process's
 * (a worker that lost its lease): every checkpoint and pending write asks the guard first.
 * Works on any saver, so SQLite and Postgres runs are fenced the same way.
 */
export function guardWrites<T extends BaseCheckpointSaver>(saver: T, guard: RunGuard | undefined): T {
  if (!guard) return saver;
  const put = saver.put.bind(saver);
  const putWrites = saver.putWrites.bind(saver);
  saver.put = async (config, checkpoint, metadata, versions) => {
    await guard.check();
    return put(config, checkpoint, metadata, versions);
  };
  saver.putWrites = async (config, writes, taskId) => {
    await guard.check();
    return putWrites(config, writes, taskId);
  };
  return saver;
}
