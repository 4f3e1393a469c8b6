import type { RunEvent } from "../../runtime/run.js";
import type { Io } from "./io.js";

export interface Progress {
  onEvent(event: RunEvent): void;
  stop(): void;
}

const FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏";
/** Running steps drawn one a line; more are summed up in one more line. */
const MAX_STEP_LINES = 8;
/** Streamed text kept per call: enough for the widest line. */
const TAIL_CHARS = 1000;

interface Running {
  since: number;
  /** The latest text of each of the step's calls (some run at once), from its latest attempt. */
  calls: Map<number, { attempt: number; text: string; tool: boolean }>;
  /** The call that streamed last: the one shown. */
  shown?: number;
}

/**
 * Streamed text as one line: of tool arguments (JSON), the values without keys and escapes;
 * control characters and runs of whitespace made single spaces.
 */
function flatten(text: string, tool: boolean): string {
  const plain = tool
    ? text
        .replace(/[{,]?\s*"[\w-]{1,64}"\s*:\s*"?/g, " ")
        .replace(/"?\s*}\s*$/, "")
        .replace(/\\[nrt]/g, " ")
        .replace(/\\"/g, '"')
        .replace(/\\\\/g, "\\")
    : text;
  return plain.replace(/[\u0000-\u001f\u007f-\u009f]/g, " ").replace(/\s+/g, " ");
}

/**
 * Progress on stderr. Without a terminal (CI, pipes, --json consumers): one plain line per event.
 * On a terminal: finished steps scroll by, and below them a live block shows each running step,
 * how long it has run and the latest text its model is streaming.
 */
export function progress(io: Io): Progress {
  const stream = io.errStream;
  const start = Date.now();
  const live = !!stream.isTTY && !io.env.CI && !io.quiet;
  const elapsed = () => `[${((Date.now() - start) / 1000).toFixed(1).padStart(5)}s]`;
  const running = new Map<string, Running>();
  let frame = 0;
  let drawn = 0;
  const width = () => Math.max(40, ((stream as { columns?: number }).columns ?? 100) - 1);
  const clear = () => {
    if (!live) return;
    stream.write(`\r\x1b[2K${"\x1b[1A\x1b[2K".repeat(Math.max(0, drawn - 1))}`);
    drawn = 0;
  };
  const stepLine = (id: string, step: Running, max: number) => {
    const head = `${id} (${((Date.now() - step.since) / 1000).toFixed(0)}s)`;
    const room = max - head.length - 2;
    const call = step.shown === undefined ? undefined : step.calls.get(step.shown);
    const tail = call ? flatten(call.text, call.tool).trim() : "";
    if (!tail || room < 8) return head.slice(0, max);
    return `${head}  ${tail.length > room ? `…${tail.slice(tail.length - room + 1)}` : tail}`;
  };
  const draw = () => {
    if (!live || running.size === 0) return;
    const max = width();
    const prefix = `${FRAMES[frame++ % FRAMES.length]} ${elapsed()} `;
    const indent = " ".repeat(prefix.length);
    const steps = [...running.entries()];
    const lines = steps.slice(0, MAX_STEP_LINES).map(([id, step], i) => `${i === 0 ? prefix : indent}${stepLine(id, step, max - prefix.length)}`);
    if (steps.length > MAX_STEP_LINES) lines.push(`${indent}… and ${steps.length - MAX_STEP_LINES} more running`);
    clear();
    stream.write(lines.join("\n"));
    drawn = lines.length;
  };
  const timer = live ? setInterval(draw, 120) : undefined;
  timer?.unref();
  const line = (text: string) => {
    clear();
    io.err(text);
    draw();
  };
  const idOf = (event: { phase: number; role: string; agent: string }) => `phase ${event.phase} · ${event.role} ${event.agent}`;
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
      if (event.type === "token") {
        // Only the live view shows text; plain output stays one line per step.
        const step = live ? running.get(idOf(event)) : undefined;
        if (!step) return;
        let call = step.calls.get(event.call);
        if (call && event.attempt < call.attempt) return;
        // A retried call starts over: the failed attempt's text is void.
        if (!call || event.attempt > call.attempt) step.calls.set(event.call, (call = { attempt: event.attempt, text: "", tool: !!event.tool }));
        call.text = (call.text + event.text).slice(-TAIL_CHARS);
        call.tool = !!event.tool;
        step.shown = event.call;
        return;
      }
      const id = idOf(event);
      if (event.state === "start") {
        running.set(id, { since: Date.now(), calls: new Map() });
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
