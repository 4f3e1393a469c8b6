import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it, onTestFinished } from "vitest";
import { REPO, runCli, tempProject } from "../helpers/cli.js";
import { rejection } from "../helpers/errors.js";
import { GROWTH_INPUTS, GROWTH_PLAN, agentMarkdown, runProject } from "../helpers/project.js";
import { readRunState } from "../../src/runtime/execute.js";
import { exportRun } from "../../src/runtime/export.js";
import { resolveRunModels } from "../../src/runtime/prepare.js";
import { compactRun } from "../../src/runtime/retention.js";
import { readSavedRun } from "../../src/runtime/saved-run.js";
import { loadSpec } from "../../src/runtime/store/specs.js";
import { SqliteRunStore } from "../../src/runtime/store/sqlite-store.js";
import { pruneRuns } from "../../src/service/prune.js";

const DAY = 86_400_000;
const AGENTS = { analyst: {}, researcher: {}, seller: {}, planner: {} };

function growthProject(agents: Record<string, { pre?: string }> = AGENTS): { cwd: string; home: string } {
  const cwd = runProject({ mission: GROWTH_PLAN, agents, inputs: GROWTH_INPUTS });
  return { cwd, home: join(cwd, ".coord") };
}

/** The project's store, closed when the test finishes. */
function storeOf(home: string): SqliteRunStore {
  const store = new SqliteRunStore(home);
  onTestFinished(() => store.close());
  return store;
}

async function run(cwd: string, runId: string, ...flags: string[]): Promise<number> {
  const r = await runCli(["run", "test-mission", "--inputs", "inputs", "--run-id", runId, "--quiet", ...flags], { cwd });
  return r.code;
}

/** Rows of a thread in LangGraph's tables, and whether every write belongs to a checkpoint still there. */
function rows(home: string, runId: string): { checkpoints: number; writes: number; orphanWrites: number } {
  const db = new Database(join(home, "checkpoints.sqlite"), { readonly: true });
  try {
    const count = (sql: string) => (db.prepare(sql).get(runId) as { n: number }).n;
    return {
      checkpoints: count("SELECT count(*) n FROM checkpoints WHERE thread_id = ?"),
      writes: count("SELECT count(*) n FROM writes WHERE thread_id = ?"),
      orphanWrites: count(
        "SELECT count(*) n FROM writes w WHERE w.thread_id = ? AND NOT EXISTS (SELECT 1 FROM checkpoints c WHERE c.thread_id = w.thread_id AND c.checkpoint_ns = w.checkpoint_ns AND c.checkpoint_id = w.checkpoint_id)",
      ),
    };
  } finally {
    db.close();
  }
}

/** The writes made against the thread's latest checkpoint: what a resume reads besides it. */
function latestWrites(home: string, runId: string): number {
  const db = new Database(join(home, "checkpoints.sqlite"), { readonly: true });
  try {
    return (db.prepare("SELECT count(*) n FROM writes WHERE thread_id = ? AND checkpoint_id = (SELECT MAX(checkpoint_id) FROM checkpoints WHERE thread_id = ?)").get(runId, runId) as { n: number }).n;
  } finally {
    db.close();
  }
}

function readDir(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f), "utf8")]));
}

/** The state LangGraph itself loads for the run: the mission compiled over the checkpointer, as a resume does. */
async function graphState(store: SqliteRunStore, runId: string) {
  const spec = await loadSpec(store, runId);
  return readRunState(spec, await resolveRunModels(spec.mission, spec.agents, spec.settings, {}), store);
}

function stepsStarted(runDir: string, agent: string, phase: number): number {
  return readFileSync(join(runDir, "run.log"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { msg: string; agent?: string; phase?: number })
    .filter((l) => l.msg === "step started" && l.agent === agent && l.phase === phase).length;
}

describe("compactRun", () => {
  it("leaves a completed run with its last checkpoint only, by itself; LangGraph still loads it, export and resume still work", async () => {
    const cwd = tempProject();
    const home = join(cwd, ".coord");
    const r = await runCli(["run", "sales-marketing-alignment", "--inputs", join(REPO, "examples", "acme"), "--run-id", "seed", "--quiet"], { cwd });
    expect(r.code, r.stderr).toBe(0);
    // The run compacted its own checkpoints when it completed (9 checkpoints and 41 writes before).
    expect(rows(home, "seed")).toEqual({ checkpoints: 1, writes: 0, orphanWrites: 0 });
    const store = storeOf(home);
    const state = await graphState(store, "seed");
    expect(Object.keys(state.values.deliverables ?? {})).toEqual(["1", "2", "3"]);
    expect(state.pause).toBeNull();

    const out = join(cwd, "copy");
    await exportRun(store, "seed", { outDir: out });
    expect(readDir(join(out, "deliverables"))).toEqual(readDir(join(cwd, "runs", "seed", "deliverables")));

    // A resume of a completed, compacted run finds nothing to do and changes nothing.
    const deliverables = readDir(join(cwd, "runs", "seed", "deliverables"));
    const resumed = await runCli(["resume", "seed", "--json"], { cwd });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout).status).toBe("completed");
    expect(readDir(join(cwd, "runs", "seed", "deliverables"))).toEqual(deliverables);
    expect(rows(home, "seed").checkpoints).toBe(1);
    // Compacting again is harmless.
    expect(await compactRun(store, "seed")).toMatchObject({ compacted: true, checkpoints: 0, writes: 0 });
  });

  it("keeps a failed run's last checkpoint with the writes of its finished steps, so the resume does not redo them", async () => {
    const { cwd, home } = growthProject({ ...AGENTS, seller: { pre: "exit 7" } });
    expect(await run(cwd, "broken")).toBe(1);
    const kept = latestWrites(home, "broken");
    expect(kept).toBeGreaterThan(0);

    const compaction = await compactRun(storeOf(home), "broken");
    expect(compaction).toMatchObject({ status: "failed", compacted: true });
    expect(rows(home, "broken")).toEqual({ checkpoints: 1, writes: kept, orphanWrites: 0 });

    writeFileSync(join(cwd, "agents", "seller.md"), agentMarkdown("seller"));
    const resumed = await runCli(["resume", "broken", "--quiet"], { cwd });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(stepsStarted(join(cwd, "runs", "broken"), "researcher", 1)).toBe(1);
  });

  it("leaves paused runs whole: for approval and on their budget", async () => {
    const { cwd, home } = growthProject();
    expect(await run(cwd, "approval", "--approve")).toBe(3);
    expect(await run(cwd, "budget", "--max-tokens", "10")).toBe(3);
    const store = storeOf(home);
    for (const runId of ["approval", "budget"]) {
      const before = rows(home, runId);
      expect(await compactRun(store, runId)).toEqual({ runId, status: "paused", compacted: false, checkpoints: 0, writes: 0 });
      expect(rows(home, runId)).toEqual(before);
    }
    expect((await readSavedRun(store, await loadSpec(store, "approval"))).stop).toEqual({ status: "paused", reason: "approval", pausedPhase: 1 });
    expect((await readSavedRun(store, await loadSpec(store, "budget"))).stop).toMatchObject({ status: "paused", reason: "budget" });
    const approved = await runCli(["approve", "approval", "--quiet"], { cwd });
    expect(approved.code, approved.stderr).toBe(3);
  });
});

describe("readSavedRun", () => {
  it("tells each stop as run.json does, from the checkpoint alone", async () => {
    const { cwd, home } = growthProject({ ...AGENTS, planner: { pre: "exit 3" } });
    expect(await run(cwd, "fails")).toBe(1);
    expect(await run(cwd, "done", "--no-hooks")).toBe(0);
    const store = storeOf(home);
    for (const runId of ["fails", "done"]) {
      const record = JSON.parse(readFileSync(join(cwd, "runs", runId, "run.json"), "utf8")) as { status: string };
      const { stop, savedAt } = await readSavedRun(store, await loadSpec(store, runId));
      expect(stop.status).toBe(record.status);
      expect(stop.finishedAt).toBe(savedAt);
    }
    expect((await readSavedRun(store, await loadSpec(store, "fails"))).stop.error).toContain("pre hook of agent planner");
  });
});

describe("exportRun", () => {
  it("is RUN_NOT_FOUND for an unknown run, and writes nothing", async () => {
    const { cwd, home } = growthProject();
    const error = await rejection(exportRun(storeOf(home), "no-such-run", { outDir: join(cwd, "out") }));
    expect(error.code).toBe("RUN_NOT_FOUND");
    expect(existsSync(join(cwd, "out"))).toBe(false);
  });
});

describe("pruneRuns", () => {
  it("removes finished runs that finished before the cutoff, keeps recent, paused and queued ones, and compacts the recent", async () => {
    const { cwd, home } = growthProject({ ...AGENTS, seller: { pre: 'test "$COORD_RUN_ID" != old-failed' } });
    const elsewhere = tempProject();
    expect(await run(cwd, "old-done")).toBe(0);
    // old-done was worked on by a worker: its queue entry is done.
    const store = storeOf(home);
    const queue = store.queue;
    await queue.enqueue("old-done");
    await queue.finish((await queue.claim("test", 60_000))!);
    expect(await run(cwd, "old-failed")).toBe(1);
    expect(await run(cwd, "old-outside", "--out", elsewhere)).toBe(0);
    expect(await run(cwd, "old-paused", "--approve")).toBe(3);
    expect(await run(cwd, "old-requeued")).toBe(0);
    expect((await runCli(["run", "test-mission", "--inputs", "inputs", "--run-id", "queued", "--detach"], { cwd })).code).toBe(0);
    await new Promise((r) => setTimeout(r, 5));
    expect(await run(cwd, "recent")).toBe(0);

    // old-requeued finished, then was queued again: a worker is about to take it.
    await queue.enqueue("old-requeued");

    // "Now" is 30 days after `recent` finished, less a millisecond: every other run is older.
    const { savedAt } = await readSavedRun(store, await loadSpec(store, "recent"));
    const options = { olderThanMs: 30 * DAY, projectDir: cwd, now: new Date(Date.parse(savedAt!) + 30 * DAY - 1) };
    const recentRows = rows(home, "recent");

    const dry = await pruneRuns(store, { ...options, dryRun: true });
    expect(dry.pruned.map((p) => [p.runId, p.status, p.folder])).toEqual([
      ["old-done", "completed", "inside-project"],
      ["old-failed", "failed", "inside-project"],
      ["old-outside", "completed", "outside-project"],
    ]);
    expect(dry.busy).toEqual(["old-requeued"]);
    expect(dry.compacted).toEqual([]);
    for (const runId of ["old-done", "old-failed", "old-outside"]) expect(existsSync(join(home, "runs", `${runId}.json`))).toBe(true);
    expect(rows(home, "recent")).toEqual(recentRows);

    const result = await pruneRuns(store, options);
    expect(result.pruned.map((p) => [p.runId, p.folder, p.queueEntry])).toEqual([
      ["old-done", "inside-project", true],
      ["old-failed", "inside-project", false],
      ["old-outside", "outside-project", false],
    ]);
    // Finished runs compact themselves when they finish: the recent one has nothing left to drop.
    expect(recentRows).toEqual({ checkpoints: 1, writes: 0, orphanWrites: 0 });
    expect(result.compacted).toEqual([]);
    for (const runId of ["old-done", "old-failed", "old-outside"]) {
      expect(existsSync(join(home, "runs", `${runId}.json`)), runId).toBe(false);
      expect(rows(home, runId), runId).toEqual({ checkpoints: 0, writes: 0, orphanWrites: 0 });
    }
    expect(existsSync(join(cwd, "runs", "old-done"))).toBe(false);
    expect(existsSync(join(elsewhere, "old-outside", "run.json"))).toBe(true);
    const jobs = new Database(join(home, "checkpoints.sqlite"), { readonly: true });
    expect(jobs.prepare("SELECT run_id FROM coord_jobs ORDER BY run_id").all()).toEqual([{ run_id: "old-requeued" }, { run_id: "queued" }]);
    jobs.close();
    expect(rows(home, "recent").checkpoints).toBe(1);
    for (const runId of ["old-paused", "old-requeued", "queued", "recent"]) expect(existsSync(join(home, "runs", `${runId}.json`)), runId).toBe(true);
    expect(rows(home, "old-paused").checkpoints).toBeGreaterThan(1);
  });
});
