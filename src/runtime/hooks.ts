import { existsSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { CoordError } from "../errors.js";
import { writeFileAtomic } from "../files.js";
import type { StepInfo } from "./compile.js";
import { hookLogFile, stepFileBase, taskFile } from "./paths.js";
import { runHookFile, runHookScript, type HookResult } from "./hook-process.js";

/** What hooks need to know of the run around them; nothing else of the run reaches a hook. */
export interface HookContext {
  /** The project folder: hooks run there, and `hooks/<name>` project hooks live there. */
  cwd: string;
  runDir: string;
  runId: string;
  missionId: string;
  enabled: boolean;
  timeoutMs: number;
  /** The environment hooks inherit (the user's, as the interface resolved it). */
  env: Record<string, string | undefined>;
  /** A failed post or project hook: the run goes on, the warning carries HOOK_POST_FAILED. */
  warn(message: string, code: "HOOK_POST_FAILED"): void;
  /** Wraps each hook that runs (a tracer's span around it), when the run is traced. */
  trace?(hook: HookSpan, run: () => Promise<HookResult>): Promise<HookResult>;
}

/** Which hook runs, for a tracer: `pre-mission`, `analyst.pre`, with its step when it has one. */
export interface HookSpan {
  name: string;
  phase?: number;
  agent?: string;
  role?: string;
}

function traced(ctx: HookContext, hook: HookSpan, run: () => Promise<HookResult>): Promise<HookResult> {
  return ctx.trace ? ctx.trace(hook, run) : run();
}

function hookEnv(ctx: HookContext, extra: Record<string, string>): NodeJS.ProcessEnv {
  return { ...ctx.env, COORD_MISSION: ctx.missionId, COORD_RUN_ID: ctx.runId, COORD_RUN_DIR: ctx.runDir, ...extra };
}

// Linux refuses an environment string over 128 KiB (bytes, not characters), and a task holding
// big inputs can pass that: TASK is cut below it, and COORD_TASK_FILE always has the whole text.
const MAX_ENV_TASK_BYTES = 100_000;

export function envSafe(text: string): string {
  if (Buffer.byteLength(text) <= MAX_ENV_TASK_BYTES) return text;
  // Cut on a character boundary: decoding a truncated buffer drops the partial last character.
  return new TextDecoder().decode(Buffer.from(text).subarray(0, MAX_ENV_TASK_BYTES)).replace(/\uFFFD$/, "");
}

function saveLog(ctx: HookContext, name: string, result: HookResult): void {
  const stderr = result.stderr ? `\n[stderr]\n${result.stderr}` : "";
  const truncated = result.truncated ? "\n[output truncated after 1 MB]\n" : "";
  writeFileAtomic(join(ctx.runDir, hookLogFile(name)), `${result.stdout}${stderr}${truncated}`);
}

/** How a hook failed, for a one-line message: undefined when it did not. */
function failure(result: HookResult, timeoutMs: number): string | undefined {
  if (result.timedOut) return `timed out after ${timeoutMs} ms`;
  if (result.signal) return `was killed by ${result.signal}`;
  return result.code === 0 ? undefined : `exited ${result.code}`;
}

/** Runs an agent's pre or post hook around its step; a failing pre hook fails the step. */
export async function runAgentHook(ctx: HookContext, step: StepInfo, event: "pre" | "post"): Promise<void> {
  const script = step.agent.hooks[event];
  if (!ctx.enabled || !script) return;
  const base = stepFileBase(step.phase, step.role, step.agent.name);
  const task = join(ctx.runDir, taskFile(base));
  writeFileAtomic(task, step.task);
  const result = await traced(ctx, { name: `${step.agent.name}.${event}`, phase: step.phase, agent: step.agent.name, role: step.role }, () => runHookScript(script, {
    cwd: ctx.cwd,
    timeoutMs: ctx.timeoutMs,
    env: hookEnv(ctx, {
      TASK: envSafe(step.task),
      COORD_TASK_FILE: task,
      COORD_AGENT: step.agent.name,
      COORD_ROLE: step.role,
      COORD_PHASE: String(step.phase),
    }),
  }));
  saveLog(ctx, `${base}.${event}`, result);
  const why = failure(result, ctx.timeoutMs);
  if (!why) return;
  // The last line of stderr usually says why; cut, as it can be up to the whole 1 MB of output.
  const detail = (result.stderr.trim().split("\n").at(-1) ?? "").slice(0, 300);
  const where = relative(ctx.cwd, step.agent.file) || step.agent.file;
  const message = `${event} hook of agent ${step.agent.name} (${where}) ${why}${detail ? `: ${detail}` : ""}`;
  if (event === "post") {
    ctx.warn(message, "HOOK_POST_FAILED");
    return;
  }
  throw new CoordError("HOOK_FAILED", message, {
    file: step.agent.file,
    line: step.agent.line,
    hint: `fix the hook, or run with --no-hooks; then \`coord resume ${ctx.runId}\``,
    exitCode: 1,
  });
}

/** The project hooks coord runs, with run.json on stdin. */
export type ProjectHookName = "pre-mission" | "post-phase" | "post-mission";

/** Runs `hooks/<name>` of the project, if it is an executable file, with run.json on stdin. */
export async function runProjectHook(ctx: HookContext, name: ProjectHookName, record: unknown): Promise<void> {
  const file = join(ctx.cwd, "hooks", name);
  if (!ctx.enabled || !existsSync(file) || !(statSync(file).mode & 0o111)) return;
  const result = await traced(ctx, { name }, () =>
    runHookFile(file, {
      cwd: ctx.cwd,
      timeoutMs: ctx.timeoutMs,
      stdin: JSON.stringify(record),
      env: hookEnv(ctx, { COORD_HOOK: name }),
    }),
  );
  saveLog(ctx, `project-${name}`, result);
  const why = failure(result, ctx.timeoutMs);
  if (why) ctx.warn(`project hook hooks/${name} ${why}`, "HOOK_POST_FAILED");
}
