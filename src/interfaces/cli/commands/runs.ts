import { criteriaSummary } from "../../../runtime/verdicts.js";
import { resolve } from "node:path";
import { CoordError } from "../../../errors.js";
import { actorLabel, awaitsDecision, decisionLine, type RunRecord } from "../../../runtime/record.js";
import { withStore } from "../../../runtime/store/open-store.js";
import type { PrunedRun } from "../../../service/prune.js";
import { formatDuration, runStats, type RunStats, type UsageTotals } from "../../../service/stats.js";
import { getRun, listRuns } from "../../../runtime/run-records.js";
import { displayPath, printJson, table, truncate, type Io } from "../io.js";
import { projectSettings } from "../settings.js";

// `coord runs list` and `show` read the store only: they load no graph runtime and no LangChain
// (test/interfaces/cli/startup.test.ts), so export and prune import theirs when they run.

/** What a person needs after a run: where it is, its state, and what to type next. */
export function summary(record: RunRecord, cwd: string): string {
  const dir = displayPath(record.runDir, cwd);
  const count = record.phases.reduce((n, p) => n + p.deliverables.length, 0);
  const lines = [`run ${record.runId}: ${record.status}${record.reason ? ` (${record.reason})` : ""}, ${count} deliverables, ${record.usage.totalTokens} tokens`, `report: ${dir}/report.md`];
  if (awaitsDecision(record)) {
    const phase = record.phases.find((p) => p.status === "awaiting-approval");
    lines.push(`phase ${phase?.index ?? "?"} awaits approval: coord approve ${record.runId} [--note TEXT]  |  coord reject ${record.runId} --note TEXT`);
  }
  if (record.status === "paused" && record.reason === "budget") lines.push(`budget spent: coord resume ${record.runId} --max-tokens N | --max-cost USD, above the last`);
  if (record.status === "failed") lines.push(`fix the cause, then: coord resume ${record.runId}`);
  // The last line: how the run did against its own definition of done.
  const criteria = criteriaSummary(record.criteria);
  if (criteria) lines.push(`${criteria}${record.criteriaJudge === "offline" ? " (offline check: term overlap, not an LLM)" : ""}`);
  return lines.join("\n");
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
  if (record.criteria?.length) {
    io.out(`\nsuccess criteria (checked by ${record.criteriaJudge}):\n${criteriaLines(record.criteria)}`);
    io.out(criteriaSummary(record.criteria));
  }
  return 0;
}

/** Each criterion on a line, ticked as the report ticks it, with what is missing under it. */
export function criteriaLines(criteria: NonNullable<RunRecord["criteria"]>): string {
  const tick = { met: "[x]", partly: "[~]", not_met: "[ ]" } as const;
  return criteria.map((c) => `  ${tick[c.verdict]} ${c.text}${c.missing ? `\n      missing: ${c.missing}` : ""}`).join("\n");
}

/** Where `coord runs export` writes by default: apart from `runs/`, so it never lands on the run's own folder. */
const EXPORTS_DIR = "exports";

/** `coord runs export RUN_ID`: the run folder written anew from the run's spec and last checkpoint. */
export async function runsExport(io: Io, runId: string, flags: { out?: string; force?: boolean }): Promise<number> {
  const outDir = resolve(io.cwd, flags.out ?? `${EXPORTS_DIR}/${runId}`);
  const { exportRun } = await import("../../../runtime/export.js");
  const { record, dir, files } = await withStore(io.cwd, projectSettings(io).settings, (store) => exportRun(store, runId, { outDir, force: !!flags.force }));
  if (io.json) printJson(io, record);
  else {
    const count = (folder: string) => files.filter((f) => f.startsWith(`${folder}/`)).length;
    io.out(`exported run ${runId} (${record.status}) to ${displayPath(dir, io.cwd)}: report.md, run.json, ${count("deliverables")} deliverables, ${count("notes")} notes`);
  }
  return 0;
}

const AGE = /^(\d{1,9})([dhm])$/;
const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000 } as const;

/** `30d`, `12h`, `45m` (minutes) as milliseconds. */
export function parseAge(value: string, flag: string): number {
  const match = AGE.exec(value.trim());
  if (!match) throw new CoordError("USAGE", `${flag} must be a whole number of days, hours or minutes such as 30d, 12h or 45m, not "${value.slice(0, 40)}"`, { hint: `e.g. ${flag} 30d` });
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

/** `coord runs prune --older-than AGE`: removes finished runs that finished longer ago. */
export async function runsPrune(io: Io, flags: { olderThan: string; dryRun?: boolean }): Promise<number> {
  const olderThanMs = parseAge(flags.olderThan, "--older-than");
  const { pruneRuns } = await import("../../../service/prune.js");
  const result = await withStore(io.cwd, projectSettings(io).settings, (store) => pruneRuns(store, { olderThanMs, projectDir: io.cwd, dryRun: !!flags.dryRun }));
  if (io.json) {
    printJson(io, { dryRun: !!flags.dryRun, ...result });
    return 0;
  }
  for (const run of result.pruned) io.out(prunedLine(run, !!flags.dryRun, io.cwd));
  for (const runId of result.busy) io.out(`left run ${runId} alone: a coord process or worker is on it`);
  if (result.compacted.length) {
    const rows = result.compacted.reduce((n, c) => n + c.checkpoints, 0);
    io.out(`compacted ${result.compacted.length} recent finished run${result.compacted.length === 1 ? "" : "s"} to their last checkpoint (${rows} older checkpoint${rows === 1 ? "" : "s"} removed)`);
  }
  const n = result.pruned.length;
  if (flags.dryRun) io.out(`dry run: ${n} run${n === 1 ? "" : "s"} would be removed; nothing was`);
  else io.out(n ? `removed ${n} run${n === 1 ? "" : "s"} that finished more than ${flags.olderThan.trim()} ago` : `no finished runs older than ${flags.olderThan.trim()}`);
  return 0;
}

/** One run: what goes (or would), and what happens to its folder. */
function prunedLine(run: PrunedRun, dryRun: boolean, cwd: string): string {
  const folder = displayPath(run.runDir, cwd);
  const fate = {
    "inside-project": `folder ${folder}${dryRun ? "" : " removed"}`,
    "outside-project": `folder ${folder} kept: it is outside the project`,
    missing: "its folder was already gone",
  }[run.folder];
  const state = `checkpoints, spec${run.queueEntry ? ", queue entry" : ""}`;
  return `${dryRun ? "would remove" : "removed"} run ${run.runId} (${run.status}, finished ${run.finishedAt}): ${state}; ${fate}`;
}

/**
 * `coord runs stats`: runs by status, p50/p95 duration, tokens and cost by mission and by agent,
 * cache savings, from the store (every worker's runs); the slowest steps from the logs found here.
 */
export async function runsStats(io: Io, flags: { mission?: string; since?: string }): Promise<number> {
  const sinceMs = flags.since === undefined ? undefined : parseAge(flags.since, "--since");
  if (flags.mission !== undefined && !flags.mission.trim()) throw new CoordError("USAGE", "--mission must name a mission id", { hint: "see them with `coord missions list`, or leave --mission out for every mission" });
  const records = await listRuns({ cwd: io.cwd, settings: projectSettings(io).settings });
  const stats = runStats(records, { ...(flags.mission !== undefined && { mission: flags.mission }), ...(sinceMs !== undefined && { sinceMs }), cwd: io.cwd });
  if (io.json) printJson(io, stats);
  else io.out(statsText(stats, records.length, flags.since?.trim()));
  return 0;
}

const count = (n: number) => n.toLocaleString("en-US");
const usd = (u: Pick<UsageTotals, "costUsd" | "unpricedCalls">) => `$${u.costUsd.toFixed(4)}${u.unpricedCalls ? "+" : ""}`;
const plural = (n: number, word: string) => `${count(n)} ${word}${n === 1 ? "" : "s"}`;

/** "2 completed, 1 failed": the statuses a set of runs has, in the order a run goes through them. */
function statusLine(byStatus: RunStats["byStatus"]): string {
  return Object.entries(byStatus)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${count(n)} ${status}`)
    .join(", ");
}

/** The report `coord runs stats` prints: totals, then tables by mission, by agent, and the slowest steps. */
function statsText(stats: RunStats, stored: number, since: string | undefined): string {
  const filter = [stats.filter.mission !== null && `of mission ${truncate(stats.filter.mission, 60)}`, since && `started in the last ${since} (since ${stats.filter.startedAfter})`].filter(Boolean).join(", ");
  if (stats.runs === 0) return stored === 0 ? "no runs yet: coord run MISSION --inputs DIR" : `no runs ${filter} (the store has ${plural(stored, "run")})`;
  const { usage, duration } = stats;
  const lines = [`${plural(stats.runs, "run")}${filter ? ` ${filter}` : ""}: ${statusLine(stats.byStatus)}`];
  lines.push(
    duration.runs
      ? `duration of ${plural(duration.runs, "finished run")}: p50 ${formatDuration(duration.p50Ms)}, p95 ${formatDuration(duration.p95Ms)}, max ${formatDuration(duration.maxMs)}`
      : "duration: no run has finished yet",
  );
  lines.push(`tokens: ${count(usage.totalTokens)} (${count(usage.inputTokens)} in, ${count(usage.outputTokens)} out); cost ${usd(usage)}`);
  if (usage.unpricedCalls) lines.push(`  (+: ${plural(usage.unpricedCalls, "step")} left out of the cost, its model having no known price: set models.prices)`);
  if (usage.cacheReadTokens || usage.cacheSavedUsd) {
    lines.push(`prompt cache: ${count(usage.cacheReadTokens)} input tokens read from the providers' caches (${Math.round(usage.cacheReadShare * 100)}% of input), saving $${usage.cacheSavedUsd.toFixed(4)}`);
  } else lines.push("prompt cache: no input read from a provider's cache");

  lines.push("", "by mission:");
  const missionRows = stats.byMission.map((m) => [truncate(m.mission, 40), count(m.runs), formatDuration(m.duration.p50Ms), formatDuration(m.duration.p95Ms), count(m.usage.totalTokens), usd(m.usage), `$${m.cacheSavedUsd.toFixed(4)}`, statusLine(m.byStatus)]);
  lines.push(table([["MISSION", "RUNS", "P50", "P95", "TOKENS", "COST", "CACHE SAVED", "STATUS"], ...missionRows]));

  lines.push("", "by agent:");
  const agentRows = stats.byAgent.map((a) => [truncate(a.agent, 40), count(a.steps), count(a.usage.totalTokens), usd(a.usage), count(a.usage.cacheReadTokens), formatDuration(a.stepTime.p50Ms), formatDuration(a.stepTime.p95Ms), a.roles.join(", ")]);
  lines.push(table([["AGENT", "STEPS", "TOKENS", "COST", "CACHE READ", "STEP P50", "STEP P95", "ROLES"], ...agentRows]));

  const { slowest, runsWithLog, runsWithoutLog } = stats.steps;
  const missing = runsWithoutLog.length ? `no run.log here for ${runsWithoutLog.slice(0, 5).join(", ")}${runsWithoutLog.length > 5 ? ` and ${runsWithoutLog.length - 5} more` : ""} (run elsewhere, or its folder removed)` : "";
  lines.push("");
  if (slowest.length === 0) {
    lines.push(`slowest steps: none logged here${missing ? `; ${missing}` : ""}`);
  } else {
    lines.push(`slowest steps (from the run.log of ${plural(runsWithLog, "run")}${missing ? `; ${missing}` : ""}):`);
    lines.push(table([["TIME", "RUN", "PHASE", "ROLE", "AGENT"], ...slowest.map((s) => [formatDuration(s.ms), s.runId, String(s.phase), s.role, s.agent])]));
  }
  return lines.join("\n");
}
