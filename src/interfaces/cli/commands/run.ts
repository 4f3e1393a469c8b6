import { relative } from "node:path";
import type { LoadOptions } from "../../../definitions/discover.js";
import type { RunRecord } from "../../../runtime/record.js";
import { getRun, listRuns, resumeRun, runMission, type RunOutcome } from "../../../runtime/run.js";
import type { ReviewDecision } from "../../../runtime/state.js";
import { CoordError } from "../../../errors.js";
import type { loadEnvironment } from "../config.js";

type ProjectConfig = ReturnType<typeof loadEnvironment>;
import { displayPath, printJson, table, type Io } from "../io.js";
import { progress } from "../progress.js";

export interface RunFlags {
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
  maxTokens?: string;
  maxCost?: string;
  record?: string;
  replay?: string;
}

export interface BudgetFlags {
  maxTokens?: string;
  maxCost?: string;
}

function positiveNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new CoordError("USAGE", `${flag} must be a number above 0, not "${value}"`, { hint: `e.g. ${flag} 2.5` });
  return n;
}

function budget(flags: BudgetFlags) {
  const maxTokens = positiveInt(flags.maxTokens, "--max-tokens");
  const maxCostUsd = positiveNumber(flags.maxCost, "--max-cost");
  return { ...(maxTokens && { maxTokens }), ...(maxCostUsd && { maxCostUsd }) };
}

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CoordError("USAGE", `${flag} must be a whole number of 1 or more, not "${value}"`, { hint: `e.g. ${flag} 4` });
  return n;
}

/** What a person needs after a run: where it is, its state, and what to type next. */
function summary(record: RunRecord, cwd: string): string {
  const dir = displayPath(record.runDir, cwd);
  const count = record.phases.reduce((n, p) => n + p.deliverables.length, 0);
  const lines = [`run ${record.runId}: ${record.status}${record.reason ? ` (${record.reason})` : ""}, ${count} deliverables, ${record.usage.totalTokens} tokens`, `report: ${relative(cwd, `${record.runDir}/report.md`) || `${dir}/report.md`}`];
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

const DEFAULT_TIMEOUT_MS = 120_000;

export async function run(io: Io, mission: string, flags: RunFlags, load: LoadOptions, config: ProjectConfig = { models: {} }): Promise<number> {
  if (flags.record && flags.replay) throw new CoordError("USAGE", "--record and --replay cannot be used together", { hint: "record once with --record FILE, then replay with --replay FILE" });
  const concurrency = positiveInt(flags.concurrency, "--concurrency");
  const hookTimeout = positiveInt(flags.hookTimeout, "--hook-timeout");
  const view = progress(io, process.stderr);
  const outcome = await runMission({
    ...load,
    mission,
    ...(flags.inputs && { inputsDir: flags.inputs }),
    inputs: flags.input ?? [],
    ...(flags.out && { outDir: flags.out }),
    ...(flags.runId && { runId: flags.runId }),
    approve: !!flags.approve,
    hooks: flags.hooks !== false,
    ...(concurrency && { concurrency }),
    ...(hookTimeout && { hookTimeoutMs: hookTimeout * 1000 }),
    onEvent: view.onEvent,
    ...(io.verbose && { logStream: process.stderr }),
    models: {
      ...(config.models?.prices && { prices: config.models.prices }),
      timeoutMs: (positiveNumber(flags.timeout, "--timeout") ?? 0) * 1000 || config.models?.timeoutMs || DEFAULT_TIMEOUT_MS,
      ...(flags.model && { model: flags.model }),
      ...(flags.baseUrl && { baseUrl: flags.baseUrl }),
      ...budget(flags),
      ...(flags.record && { record: flags.record }),
      ...(flags.replay && { replay: flags.replay }),
      env: process.env,
    },
  }).finally(view.stop);
  return finish(io, outcome);
}

export async function resume(io: Io, runId: string, decision?: ReviewDecision, flags: BudgetFlags = {}): Promise<number> {
  const view = progress(io, process.stderr);
  const outcome = await resumeRun(runId, {
    cwd: io.cwd,
    ...(decision && { decision }),
    models: { ...budget(flags), env: process.env },
    onEvent: view.onEvent,
    ...(io.verbose && { logStream: process.stderr }),
  }).finally(view.stop);
  return finish(io, outcome);
}

export function runsList(io: Io): number {
  const records = listRuns(io.cwd);
  if (io.json) printJson(io, records);
  else if (records.length === 0) io.out("no runs yet: coord run MISSION --inputs DIR");
  else {
    const rows = records.map((r) => [r.runId, r.mission, r.status + (r.reason ? ` (${r.reason})` : ""), r.startedAt, displayPath(r.runDir, io.cwd)]);
    io.out(table([["RUN", "MISSION", "STATUS", "STARTED", "FOLDER"], ...rows]));
  }
  return 0;
}

export function runsShow(io: Io, runId: string): number {
  const record = getRun(runId, io.cwd);
  if (io.json) {
    printJson(io, record);
    return 0;
  }
  io.out(summary(record, io.cwd));
  for (const phase of record.phases) {
    io.out(`\nphase ${phase.index}: ${phase.title} [${phase.status}]  lead ${phase.lead}${phase.support.length ? `, support ${phase.support.join(", ")}` : ""}`);
    for (const d of phase.deliverables) io.out(`  - ${d.title}  (${d.file})`);
  }
  return 0;
}
