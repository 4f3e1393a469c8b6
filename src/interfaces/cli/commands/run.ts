import { userInfo } from "node:os";
import type { LoadOptions } from "../../../definitions/discover.js";
import type { Settings, SettingsInput } from "../../../definitions/schemas/settings.js";
import { actorLabel, decisionLine, type RunRecord } from "../../../runtime/record.js";
import { getRun, listRuns, resumeRun, runMission, type RunOptions, type RunOutcome } from "../../../runtime/run.js";
import { actor, type Actor, type ReviewDecision } from "../../../runtime/state.js";
import { CoordError } from "../../../errors.js";
import { checkRunId } from "../../../runtime/store.js";
import { requireNotWithWorker } from "../../../service/busy.js";
import { withStore } from "../../../runtime/store/open-store.js";
import { displayPath, printJson, table, type Io } from "../io.js";
import { progress } from "../progress.js";
import { positiveInt, positiveNumber, projectSettings, secondsFlag } from "../settings.js";

export interface RunFlags extends BudgetFlags {
  inputs?: string;
  input?: string[];
  out?: string;
  runId?: string;
  approve?: boolean;
  hooks?: boolean;
  concurrency?: string;
  hookTimeout?: string;
  model?: string;
  baseUrl?: string;
  timeout?: string;
  record?: string;
  replay?: string;
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
  return {
    models: {
      ...(flags.model && { override: flags.model }),
      ...(flags.baseUrl && { baseUrl: flags.baseUrl }),
      ...(timeoutMs && { timeoutMs }),
      ...(flags.record && { record: flags.record }),
      ...(flags.replay && { replay: flags.replay }),
    },
    budget: budget(flags),
    ...(concurrency && { concurrency }),
    ...(flags.approve && { approve: true }),
    hooks: { ...(flags.hooks === false && { enabled: false }), ...(hookTimeoutMs && { timeoutMs: hookTimeoutMs }) },
  };
}

/** Whoever is at this terminal: runs and decisions from the CLI are the OS user's. */
export function cliActor(): Actor {
  return actor("cli", osUserName());
}

/** The OS user's name; none where the system has no entry for the process's user (some containers). */
function osUserName(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
}

/** What a person needs after a run: where it is, its state, and what to type next. */
function summary(record: RunRecord, cwd: string): string {
  const dir = displayPath(record.runDir, cwd);
  const count = record.phases.reduce((n, p) => n + p.deliverables.length, 0);
  const lines = [`run ${record.runId}: ${record.status}${record.reason ? ` (${record.reason})` : ""}, ${count} deliverables, ${record.usage.totalTokens} tokens`, `report: ${dir}/report.md`];
  if (record.status === "paused" && record.reason === "approval") {
    const phase = record.phases.find((p) => p.status === "awaiting-approval");
    lines.push(`phase ${phase?.index ?? "?"} awaits approval: coord approve ${record.runId} [--note TEXT]  |  coord reject ${record.runId} --note TEXT`);
  }
  if (record.status === "failed") lines.push(`fix the cause, then: coord resume ${record.runId}`);
  return lines.join("\n");
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
    ...load,
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

export async function runsList(io: Io): Promise<number> {
  const records = await listRuns({ cwd: io.cwd, settings: projectSettings(io).settings });
  if (io.json) printJson(io, records);
  else if (records.length === 0) io.out("no runs yet: coord run MISSION --inputs DIR");
  else {
    const rows = records.map((r) => [r.runId, r.mission, r.status + (r.reason ? ` (${r.reason})` : ""), r.startedAt, displayPath(r.runDir, io.cwd)]);
    io.out(table([["RUN", "MISSION", "STATUS", "STARTED", "FOLDER"], ...rows]));
  }
  return 0;
}

export async function runsShow(io: Io, runId: string): Promise<number> {
  const record = await getRun(runId, { cwd: io.cwd, settings: projectSettings(io).settings });
  if (io.json) {
    printJson(io, record);
    return 0;
  }
  io.out(summary(record, io.cwd));
  if (record.startedBy) io.out(`started by ${actorLabel(record.startedBy)} at ${record.startedAt}`);
  for (const phase of record.phases) {
    io.out(`\nphase ${phase.index}: ${phase.title} [${phase.status}]  lead ${phase.lead}${phase.support.length ? `, support ${phase.support.join(", ")}` : ""}`);
    for (const d of phase.deliverables) io.out(`  - ${d.title}  (${d.file})`);
  }
  // run.json written before coord kept the trail has no approvals.
  const approvals = record.approvals ?? [];
  if (approvals.length) io.out(`\ndecisions:\n${approvals.map((a) => `  ${decisionLine(a)}`).join("\n")}`);
  return 0;
}
