import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../../src/interfaces/cli/main.js";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** The real launcher; it runs dist/, which test/helpers/global-setup.ts builds once per vitest run. */
export const BIN = join(REPO, "bin", "coord.js");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Where the command runs (default: the repository root). */
  cwd?: string;
  /** Added on top of the clean environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
}

/**
 * Variables of the developer's machine that would change what a command does: coord's own
 * settings, providers' keys and servers, and tracing. Tests never inherit them.
 */
const MACHINE_SETTING = /^(COORD_|OPENAI_|ANTHROPIC_|GOOGLE_|MISTRAL_|GROQ_|OLLAMA_|LANGCHAIN_|LANGSMITH_)|_API_KEY$|_BASE_URL$/;

/**
 * The environment every test command gets: the test process's own, without coord settings or
 * provider keys, with colour off, then `extra` on top (an `undefined` value removes a variable).
 */
export function cliEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !MACHINE_SETTING.test(key)) env[key] = value;
  }
  env.NO_COLOR = "1";
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/**
 * Runs one command line in this process, against src/ (no build): the CLI's `main` with
 * captured output, the clean environment and its own cwd. Most CLI tests use this.
 */
export async function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await main(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { isTTY: false, write: (text: string) => (stderr += text) },
    cwd: options.cwd ?? REPO,
    env: cliEnv(options.env),
  });
  return { code, stdout, stderr };
}

/** Runs the real bin/coord.js as users do: a separate node process. For a few smoke tests only. */
export function runBin(args: string[], options: CliOptions = {}): CliResult {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? REPO,
    env: cliEnv(options.env),
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/**
 * The same, without blocking: needed when the test process also serves the CLI (a fake
 * provider on loopback), since a blocked event loop would never answer.
 */
export function runBinAsync(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? REPO, env: cliEnv(options.env) });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
  });
}

/** A throwaway project folder with the given files (paths relative to it). */
export function tempProject(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "coord-test-"));
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
  return dir;
}

/** A stack trace line: user mistakes must never print one. */
export const STACK_LINE = /^\s+at .+\(.+:\d+:\d+\)$/m;

/**
 * Waits until `ready()` holds, checking every 50 ms, for up to `timeoutMs` (generous: two
 * cores may be busy with other test files). Fails early, with its stderr, if `child` exits first.
 */
export async function waitUntil(ready: () => boolean, options: { timeoutMs?: number; child?: { exitCode: number | null; stderrText?: () => string } } = {}): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while (!ready()) {
    if (options.child && options.child.exitCode !== null) throw new Error(`the process exited (${options.child.exitCode}) before it was ready: ${options.child.stderrText?.() ?? ""}`);
    if (Date.now() > deadline) throw new Error(`not ready after ${options.timeoutMs ?? 60_000} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A crash mid-step: runs the real `coord ARGS` until a hook of the project writes its pid to
 * `blocked` and stalls, gives LangGraph a moment to save what was answered before the hook
 * began, then kills coord and the stalled hook with SIGKILL, and writes `go` so the hook lets
 * the next run through.
 */
export async function killWhileHookStalls(cwd: string, args: string[], env: Record<string, string | undefined>): Promise<void> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: cliEnv(env), stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  await waitUntil(() => existsSync(join(cwd, "blocked")), { child: Object.assign(child, { stderrText: () => stderr }) });
  await new Promise((r) => setTimeout(r, 300));
  child.kill("SIGKILL");
  await new Promise((r) => child.on("exit", r));
  process.kill(Number(readFileSync(join(cwd, "blocked"), "utf8")), "SIGKILL");
  writeFileSync(join(cwd, "go"), "");
}
