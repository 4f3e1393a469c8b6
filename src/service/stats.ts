import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { RUN_FILES } from "../runtime/paths.js";
import type { RunRecord, RunStatus } from "../runtime/record.js";

// `coord runs stats` (issue #15): what a project's runs did, from their records in the store, so
// it covers every worker's runs. Records hold status, times, tokens and cost; how long each step
// took is only in the run's log (`runs/RUN_ID/run.log`), on the machine the run ran on, so step
// times cover the runs whose log is here and say which ones they leave out. Plain data in and
// out, with no LangChain: the command that prints it loads none.

const STATUSES: RunStatus[] = ["queued", "running", "paused", "completed", "failed"];

/** How long one agent step took, from its run's log line "step finished". */
export interface StepTime {
  runId: string;
  mission: string;
  phase: number;
  role: string;
  agent: string;
  ms: number;
}

/** Tokens and cost of a set of model calls, as run.json lists them. */
export interface UsageTotals {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  /** Input tokens the providers read from their prompt caches. */
  cacheReadTokens: number;
  cacheWriteTokens: number;
  /** The cost of the calls whose model has a known price. */
  costUsd: number;
  /** Calls left out of `costUsd`: their model has no known price. */
  unpricedCalls: number;
}

/** Wall time from start to finish of finished runs (waits for approval and resumes included). */
export interface DurationStats {
  /** Finished runs (completed or failed) the percentiles are taken over. */
  runs: number;
  /** Nearest-rank percentiles, so each is the duration of an actual run; null with no finished run. */
  p50Ms: number | null;
  p95Ms: number | null;
  maxMs: number | null;
}

export interface MissionStats {
  mission: string;
  /** The mission's title, as its latest run has it. */
  title: string;
  runs: number;
  byStatus: Record<RunStatus, number>;
  duration: DurationStats;
  usage: UsageTotals;
  /** What prompt caching saved, over the runs whose records say. */
  cacheSavedUsd: number;
}

export interface AgentStats {
  agent: string;
  /** The roles it had: lead, support, plan (a lead's plan written alongside its supports), judge. */
  roles: string[];
  /** Its steps, as run.json's `calls` count them (one per step; a lead's parallel calls are one). */
  steps: number;
  runs: number;
  usage: UsageTotals;
  /** Its step times over the runs whose log is here (supports and leads are logged). */
  stepTime: { steps: number; p50Ms: number | null; p95Ms: number | null };
}

export interface RunStats {
  /** The runs counted: all the store holds, or those of `mission` started at or after `startedAfter`. */
  filter: { mission: string | null; startedAfter: string | null };
  runs: number;
  byStatus: Record<RunStatus, number>;
  duration: DurationStats;
  usage: UsageTotals & {
    /** What prompt caching saved against full input price, summed over the runs' records. */
    cacheSavedUsd: number;
    /** The share of input tokens read from a cache, 0 to 1. */
    cacheReadShare: number;
  };
  /** Most runs first. */
  byMission: MissionStats[];
  /** Most tokens first. */
  byAgent: AgentStats[];
  steps: {
    /** Where step times come from: each run's log, present only where the run ran. */
    source: typeof RUN_FILES.log;
    /** Runs whose log was read. */
    runsWithLog: number;
    /** Runs with no log here (run by a worker elsewhere, or its folder removed): no step times. */
    runsWithoutLog: string[];
    /** The slowest steps, slowest first. */
    slowest: StepTime[];
  };
}

export interface StatsOptions {
  /** Only this mission's runs (its id). */
  mission?: string;
  /** Only runs started at most this long before `now`. */
  sinceMs?: number;
  /** The present, for `sinceMs` (default: now). */
  now?: Date;
  /** How many of the slowest steps to list (default 10). */
  slowest?: number;
  /** The project folder: a run carried on here by a worker has its log under `runs/` in it. */
  cwd?: string;
  /** A run's step times, or undefined when it has no log here (default: read from its run.log). */
  stepTimes?: (record: RunRecord) => StepTime[] | undefined;
}

/**
 * The p-th percentile (0 to 100) of some numbers, by nearest rank: the smallest value with at
 * least p% of the values at or below it. Null when there are none.
 */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/** A finished run's wall time, or undefined (not finished, or times that do not parse). */
export function runDurationMs(record: RunRecord): number | undefined {
  if (!record.finishedAt || (record.status !== "completed" && record.status !== "failed")) return undefined;
  const ms = Date.parse(record.finishedAt) - Date.parse(record.startedAt);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

/**
 * A run's step times from its run.log: in its run folder, or in the project's `runs/` when the
 * folder was on another machine. Undefined when neither is here; lines that are not a finished
 * step (or not JSON, as a log cut by a crash may end) are skipped.
 */
export function readStepTimes(record: RunRecord, cwd?: string): StepTime[] | undefined {
  const places = [record.runDir, ...(cwd ? [join(cwd, "runs", record.runId)] : [])];
  const file = places.map((dir) => (typeof dir === "string" ? join(dir, RUN_FILES.log) : "")).find((f) => f && existsSync(f));
  if (!file) return undefined;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  const steps: StepTime[] = [];
  for (const line of text.split("\n")) {
    if (!line.includes('"step finished"')) continue;
    try {
      const entry = JSON.parse(line) as { msg?: unknown; ms?: unknown; phase?: unknown; role?: unknown; agent?: unknown };
      if (entry.msg !== "step finished" || typeof entry.ms !== "number" || !Number.isFinite(entry.ms)) continue;
      steps.push({ runId: record.runId, mission: record.mission, phase: Number(entry.phase), role: String(entry.role), agent: String(entry.agent), ms: entry.ms });
    } catch {
      // A line cut short: the steps before it still count.
    }
  }
  return steps;
}

function zeroTotals(): UsageTotals {
  return { inputTokens: 0, outputTokens: 0, totalTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0, unpricedCalls: 0 };
}

type Call = RunRecord["phases"][number]["calls"][number];

function addCall(totals: UsageTotals, call: Call): void {
  const u = call.usage ?? { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
  totals.inputTokens += u.inputTokens ?? 0;
  totals.outputTokens += u.outputTokens ?? 0;
  totals.totalTokens += u.totalTokens ?? 0;
  totals.cacheReadTokens += u.cacheReadTokens ?? 0;
  totals.cacheWriteTokens += u.cacheWriteTokens ?? 0;
  if (typeof call.costUsd === "number") totals.costUsd += call.costUsd;
  else totals.unpricedCalls++;
}

/** Every model step of a run: each phase's, then the checks of the success criteria. */
function callsOf(record: RunRecord): Call[] {
  return [...(record.phases ?? []).flatMap((p) => p.calls ?? []), ...(record.criteriaCalls ?? [])];
}

function countStatuses(records: RunRecord[]): Record<RunStatus, number> {
  const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<RunStatus, number>;
  for (const r of records) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}

function durations(records: RunRecord[]): DurationStats {
  const ms = records.map(runDurationMs).filter((d): d is number => d !== undefined);
  return { runs: ms.length, p50Ms: percentile(ms, 50), p95Ms: percentile(ms, 95), maxMs: ms.length ? Math.max(...ms) : null };
}

/** The runs a filter keeps: of the mission, started at or after the cutoff. */
function filtered(records: RunRecord[], mission: string | undefined, cutoff: number | undefined): RunRecord[] {
  return records.filter((r) => {
    if (mission !== undefined && r.mission !== mission) return false;
    if (cutoff === undefined) return true;
    const started = Date.parse(r.startedAt);
    return Number.isFinite(started) && started >= cutoff;
  });
}

// The earliest time a Date can hold: a --since longer than history keeps every run.
const EARLIEST = -8.64e15;

/** Statistics over a project's run records (as `listRuns` or the store give them). */
export function runStats(all: RunRecord[], options: StatsOptions = {}): RunStats {
  const now = (options.now ?? new Date()).getTime();
  const cutoff = options.sinceMs === undefined ? undefined : Math.max(EARLIEST, now - options.sinceMs);
  const records = filtered(all, options.mission, cutoff);
  const stepTimes = options.stepTimes ?? ((r: RunRecord) => readStepTimes(r, options.cwd));

  const usage = zeroTotals();
  let cacheSavedUsd = 0;
  const missions = new Map<string, RunRecord[]>();
  const agents = new Map<string, { roles: Set<string>; steps: number; runs: Set<string>; usage: UsageTotals; times: number[] }>();
  const steps: StepTime[] = [];
  const withoutLog: string[] = [];
  for (const record of records) {
    const ofMission = missions.get(record.mission) ?? [];
    ofMission.push(record);
    missions.set(record.mission, ofMission);
    cacheSavedUsd += record.usage?.cacheSavedUsd ?? 0;
    for (const call of callsOf(record)) {
      addCall(usage, call);
      const agent = agents.get(call.agent) ?? { roles: new Set(), steps: 0, runs: new Set(), usage: zeroTotals(), times: [] };
      agent.roles.add(call.role);
      agent.steps++;
      agent.runs.add(record.runId);
      addCall(agent.usage, call);
      agents.set(call.agent, agent);
    }
    const times = stepTimes(record);
    if (times === undefined) withoutLog.push(record.runId);
    else for (const step of times) steps.push(step);
  }
  for (const step of steps) agents.get(step.agent)?.times.push(step.ms);

  const byMission = [...missions.entries()].map(([mission, runs]): MissionStats => {
    const missionUsage = zeroTotals();
    for (const call of runs.flatMap(callsOf)) addCall(missionUsage, call);
    return {
      mission,
      title: runs.at(-1)?.title ?? mission,
      runs: runs.length,
      byStatus: countStatuses(runs),
      duration: durations(runs),
      usage: missionUsage,
      cacheSavedUsd: runs.reduce((sum, r) => sum + (r.usage?.cacheSavedUsd ?? 0), 0),
    };
  });
  const byAgent = [...agents.entries()].map(([agent, a]): AgentStats => ({
    agent,
    roles: [...a.roles].sort(),
    steps: a.steps,
    runs: a.runs.size,
    usage: a.usage,
    stepTime: { steps: a.times.length, p50Ms: percentile(a.times, 50), p95Ms: percentile(a.times, 95) },
  }));
  return {
    filter: { mission: options.mission ?? null, startedAfter: cutoff === undefined ? null : new Date(cutoff).toISOString() },
    runs: records.length,
    byStatus: countStatuses(records),
    duration: durations(records),
    usage: { ...usage, cacheSavedUsd, cacheReadShare: usage.inputTokens ? usage.cacheReadTokens / usage.inputTokens : 0 },
    byMission: byMission.sort((a, b) => b.runs - a.runs || a.mission.localeCompare(b.mission)),
    byAgent: byAgent.sort((a, b) => b.usage.totalTokens - a.usage.totalTokens || a.agent.localeCompare(b.agent)),
    steps: {
      source: RUN_FILES.log,
      runsWithLog: records.length - withoutLog.length,
      runsWithoutLog: withoutLog,
      slowest: steps.sort((a, b) => b.ms - a.ms).slice(0, options.slowest ?? 10),
    },
  };
}

/** A duration for people: `850ms`, `12.3s`, `4m 12s`, `2h 03m`. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return "-";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 59_950) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
