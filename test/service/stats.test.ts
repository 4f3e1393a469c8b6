import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { RunRecord } from "../../src/runtime/record.js";
import { openStore } from "../../src/runtime/store/open-store.js";
import { formatDuration, percentile, readStepTimes, runStats, type RunStats, type StepTime } from "../../src/service/stats.js";
import { BIN, REPO, STACK_LINE, cliEnv, runCli } from "../helpers/cli.js";
import { postgresSchemaUrl } from "../helpers/postgres.js";
import { GROWTH_INPUTS, GROWTH_PLAN, runProject } from "../helpers/project.js";

// Issue #15: `coord runs stats` sums up a project's runs from its store (so every worker's runs
// count): runs by status, p50/p95 duration, tokens and cost by mission and by agent, cache savings,
// and the slowest steps from the run logs found on this machine.

const SECOND = 1000;
const NOW = new Date("2026-03-01T12:00:00.000Z");

/** A run record with the given times and calls, as run.json has them. */
function record(runId: string, fields: Partial<RunRecord> & { seconds?: number; startedAgoMs?: number } = {}): RunRecord {
  const { seconds, startedAgoMs = 60 * SECOND * 60, ...rest } = fields;
  const started = NOW.getTime() - startedAgoMs;
  return {
    runId,
    mission: "alpha",
    title: "Alpha",
    status: "completed",
    model: "offline",
    startedAt: new Date(started).toISOString(),
    finishedAt: seconds === undefined ? null : new Date(started + seconds * SECOND).toISOString(),
    runDir: join(tmpdir(), "coord-stats-nowhere", runId),
    phases: [],
    usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: 0 },
    approvals: [],
    ...rest,
  };
}

type Call = RunRecord["phases"][number]["calls"][number];
const call = (agent: string, role: Call["role"], input: number, output: number, costUsd: number | null, cacheReadTokens?: number): Call => ({
  agent,
  role,
  model: "openai:gpt-4o-mini",
  usage: { inputTokens: input, outputTokens: output, totalTokens: input + output, ...(cacheReadTokens !== undefined && { cacheReadTokens }) },
  costUsd,
  attempts: 1,
});
const phase = (index: number, calls: Call[]): RunRecord["phases"][number] => ({ index, title: `Phase ${index}`, lead: "a", support: [], status: "completed", deliverables: [], calls });

const noLogs = () => undefined;

describe("runStats", () => {
  it("takes p50 and p95 by nearest rank: each is the duration of an actual run", () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([7], 50)).toBe(7);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([3, 1, 5, 2, 4], 50)).toBe(3);
    expect(percentile([3, 1, 5, 2, 4], 95)).toBe(5);
    expect(percentile([3, 1, 5, 2, 4], 0)).toBe(1);
    expect(percentile([3, 1, 5, 2, 4], 100)).toBe(5);
    // 1..20 seconds, out of order: p50 is the 10th, p95 the 19th (not 10.5 and 19.05 interpolated).
    const twenty = Array.from({ length: 20 }, (_, i) => ((i * 7) % 20) + 1);
    const stats = runStats(twenty.map((s, i) => record(`r${i}`, { seconds: s })), { now: NOW, stepTimes: noLogs });
    expect(stats.duration).toEqual({ runs: 20, p50Ms: 10 * SECOND, p95Ms: 19 * SECOND, maxMs: 20 * SECOND });
  });

  it("counts runs by status, and times only finished ones (completed and failed)", () => {
    const records = [
      record("done1", { seconds: 30 }),
      record("done2", { seconds: 90 }),
      record("broke", { status: "failed", seconds: 10 }),
      record("waits", { status: "paused", reason: "approval" }),
      record("busy", { status: "running" }),
      record("queued", { status: "queued" }),
      // Finished times that do not parse are not a duration.
      record("odd", { status: "failed", finishedAt: "not a time" }),
    ];
    const stats = runStats(records, { now: NOW, stepTimes: noLogs });
    expect(stats.runs).toBe(7);
    expect(stats.byStatus).toEqual({ queued: 1, running: 1, paused: 1, completed: 2, failed: 2 });
    expect(stats.duration).toEqual({ runs: 3, p50Ms: 30 * SECOND, p95Ms: 90 * SECOND, maxMs: 90 * SECOND });
  });

  it("sums tokens and cost by mission and by agent, judges included, keeping unpriced calls apart; cache savings from the records", () => {
    const r1 = record("r1", {
      seconds: 10,
      phases: [phase(1, [call("a", "lead", 100, 20, 0.01), call("b", "support", 50, 10, 0.002, 40)])],
      criteriaCalls: [{ ...call("judge", "judge", 10, 5, null), role: "judge" }],
      usage: { inputTokens: 160, outputTokens: 35, totalTokens: 195, cacheReadTokens: 40, costUsd: null, cacheSavedUsd: 0.003 },
    });
    const r2 = record("r2", { mission: "beta", title: "Beta", seconds: 20, phases: [phase(1, [call("a", "support", 200, 30, 0.02)])], usage: { inputTokens: 200, outputTokens: 30, totalTokens: 230, costUsd: 0.02 } });
    const stats = runStats([r1, r2], { now: NOW, stepTimes: noLogs });
    expect(stats.usage).toMatchObject({ inputTokens: 360, outputTokens: 65, totalTokens: 425, cacheReadTokens: 40, unpricedCalls: 1 });
    expect(stats.usage.costUsd).toBeCloseTo(0.032, 10);
    expect(stats.usage.cacheSavedUsd).toBeCloseTo(0.003, 10);
    expect(stats.usage.cacheReadShare).toBeCloseTo(40 / 360, 10);
    expect(stats.byMission.map((m) => [m.mission, m.runs, m.usage.totalTokens, m.usage.unpricedCalls])).toEqual([
      ["alpha", 1, 195, 1],
      ["beta", 1, 230, 0],
    ]);
    expect(stats.byMission[0]!.cacheSavedUsd).toBeCloseTo(0.003, 10);
    // Most tokens first.
    expect(stats.byAgent.map((a) => [a.agent, a.roles, a.steps, a.runs, a.usage.totalTokens])).toEqual([
      ["a", ["lead", "support"], 2, 2, 350],
      ["b", ["support"], 1, 1, 60],
      ["judge", ["judge"], 1, 1, 15],
    ]);
    expect(stats.byAgent[0]!.usage.costUsd).toBeCloseTo(0.03, 10);
    expect(stats.byAgent[2]!.usage).toMatchObject({ costUsd: 0, unpricedCalls: 1 });
  });

  it("filters by mission and by start time, saying what it kept", () => {
    const records = [record("old", { seconds: 5, startedAgoMs: 10 * 86_400_000 }), record("new", { seconds: 5, startedAgoMs: 3_600_000 }), record("beta", { mission: "beta", seconds: 5, startedAgoMs: 60_000 })];
    const ids = (s: RunStats) => s.byMission.flatMap((m) => m.mission).join(",") + ":" + s.runs;
    expect(ids(runStats(records, { now: NOW, stepTimes: noLogs }))).toBe("alpha,beta:3");
    expect(ids(runStats(records, { now: NOW, mission: "alpha", stepTimes: noLogs }))).toBe("alpha:2");
    const recent = runStats(records, { now: NOW, sinceMs: 2 * 86_400_000, stepTimes: noLogs });
    expect(ids(recent)).toBe("alpha,beta:2");
    expect(recent.filter).toEqual({ mission: null, startedAfter: "2026-02-27T12:00:00.000Z" });
    expect(runStats(records, { now: NOW, sinceMs: 2 * 86_400_000, mission: "alpha", stepTimes: noLogs }).runs).toBe(1);
    expect(runStats(records, { now: NOW, sinceMs: 30 * SECOND, stepTimes: noLogs }).runs).toBe(0);
    // Longer ago than a Date can say: every run.
    expect(runStats(records, { now: NOW, sinceMs: 999_999_999 * 86_400_000, stepTimes: noLogs }).runs).toBe(3);
  });

  it("lists the slowest steps from the runs with logs and names the runs without", () => {
    const times: Record<string, StepTime[]> = {
      r1: [
        { runId: "r1", mission: "alpha", phase: 1, role: "support", agent: "b", ms: 400 },
        { runId: "r1", mission: "alpha", phase: 1, role: "lead", agent: "a", ms: 900 },
      ],
      r2: [{ runId: "r2", mission: "alpha", phase: 1, role: "lead", agent: "a", ms: 100 }],
    };
    const records = ["r1", "r2", "r3"].map((id) => record(id, { seconds: 5, phases: [phase(1, [call("a", "lead", 1, 1, 0), call("b", "support", 1, 1, 0)])] }));
    const stats = runStats(records, { now: NOW, slowest: 2, stepTimes: (r) => times[r.runId] });
    expect(stats.steps).toEqual({ source: "run.log", runsWithLog: 2, runsWithoutLog: ["r3"], slowest: [times.r1![1], times.r1![0]] });
    expect(stats.byAgent.find((a) => a.agent === "a")!.stepTime).toEqual({ steps: 2, p50Ms: 100, p95Ms: 900 });
  });

  it("reads step times from a run's log, skipping lines that are not a finished step; none when the log is not here", () => {
    const dir = mkdtempSync(join(tmpdir(), "coord-stats-"));
    const rec = record("logged", { runDir: join(dir, "runs", "logged") });
    mkdirSync(rec.runDir, { recursive: true });
    const line = (o: object) => JSON.stringify({ level: 30, time: 1, runId: "logged", ...o });
    writeFileSync(
      join(rec.runDir, "run.log"),
      [
        line({ phase: 1, role: "support", agent: "b", msg: "step started" }),
        line({ phase: 1, role: "support", agent: "b", ms: 12, msg: "step finished" }),
        line({ msg: "step finished", ms: "fast" }),
        "{not json, \"step finished\"",
        line({ phase: 1, role: "lead", agent: "a", ms: 34, msg: "step finished" }),
        '{"level":30,"phase":2,"msg":"step fin',
      ].join("\n"),
    );
    expect(readStepTimes(rec)?.map((s) => `${s.phase}/${s.role}/${s.agent} ${s.ms}`)).toEqual(["1/support/b 12", "1/lead/a 34"]);
    // A run carried on by a worker in this project has its folder under its runs/ here.
    expect(readStepTimes({ ...rec, runDir: "/elsewhere/runs/logged" }, dir)?.length).toBe(2);
    expect(readStepTimes({ ...rec, runDir: "/elsewhere/runs/logged" })).toBeUndefined();
  });

  it("formats durations for people", () => {
    expect([null, 850, 12_340, 59_990, 252_000, 7_380_000].map(formatDuration)).toEqual(["-", "850ms", "12.3s", "1m 00s", "4m 12s", "2h 03m"]);
  });
});

// ---- The command, over real runs made offline ----

function growthProject(agents: Record<string, { pre?: string }> = { analyst: {}, researcher: {}, seller: {}, planner: {} }): string {
  return runProject({ mission: GROWTH_PLAN, agents, inputs: GROWTH_INPUTS });
}

async function run(cwd: string, runId: string, options: { mission?: string; flags?: string[]; env?: Record<string, string> } = {}): Promise<RunRecord> {
  const r = await runCli(["run", options.mission ?? "test-mission", "--inputs", "inputs", "--run-id", runId, "--quiet", "--json", ...(options.flags ?? [])], { cwd, ...(options.env && { env: options.env }) });
  expect(r.stdout, r.stderr).not.toBe("");
  return JSON.parse(r.stdout) as RunRecord;
}

async function stats(cwd: string, args: string[] = [], env?: Record<string, string>): Promise<RunStats> {
  const r = await runCli(["runs", "stats", "--json", ...args], { cwd, ...(env && { env }) });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as RunStats;
}

/** Sets a run's start and finish in its run.json (where the SQLite store keeps its record). */
function retime(cwd: string, runId: string, startedAgoMs: number, seconds: number): void {
  const file = join(cwd, "runs", runId, "run.json");
  const rec = JSON.parse(readFileSync(file, "utf8")) as RunRecord;
  const started = Date.now() - startedAgoMs;
  writeFileSync(file, JSON.stringify({ ...rec, startedAt: new Date(started).toISOString(), finishedAt: new Date(started + seconds * SECOND).toISOString() }));
}

const tokensOf = (records: RunRecord[]) => records.reduce((n, r) => n + r.usage.totalTokens, 0);

describe("coord runs stats", () => {
  // Two completed runs and a failed one of the growth plan, a completed run of another mission.
  let cwd: string;
  let records: RunRecord[];

  beforeAll(async () => {
    cwd = growthProject({ analyst: {}, researcher: {}, seller: {}, planner: { pre: "echo 'no credentials' >&2; exit 1" } });
    writeFileSync(join(cwd, "missions", "other.md"), GROWTH_PLAN.replace("# Mission: Growth Plan", "# Mission: Other Plan"));
    records = [
      await run(cwd, "a", { flags: ["--no-hooks"] }),
      await run(cwd, "b", { flags: ["--no-hooks"] }),
      await run(cwd, "f"),
      await run(cwd, "o", { mission: "other", flags: ["--no-hooks"] }),
    ];
    expect(records.map((r) => r.status)).toEqual(["completed", "completed", "failed", "completed"]);
  }, 60_000);

  it("counts the runs by status, and tokens by mission and by agent as their records have them", async () => {
    const s = await stats(cwd);
    expect(s.runs).toBe(4);
    expect(s.byStatus).toEqual({ queued: 0, running: 0, paused: 0, completed: 3, failed: 1 });
    expect(s.duration.runs).toBe(4);
    expect(s.duration.p50Ms).toBeLessThanOrEqual(s.duration.p95Ms!);
    expect(s.usage.totalTokens).toBe(tokensOf(records));
    expect(s.usage).toMatchObject({ costUsd: 0, unpricedCalls: 0, cacheReadTokens: 0, cacheSavedUsd: 0 });
    expect(s.byMission.map((m) => [m.mission, m.title, m.runs, m.byStatus.completed, m.byStatus.failed, m.usage.totalTokens])).toEqual([
      ["test-mission", "Growth Plan", 3, 2, 1, tokensOf(records.slice(0, 3))],
      ["other", "Other Plan", 1, 1, 0, tokensOf(records.slice(3))],
    ]);
    expect(s.byAgent.map((a) => a.agent).sort()).toEqual(["analyst", "judge", "planner", "researcher", "seller"]);
    expect(s.byAgent.reduce((n, a) => n + a.usage.totalTokens, 0)).toBe(s.usage.totalTokens);
    // The failed run stopped at the planner's pre hook: three planners, not four, ever wrote.
    expect(s.byAgent.find((a) => a.agent === "planner")).toMatchObject({ steps: 3, runs: 3, roles: ["lead"] });
    expect(s.byAgent.find((a) => a.agent === "analyst")).toMatchObject({ steps: 8, runs: 4, roles: ["lead", "plan"] });
    // Every run ran here: step times from each run's log, slowest first.
    expect(s.steps.runsWithLog).toBe(4);
    expect(s.steps.runsWithoutLog).toEqual([]);
    expect(s.steps.slowest).toHaveLength(10);
    expect(s.steps.slowest.map((step) => step.ms)).toEqual([...s.steps.slowest.map((step) => step.ms)].sort((x, y) => y - x));
    for (const step of s.steps.slowest) expect(["a", "b", "f", "o"]).toContain(step.runId);
  });

  it("prints a readable report: totals, then tables by mission and by agent, and the slowest steps", async () => {
    const r = await runCli(["runs", "stats"], { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe("4 runs: 3 completed, 1 failed");
    expect(lines[1]).toMatch(/^duration of 4 finished runs: p50 \S+, p95 \S+, max \S+$/);
    expect(lines[2]).toBe(`tokens: ${tokensOf(records).toLocaleString("en-US")} (${records.reduce((n, x) => n + x.usage.inputTokens, 0).toLocaleString("en-US")} in, ${records.reduce((n, x) => n + x.usage.outputTokens, 0).toLocaleString("en-US")} out); cost $0.0000`);
    expect(lines[3]).toBe("prompt cache: no input read from a provider's cache");
    expect(r.stdout).toMatch(/^MISSION +RUNS +P50 +P95 +TOKENS +COST +CACHE SAVED +STATUS$/m);
    expect(r.stdout).toMatch(/^test-mission +3 +\S+ +\S+ +[\d,]+ +\$0\.0000 +\$0\.0000 +2 completed, 1 failed$/m);
    expect(r.stdout).toMatch(/^AGENT +STEPS +TOKENS +COST +CACHE READ +STEP P50 +STEP P95 +ROLES$/m);
    expect(r.stdout).toMatch(/^analyst +8 +[\d,]+ +\$0\.0000 +0 +\S+ +\S+ +lead, plan$/m);
    expect(r.stdout).toContain("slowest steps (from the run.log of 4 runs):");
    expect(r.stdout).toMatch(/^TIME +RUN +PHASE +ROLE +AGENT$/m);
  });

  it("filters by --mission and --since", async () => {
    expect((await stats(cwd, ["--mission", "other"])).byMission.map((m) => [m.mission, m.runs])).toEqual([["other", 1]]);
    const growth = await stats(cwd, ["--mission", "test-mission", "--since", "1h"]);
    expect([growth.runs, growth.byStatus.failed, growth.filter.mission]).toEqual([3, 1, "test-mission"]);
    expect(Date.parse(growth.filter.startedAfter!)).toBeGreaterThan(Date.now() - 3_600_000 - 60_000);
    expect((await stats(cwd, ["--since", "999999999d"])).runs).toBe(4);
    const none = await runCli(["runs", "stats", "--mission", "nope"], { cwd });
    expect(none.code).toBe(0);
    expect(none.stdout.trim()).toBe("no runs of mission nope (the store has 4 runs)");
  });

  it("answers hostile flags with one line and exit 2", async () => {
    for (const args of [["--since", "banana"], ["--since", ""], ["--since", "-5d"], ["--since", "7 days"], ["--since", "1e3d"], ["--since", "5s"], ["--mission", " "]]) {
      const r = await runCli(["runs", "stats", ...args], { cwd });
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1);
      expect(r.stderr).not.toMatch(STACK_LINE);
    }
    const banana = await runCli(["runs", "stats", "--since", "banana"], { cwd });
    expect(banana.stderr.trim()).toBe('coord: --since must be a whole number of days, hours or minutes such as 30d, 12h or 45m, not "banana" (fix: e.g. --since 30d)');
  });

  it("says there are no runs in a project that never ran one", async () => {
    const empty = growthProject();
    const r = await runCli(["runs", "stats"], { cwd: empty });
    expect([r.code, r.stdout.trim()]).toEqual([0, "no runs yet: coord run MISSION --inputs DIR"]);
    expect((await stats(empty)).runs).toBe(0);
  });

  it("loads no LangChain (the real bin, traced as the read-only commands are)", () => {
    const traceFile = join(mkdtempSync(join(tmpdir(), "coord-trace-")), "trace.txt");
    writeFileSync(traceFile, "");
    const r = spawnSync(process.execPath, ["--import", join(REPO, "bench", "trace-imports.js"), BIN, "runs", "stats"], { cwd, env: cliEnv({ TRACE_FILE: traceFile }), encoding: "utf8", timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("4 runs: 3 completed, 1 failed");
    const modules = readFileSync(traceFile, "utf8").split("\n").filter(Boolean);
    expect(modules.length).toBeGreaterThan(0);
    expect(modules.filter((url) => /\/node_modules\/(?:@langchain\/|langchain\/)/.test(url))).toEqual([]);
  });
});

describe("coord runs stats on known durations", () => {
  it("gives p50 and p95 of the runs' own times, and step times only for runs whose log is here", async () => {
    const cwd = growthProject();
    for (const id of ["a", "b", "c"]) await run(cwd, id);
    retime(cwd, "a", 3 * 86_400_000, 10);
    retime(cwd, "b", 3_600_000, 20);
    retime(cwd, "c", 10 * 60_000, 60);
    expect((await stats(cwd)).duration).toEqual({ runs: 3, p50Ms: 20 * SECOND, p95Ms: 60 * SECOND, maxMs: 60 * SECOND });
    expect((await stats(cwd, ["--since", "2h"])).duration).toEqual({ runs: 2, p50Ms: 20 * SECOND, p95Ms: 60 * SECOND, maxMs: 60 * SECOND });
    expect((await stats(cwd, ["--since", "30m"])).duration).toEqual({ runs: 1, p50Ms: 60 * SECOND, p95Ms: 60 * SECOND, maxMs: 60 * SECOND });
    expect((await stats(cwd, ["--since", "1m"])).runs).toBe(0);

    rmSync(join(cwd, "runs", "a", "run.log"));
    const s = await stats(cwd);
    expect([s.steps.runsWithLog, s.steps.runsWithoutLog]).toEqual([2, ["a"]]);
    expect(s.steps.slowest.every((step) => step.runId !== "a")).toBe(true);
    const text = await runCli(["runs", "stats"], { cwd });
    expect(text.stdout).toContain("duration of 3 finished runs: p50 20.0s, p95 1m 00s, max 1m 00s");
    expect(text.stdout).toContain("slowest steps (from the run.log of 2 runs; no run.log here for a (run elsewhere, or its folder removed)):");
  });
});

describe("coord runs stats on PostgreSQL", () => {
  it("reads every run from the shared store, its folders gone as on a machine that ran none of them", async () => {
    const db = postgresSchemaUrl();
    const env = { COORD_DATABASE_URL: db };
    const cwd = growthProject({ analyst: {}, researcher: {}, seller: {}, planner: { pre: "exit 1" } });
    const made = [await run(cwd, "ok", { flags: ["--no-hooks"], env }), await run(cwd, "bad", { env })];
    expect(made.map((r) => r.status)).toEqual(["completed", "failed"]);
    // The runs' folders and the SQLite side of .coord are gone: only the database has the runs.
    rmSync(join(cwd, "runs"), { recursive: true, force: true });
    rmSync(join(cwd, ".coord"), { recursive: true, force: true });
    // Chosen times, written through the store API.
    const store = await openStore(cwd, { home: ".coord", database: db });
    try {
      for (const [rec, seconds] of [[made[0]!, 40], [made[1]!, 4]] as const) {
        const started = Date.now() - 600_000;
        await store.saveRecord({ ...rec, startedAt: new Date(started).toISOString(), finishedAt: new Date(started + seconds * SECOND).toISOString() });
      }
    } finally {
      await store.close();
    }
    const s = await stats(cwd, [], env);
    expect(s.runs).toBe(2);
    expect(s.byStatus).toMatchObject({ completed: 1, failed: 1 });
    expect(s.duration).toEqual({ runs: 2, p50Ms: 4 * SECOND, p95Ms: 40 * SECOND, maxMs: 40 * SECOND });
    expect(s.usage.totalTokens).toBe(tokensOf(made));
    expect(s.steps).toEqual({ source: "run.log", runsWithLog: 0, runsWithoutLog: ["bad", "ok"], slowest: [] });
    const text = await runCli(["runs", "stats"], { cwd, env });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout.split("\n")[0]).toBe("2 runs: 1 completed, 1 failed");
    expect(text.stdout).toContain("slowest steps: none logged here; no run.log here for bad, ok (run elsewhere, or its folder removed)");
  });
});
