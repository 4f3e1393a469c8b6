import type { LoadOptions } from "../../../definitions/discover.js";
import type { Settings, SettingsInput } from "../../../definitions/schemas/settings.js";
import { checkRun, resumeRun, runMission, type RunOptions, type RunOutcome } from "../../../runtime/run.js";
import type { ReviewDecision } from "../../../runtime/state.js";
import { CoordError } from "../../../errors.js";
import { checkRunId } from "../../../runtime/store.js";
import { requireNotWithWorker } from "../../../service/busy.js";
import { withStore } from "../../../runtime/store/open-store.js";
import { cliActor } from "../actor.js";
import { printJson, type Io } from "../io.js";
import { progress } from "../progress.js";
import { positiveInt, positiveNumber, projectSettings, secondsFlag, withParseCache } from "../settings.js";
import { criteriaLines, summary } from "./runs.js";

export interface RunFlags extends BudgetFlags {
  inputs?: string;
  input?: string[];
  out?: string;
  runId?: string;
  approve?: boolean;
  deliverables?: string;
  hooks?: boolean;
  concurrency?: string;
  hookTimeout?: string;
  model?: string;
  baseUrl?: string;
  timeout?: string;
  record?: string;
  replay?: string;
  contextTokens?: string;
  judgeModel?: string;
  gate?: boolean;
  maxRedos?: string;
}

export interface BudgetFlags {
  maxTokens?: string;
  maxCost?: string;
}

function budget(flags: BudgetFlags): Partial<Settings["budget"]> {
  const maxTokens = positiveInt(flags.maxTokens, "--max-tokens");
  const maxCostUsd = positiveNumber(flags.maxCost, "--max-cost");
  return { ...(maxTokens && { maxTokens }), ...(maxCostUsd && { maxCostUsd }) };
}

/** `coord run`'s flags as settings: the top layer, over the environment, .env and the config file. */
export function runFlagSettings(flags: RunFlags): SettingsInput {
  if (flags.record && flags.replay) throw new CoordError("USAGE", "--record and --replay cannot be used together", { hint: "record once with --record FILE, then replay with --replay FILE" });
  const concurrency = positiveInt(flags.concurrency, "--concurrency");
  const hookTimeoutMs = secondsFlag(flags.hookTimeout, "--hook-timeout");
  const timeoutMs = secondsFlag(flags.timeout, "--timeout");
  const contextTokens = positiveInt(flags.contextTokens, "--context-tokens");
  const maxRedos = flags.maxRedos === undefined ? undefined : flags.maxRedos === "0" ? 0 : positiveInt(flags.maxRedos, "--max-redos");
  return {
    models: {
      ...(flags.model && { override: flags.model }),
      ...(flags.baseUrl && { baseUrl: flags.baseUrl }),
      ...(timeoutMs && { timeoutMs }),
      ...(flags.record && { record: flags.record }),
      ...(flags.replay && { replay: flags.replay }),
      ...(contextTokens && { contextTokens }),
      ...(flags.judgeModel && { judge: flags.judgeModel }),
    },
    budget: budget(flags),
    ...(concurrency && { concurrency }),
    ...(flags.approve && { approve: true }),
    ...(flags.deliverables && { deliverables: deliverablesMode(flags.deliverables) }),
    ...((flags.gate || maxRedos !== undefined) && { criteria: { ...(flags.gate && { gate: true }), ...(maxRedos !== undefined && { maxRedos }) } }),
    hooks: { ...(flags.hooks === false && { enabled: false }), ...(hookTimeoutMs && { timeoutMs: hookTimeoutMs }) },
  };
}

function deliverablesMode(value: string): "parallel" | "one-call" {
  if (value === "parallel" || value === "one-call") return value;
  throw new CoordError("USAGE", `--deliverables must be parallel or one-call, not "${value.slice(0, 40)}"`, { hint: "e.g. --deliverables one-call" });
}

function finish(io: Io, outcome: RunOutcome): number {
  if (outcome.error) io.err(`coord: ${outcome.error}`);
  if (io.json) printJson(io, outcome.record);
  else io.out(summary(outcome.record, io.cwd));
  return outcome.exitCode;
}

/** `coord run`'s flags and the project's settings as the library's run options: one place for both ways to run. */
export function cliRunOptions(io: Io, mission: string, flags: RunFlags, load: LoadOptions): RunOptions {
  const { settings, env } = projectSettings(io, runFlagSettings(flags));
  return {
    // The parse cache, as the read-only commands use it: a run starts without the markdown parser.
    ...withParseCache(io, load, settings),
    mission,
    ...(flags.inputs && { inputsDir: flags.inputs }),
    inputs: flags.input ?? [],
    ...(flags.out && { outDir: flags.out }),
    ...(flags.runId && { runId: flags.runId }),
    settings,
    env,
    startedBy: cliActor(),
  };
}

export async function run(io: Io, mission: string, flags: RunFlags, load: LoadOptions): Promise<number> {
  const view = progress(io);
  const outcome = await runMission({
    ...cliRunOptions(io, mission, flags, load),
    onEvent: view.onEvent,
    ...(io.verbose && { logStream: io.errStream as NodeJS.WritableStream }),
  }).finally(view.stop);
  return finish(io, outcome);
}

export async function resume(io: Io, runId: string, decision?: ReviewDecision, flags: BudgetFlags = {}): Promise<number> {
  const { settings, env } = projectSettings(io);
  checkRunId(runId);
  await withStore(io.cwd, settings, (store) => requireNotWithWorker(store, runId));
  const view = progress(io);
  const outcome = await resumeRun(runId, {
    cwd: io.cwd,
    settings,
    budget: budget(flags),
    env,
    ...(decision && { decision: { ...decision, by: cliActor() } }),
    onEvent: view.onEvent,
    ...(io.verbose && { logStream: io.errStream as NodeJS.WritableStream }),
  }).finally(view.stop);
  return finish(io, outcome);
}

/** `coord check RUN_ID`: the run's criteria judged again; its record and report rewritten. */
export async function check(io: Io, runId: string, flags: { judgeModel?: string }): Promise<number> {
  const { settings, env } = projectSettings(io);
  checkRunId(runId);
  await withStore(io.cwd, settings, (store) => requireNotWithWorker(store, runId));
  const record = await checkRun(runId, { cwd: io.cwd, settings, env, ...(flags.judgeModel && { judgeModel: flags.judgeModel }) });
  if (io.json) printJson(io, record);
  else {
    io.out(criteriaLines(record.criteria ?? []));
    io.out(summary(record, io.cwd));
  }
  return 0;
}
