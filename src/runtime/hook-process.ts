import { Socket } from "node:net";
import { finished } from "node:stream/promises";
import type { execa as Execa } from "execa";

// Loaded with the first hook: a run without hooks never pays for execa's start-up.
let execaModule: Promise<typeof Execa> | undefined;
const loadExeca = () => (execaModule ??= import("execa").then((m) => m.execa));

/** What a hook did: how it ended and what it printed (at most MAX_OUTPUT_BYTES of it). */
export interface HookResult {
  /** The exit code; null when a signal ended the hook (`signal` says which). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** The hook printed more than MAX_OUTPUT_BYTES; the rest was read and dropped. */
  truncated: boolean;
}

export interface HookProcessOptions {
  cwd: string;
  /** The whole environment of the hook: coord's own is not added to it. */
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  stdin?: string;
}

/** stdout and stderr together: enough for a log and a diagnostic, and a hook printing without end cannot fill coord's memory. */
export const MAX_OUTPUT_BYTES = 1024 * 1024;
/** A timed-out hook gets SIGTERM to clean up, then SIGKILL for whatever in its group ignored that. */
const KILL_GRACE_MS = 2_000;
/** How long, once the shell has exited, its output may still take to arrive before coord moves on. */
const OUTPUT_GRACE_MS = 250;

/** Runs a shell snippet (an agent's pre or post hook) with `/bin/sh -c`. */
export function runHookScript(script: string, options: HookProcessOptions): Promise<HookResult> {
  return runHookProcess("/bin/sh", ["-c", script], options);
}

/** Runs an executable file (a project hook). */
export function runHookFile(file: string, options: HookProcessOptions): Promise<HookResult> {
  return runHookProcess(file, [], options);
}

async function runHookProcess(file: string, args: string[], options: HookProcessOptions): Promise<HookResult> {
  const subprocess = startHook(await loadExeca(), file, args, options);
  const output = captureOutput(subprocess);
  const timeout = stopGroupAfter(subprocess.pid, options.timeoutMs);
  const { code, signal, error } = await shellEnd(subprocess);
  timeout.cancel();
  await outputEnd(subprocess);
  release(subprocess);
  const { stdout, stderr } = output.text();
  return { code, signal, stdout, stderr: error ? `${stderr}${error}\n` : stderr, timedOut: timeout.fired, truncated: output.truncated };
}

function startHook(execa: typeof Execa, file: string, args: string[], options: HookProcessOptions) {
  return execa(file, args, {
    cwd: options.cwd,
    env: options.env,
    extendEnv: false,
    input: options.stdin ?? "",
    // Its own process group, so a timeout stops everything the hook started, not just the shell.
    detached: true,
    // execa would keep all the output, and its maxBuffer stops the hook; coord keeps a capped part itself.
    buffer: false,
    reject: false,
  });
}

type HookSubprocess = ReturnType<typeof startHook>;

interface CapturedOutput {
  readonly truncated: boolean;
  text(): { stdout: string; stderr: string };
}

/** Reads stdout and stderr as they come, keeping the first MAX_OUTPUT_BYTES of both together. */
function captureOutput(subprocess: HookSubprocess): CapturedOutput {
  const kept = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  let bytes = 0;
  let truncated = false;
  // Past the cap the output is still read, so the hook never blocks on a full pipe; it is only dropped.
  const keep = (into: Buffer[]) => (chunk: Buffer) => {
    const room = MAX_OUTPUT_BYTES - bytes;
    if (chunk.length > room) truncated = true;
    if (room <= 0) return;
    const part = chunk.subarray(0, room);
    into.push(part);
    bytes += part.length;
  };
  subprocess.stdout.on("data", keep(kept.stdout));
  subprocess.stderr.on("data", keep(kept.stderr));
  return {
    get truncated() {
      return truncated;
    },
    text: () => ({ stdout: Buffer.concat(kept.stdout).toString(), stderr: Buffer.concat(kept.stderr).toString() }),
  };
}

/** Sends SIGTERM, then SIGKILL, to the hook's whole process group once it has run `timeoutMs`. */
function stopGroupAfter(pid: number | undefined, timeoutMs: number): { readonly fired: boolean; cancel(): void } {
  let fired = false;
  const timer = setTimeout(() => {
    fired = true;
    signalGroup(pid, "SIGTERM");
    setTimeout(() => signalGroup(pid, "SIGKILL"), KILL_GRACE_MS);
  }, timeoutMs);
  return {
    get fired() {
      return fired;
    },
    cancel: () => clearTimeout(timer),
  };
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: everything in the group has exited already.
  }
}

interface ShellEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why the hook could not start at all (no such file, an environment too large). */
  error?: string;
}

/**
 * The shell's own exit. execa's result waits for the output pipes to close too, which a
 * background job the hook started (`sleep 20 &`) holds open long after the hook is done.
 */
function shellEnd(subprocess: HookSubprocess): Promise<ShellEnd> {
  const exited = new Promise<ShellEnd>((resolve) => subprocess.once("exit", (code, signal) => resolve({ code, signal })));
  // The result settles before any exit only when the hook never started.
  const notStarted = subprocess.then((result) => ({ code: 127, signal: null, error: result.originalMessage ?? result.shortMessage ?? "could not start" }));
  return Promise.race([exited, notStarted]);
}

/** Waits for the rest of the output, up to OUTPUT_GRACE_MS: leftovers of the hook may never close the pipes. */
async function outputEnd(subprocess: HookSubprocess): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, OUTPUT_GRACE_MS)));
  const closed = [subprocess.stdout, subprocess.stderr].map((stream) => finished(stream).catch(() => {}));
  await Promise.race([Promise.all(closed), grace]);
  clearTimeout(timer);
}

/**
 * Lets coord exit while leftovers of the hook still hold its pipes. The pipes are still read (and
 * the output dropped past the cap) so a background server that logs keeps running while coord does.
 */
function release(subprocess: HookSubprocess): void {
  subprocess.stdin.destroy();
  for (const stream of [subprocess.stdout, subprocess.stderr]) if (stream instanceof Socket) stream.unref();
}
