import type { RunEvent } from "../../runtime/run.js";
import type { Io } from "./io.js";

export interface Progress {
  onEvent(event: RunEvent): void;
  stop(): void;
}

const FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏";

/**
 * Progress on stderr. Without a terminal (CI, pipes, --json consumers): one plain line per event.
 * On a terminal: finished steps scroll by and a live line shows what is running and for how long.
 */
export function progress(io: Io): Progress {
  const stream = io.errStream;
  const start = Date.now();
  const live = !!stream.isTTY && !io.env.CI && !io.quiet;
  const elapsed = () => `[${((Date.now() - start) / 1000).toFixed(1).padStart(5)}s]`;
  const running = new Map<string, number>();
  let frame = 0;
  const clear = () => live && stream.write("\r\x1b[2K");
  const draw = () => {
    if (!live || running.size === 0) return;
    const names = [...running.keys()].join(", ");
    const oldest = Math.min(...running.values());
    stream.write(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${elapsed()} running: ${names} (${((Date.now() - oldest) / 1000).toFixed(0)}s)`);
  };
  const timer = live ? setInterval(draw, 120) : undefined;
  timer?.unref();
  const line = (text: string) => {
    clear();
    io.err(text);
    draw();
  };
  return {
    onEvent(event) {
      if (event.type === "warning") {
        if (!io.quiet) line(`warning: ${event.message}`);
        return;
      }
      if (io.quiet || event.type === "start") return;
      if (event.type === "phase") {
        line(`${elapsed()} phase ${event.phase} done: ${event.title} (${event.deliverables} deliverable${event.deliverables === 1 ? "" : "s"})`);
        return;
      }
      const id = `phase ${event.phase} · ${event.role} ${event.agent}`;
      if (event.state === "start") {
        running.set(id, Date.now());
        if (live) draw();
        else line(`${elapsed()} ${id} started`);
      } else {
        running.delete(id);
        line(`${elapsed()} ${id} finished in ${((event.ms ?? 0) / 1000).toFixed(1)}s`);
      }
    },
    stop() {
      if (timer) clearInterval(timer);
      clear();
    },
  };
}
