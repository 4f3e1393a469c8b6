import type { RunEvent } from "../../runtime/run.js";
import type { Io } from "./io.js";

/**
 * Turns run events into progress on stderr: one line per event, prefixed with the elapsed time.
 * On a terminal the line of a running step is rewritten in place when it ends.
 */
export function progressPrinter(io: Io, stream: { isTTY?: boolean; write(s: string): unknown }): (event: RunEvent) => void {
  const start = Date.now();
  const tty = !!stream.isTTY && !process.env.NO_COLOR && !process.env.CI;
  const elapsed = () => `[${((Date.now() - start) / 1000).toFixed(1).padStart(5)}s]`;
  const running = new Set<string>();
  return (event) => {
    if (event.type === "warning") {
      if (!io.quiet) io.err(`warning: ${event.message}`);
      return;
    }
    if (io.quiet) return;
    if (event.type === "phase") {
      io.err(`${elapsed()} phase ${event.phase} done: ${event.title} (${event.deliverables} deliverable${event.deliverables === 1 ? "" : "s"})`);
      return;
    }
    const id = `phase ${event.phase} · ${event.role} ${event.agent}`;
    if (event.state === "start") {
      running.add(id);
      if (tty) stream.write(`${elapsed()} ${id} … (${running.size} running)\n`);
      else io.err(`${elapsed()} ${id} started`);
    } else {
      running.delete(id);
      io.err(`${elapsed()} ${id} finished in ${((event.ms ?? 0) / 1000).toFixed(1)}s`);
    }
  };
}
