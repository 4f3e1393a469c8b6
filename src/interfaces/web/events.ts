import type { Context } from "hono";
import { streamSSE } from "hono/streaming";

/** How often a page's stream asks the store whether anything changed. */
export const POLL_MS = 500;
const HEARTBEAT_MS = 15_000;

/**
 * Server-sent events from the run store: every POLL_MS the stream reads a fingerprint of what the
 * page shows and sends `event: run` with it when it changed. Any worker anywhere writes to the
 * store, so a page on one `coord serve` sees work done by every other. Ends when the browser
 * goes, when the server stops, or when `done` says nothing more will change.
 */
export function storeEvents(c: Context, fingerprint: () => Promise<{ version: string; done: boolean }>, stopping: AbortSignal): Response {
  return streamSSE(c, async (stream) => {
    let last = "";
    let quiet = 0;
    const stop = () => void stream.abort();
    stopping.addEventListener("abort", stop, { once: true });
    try {
      while (!stream.aborted && !stopping.aborted) {
        const now = await fingerprint().catch(() => undefined);
        if (now && now.version !== last) {
          last = now.version;
          quiet = 0;
          await stream.writeSSE({ event: "run", data: now.version });
          if (now.done) break;
        } else if ((quiet += POLL_MS) >= HEARTBEAT_MS) {
          quiet = 0;
          await stream.write(": still here\n\n");
        }
        await stream.sleep(POLL_MS);
      }
    } finally {
      stopping.removeEventListener("abort", stop);
    }
  });
}
