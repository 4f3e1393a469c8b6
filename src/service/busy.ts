import { CoordError } from "../errors.js";
import type { RunStore } from "../runtime/store/run-store.js";

/**
 * Refuses to drive a run here while it waits for a worker or is in one's hands: a foreground
 * `coord resume` or approval next to a worker would carry the same run on twice.
 */
export async function requireNotWithWorker(store: RunStore, runId: string): Promise<void> {
  if (!(await store.queue.isActive(runId))) return;
  throw new CoordError("RUN_BUSY", `run "${runId}" is queued for a worker or being worked on by one`, {
    hint: `wait for it with \`coord runs wait ${runId}\`; decisions on it go through the queue (HTTP, Slack)`,
    hints: { remote: "wait for the run to stop, then decide" },
  });
}
