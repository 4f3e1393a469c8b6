import { existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { STACK_LINE, runCli } from "../../helpers/cli.js";
import { GROWTH_INPUTS, GROWTH_PLAN, runProject } from "../../helpers/project.js";
import { compactRun } from "../../../src/runtime/retention.js";
import { SqliteRunStore } from "../../../src/runtime/store/sqlite-store.js";

function growthProject(agents: Record<string, { pre?: string }> = { analyst: {}, researcher: {}, seller: {}, planner: {} }): string {
  return runProject({ mission: GROWTH_PLAN, agents, inputs: GROWTH_INPUTS });
}

async function run(cwd: string, runId: string, ...flags: string[]): Promise<number> {
  return (await runCli(["run", "test-mission", "--inputs", "inputs", "--run-id", runId, "--quiet", ...flags], { cwd })).code;
}

/** Every file under a folder, by relative path. */
function tree(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name))
      .sort()
      .map((f) => [f.slice(dir.length + 1), readFileSync(f, "utf8")]),
  );
}

/** What a run folder and its export share: everything but the log, with the finish time (the export's is its last checkpoint's) left out. */
function comparable(dir: string): Record<string, unknown> {
  const { "run.log": _log, "run.json": json, "report.md": report, ...files } = tree(dir);
  const { finishedAt: _finished, runDir: _runDir, ...record } = JSON.parse(json!) as Record<string, unknown>;
  return { ...files, "report.md": report!.replace(/ · finished \S+/, ""), "run.json": record };
}

function oneLine(stderr: string): void {
  expect(stderr.trim().split("\n")).toHaveLength(1);
  expect(stderr).not.toMatch(STACK_LINE);
}

describe("coord runs export", () => {
  it("writes the run folder anew after it was deleted: deliverables and notes byte-identical, to exports/RUN_ID by default", async () => {
    const cwd = growthProject();
    expect(await run(cwd, "growth")).toBe(0);
    const original = comparable(join(cwd, "runs", "growth"));
    expect(Object.keys(original).filter((f) => f.startsWith("deliverables/"))).toHaveLength(3);
    rmSync(join(cwd, "runs", "growth"), { recursive: true });

    const r = await runCli(["runs", "export", "growth"], { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("exported run growth (completed) to exports/growth: report.md, run.json, 3 deliverables, 3 notes");
    expect(comparable(join(cwd, "exports", "growth"))).toEqual(original);
    expect(JSON.parse(readFileSync(join(cwd, "exports", "growth", "run.json"), "utf8")).runDir).toBe(join(cwd, "exports", "growth"));

    // Compaction keeps what export reads.
    const store = new SqliteRunStore(join(cwd, ".coord"));
    try {
      await compactRun(store, "growth");
    } finally {
      await store.close();
    }
    const again = await runCli(["runs", "export", "growth", "--out", "runs/growth", "--json"], { cwd });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).status).toBe("completed");
    expect(comparable(join(cwd, "runs", "growth"))).toEqual(original);
  });

  it("exports a failed run and a paused one as they stand", async () => {
    const cwd = growthProject({ analyst: {}, researcher: {}, seller: {}, planner: { pre: "exit 4" } });
    expect(await run(cwd, "failed")).toBe(1);
    expect(await run(cwd, "paused", "--approve", "--no-hooks")).toBe(3);
    const failed = await runCli(["runs", "export", "failed", "--json"], { cwd });
    expect(JSON.parse(failed.stdout)).toMatchObject({ status: "failed", error: expect.stringContaining("pre hook of agent planner") });
    const paused = await runCli(["runs", "export", "paused", "--json"], { cwd });
    expect(JSON.parse(paused.stdout)).toMatchObject({ status: "paused", reason: "approval", phases: [{ status: "awaiting-approval" }, { status: "pending" }] });
    expect(readFileSync(join(cwd, "exports", "paused", "report.md"), "utf8")).toContain("**paused** (approval)");
  });

  it("refuses a folder that holds files, the run's own included, unless --force; never a file", async () => {
    const cwd = growthProject();
    expect(await run(cwd, "growth")).toBe(0);
    const dir = join(cwd, "runs", "growth");
    const before = comparable(dir);
    const log = tree(dir)["run.log"];
    const r = await runCli(["runs", "export", "growth", "--out", "runs/growth"], { cwd });
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toContain("runs/growth: --out folder is not empty (it is the run's own folder) (fix: name a new folder, or add --force");

    const forced = await runCli(["runs", "export", "growth", "--out", "runs/growth", "--force"], { cwd });
    expect(forced.code, forced.stderr).toBe(0);
    expect(comparable(dir)).toEqual(before);
    // What coord does not keep is left as it was.
    expect(tree(dir)["run.log"]).toBe(log);

    const file = await runCli(["runs", "export", "growth", "--out", "inputs/market-brief.md", "--force"], { cwd });
    expect(file.code).toBe(2);
    oneLine(file.stderr);
    expect(file.stderr).toContain("inputs/market-brief.md: --out names a file, not a folder");
  });

  it("names an unknown run as RUN_NOT_FOUND does, one line, exit 2", async () => {
    const cwd = growthProject();
    expect(await run(cwd, "growth")).toBe(0);
    const r = await runCli(["runs", "export", "grwoth"], { cwd });
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toContain('no run "grwoth"');
    expect(r.stderr).toContain("did you mean growth?");
    expect(existsSync(join(cwd, "exports"))).toBe(false);
  });
});

describe("coord runs prune", () => {
  it("--dry-run lists finished runs and removes nothing; then they are removed and paused runs stay, resumable", async () => {
    const cwd = growthProject({ analyst: {}, researcher: {}, seller: {}, planner: { pre: 'test "$COORD_RUN_ID" != failed' } });
    expect(await run(cwd, "done")).toBe(0);
    expect(await run(cwd, "failed")).toBe(1);
    expect(await run(cwd, "paused", "--approve")).toBe(3);

    const dry = await runCli(["runs", "prune", "--older-than", "0m", "--dry-run"], { cwd });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^would remove run done \(completed, finished \S+\): checkpoints, spec; folder runs\/done$/m);
    expect(dry.stdout).toMatch(/^would remove run failed \(failed, finished \S+\): checkpoints, spec; folder runs\/failed$/m);
    expect(dry.stdout).not.toContain("paused");
    expect(dry.stdout).toContain("dry run: 2 runs would be removed; nothing was");
    expect(existsSync(join(cwd, "runs", "done"))).toBe(true);

    const r = await runCli(["runs", "prune", "--older-than", "0m"], { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^removed run done \(completed, finished \S+\): checkpoints, spec; folder runs\/done removed$/m);
    expect(r.stdout).toContain("removed 2 runs that finished more than 0m ago");
    expect(existsSync(join(cwd, "runs", "done"))).toBe(false);
    const list = JSON.parse((await runCli(["runs", "list", "--json"], { cwd })).stdout) as Array<{ runId: string }>;
    expect(list.map((x) => x.runId)).toEqual(["paused"]);
    expect((await runCli(["runs", "export", "done"], { cwd })).code).toBe(2);
    expect((await runCli(["approve", "paused", "--quiet"], { cwd })).code).toBe(3);

    const nothing = await runCli(["runs", "prune", "--older-than", "30d"], { cwd });
    expect(nothing.stdout.trim()).toBe("no finished runs older than 30d");
  });

  it.each(["banana", "30", "-5d", "5w", "1.5d", "30 days", ""])("--older-than %j is a usage error: exit 2, one line", async (age) => {
    const cwd = growthProject();
    const r = await runCli(["runs", "prune", "--older-than", age], { cwd });
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toContain("--older-than must be a whole number of days, hours or minutes such as 30d, 12h or 45m");
    expect(r.stdout).toBe("");
  });

  it("without --older-than is a usage error (nothing is pruned by default)", async () => {
    const r = await runCli(["runs", "prune"], { cwd: growthProject() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--older-than");
  });
});
