import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { userInfo } from "node:os";
import { join } from "node:path";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { describe, expect, it } from "vitest";
import { BIN, REPO, STACK_LINE, runBinAsync, runCli, tempProject, waitUntil } from "../helpers/cli.js";
import { GROWTH_INPUTS, GROWTH_PLAN, missionMarkdown, runProject } from "../helpers/project.js";
import { createRun, resumeRun, runMission } from "../../src/runtime/run.js";
import { CoordError, isCoordError } from "../../src/errors.js";

interface LogLine {
  msg: string;
  time: number;
  phase?: number;
  role?: string;
  agent?: string;
}

function logOf(runDir: string): LogLine[] {
  return readFileSync(join(runDir, "run.log"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as LogLine);
}

function readDir(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f), "utf8")]));
}


describe("coord run (offline)", () => {
  it("runs the README command: the seed mission on examples/acme, 15 deliverables, byte-identical across run ids", async () => {
    const cwd = tempProject();
    const inputs = join(REPO, "examples", "acme");
    const first = await runCli(["run", "sales-marketing-alignment", "--inputs", inputs, "--run-id", "one", "--json"], { cwd });
    expect(first.code, first.stderr).toBe(0);
    const record = JSON.parse(first.stdout) as { status: string; phases: Array<{ deliverables: Array<{ file: string }> }>; usage: { totalTokens: number } };
    expect(record.status).toBe("completed");
    const files = record.phases.flatMap((p) => p.deliverables.map((d) => d.file));
    expect(files).toHaveLength(15);
    for (const file of files) expect(readFileSync(join(cwd, "runs", "one", file), "utf8")).toContain("not written by an LLM");
    expect(record.usage.totalTokens).toBeGreaterThan(0);
    const report = readFileSync(join(cwd, "runs", "one", "report.md"), "utf8");
    expect(report).toContain("## Success criteria");
    expect(report).toContain("examples/acme/marketing-framework.md".split("/").pop());

    const second = await runCli(["run", "sales-marketing-alignment", "--inputs", inputs, "--run-id", "two", "--quiet"], { cwd });
    expect(second.code).toBe(0);
    expect(readDir(join(cwd, "runs", "two", "deliverables"))).toEqual(readDir(join(cwd, "runs", "one", "deliverables")));
  });

  it("gives later phases the earlier deliverables, and supports never see earlier supports' raw notes", async () => {
    const dump = 'cp "$COORD_TASK_FILE" "$COORD_RUN_DIR/seen-$COORD_PHASE-$COORD_ROLE-$COORD_AGENT.md"';
    const cwd = runProject({ mission: GROWTH_PLAN, agents: { analyst: {}, researcher: { pre: dump }, seller: {}, planner: { pre: dump } }, inputs: GROWTH_INPUTS });
    const r = await runCli(["run", "test-mission", "--inputs", "inputs", "--run-id", "flow"], { cwd });
    expect(r.code, r.stderr).toBe(0);
    const runDir = join(cwd, "runs", "flow");
    const phase1 = JSON.parse(readFileSync(join(runDir, "run.json"), "utf8")).phases[0].deliverables as Array<{ title: string; file: string }>;
    const supportTask = readFileSync(join(runDir, "seen-2-support-researcher.md"), "utf8");
    const leadTask = readFileSync(join(runDir, "seen-2-lead-planner.md"), "utf8");
    for (const task of [supportTask, leadTask]) {
      expect(task).toContain("## Earlier deliverables");
      for (const d of phase1) expect(task).toContain(`Phase 1: ${d.title}`);
    }
    const phase1Notes = readFileSync(join(runDir, "notes", "p1-seller.md"), "utf8");
    expect(phase1Notes.length).toBeGreaterThan(0);
    expect(supportTask).not.toContain("### seller");
    expect(leadTask).toContain("## Support notes");
    expect(leadTask).toContain("### researcher");
  });

  it("runs hooks in the start folder with TASK and COORD_* set, and keeps their output", async () => {
    const pre = 'echo "pre $COORD_AGENT"\nprintf "%s|%s|%s|%s|%s|%s|%s\\n" "$PWD" "$COORD_AGENT" "$COORD_ROLE" "$COORD_PHASE" "$COORD_MISSION" "$COORD_RUN_ID" "$COORD_RUN_DIR" >> hook-env.txt\nprintf "%s" "$TASK" | head -c 40 >> hook-task.txt; echo >> hook-task.txt';
    const cwd = runProject({ mission: GROWTH_PLAN, agents: { analyst: { pre }, researcher: { pre }, seller: { pre, post: "exit 7" }, planner: { pre } }, inputs: GROWTH_INPUTS });
    const r = await runCli(["run", "test-mission", "--inputs", "inputs", "--run-id", "hooks"], { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: post hook of agent seller \(agents\/seller\.md\) exited 7/);
    const rows = readFileSync(join(cwd, "hook-env.txt"), "utf8").trim().split("\n").map((l) => l.split("|"));
    expect(rows).toHaveLength(5); // 3 steps in phase 1, 2 in phase 2
    const runDir = join(cwd, "runs", "hooks");
    for (const [pwd, , , , mission, runId, dir] of rows) {
      expect(pwd).toBe(cwd);
      expect([mission, runId, dir]).toEqual(["test-mission", "hooks", runDir]);
    }
    expect(rows.map((r) => `${r[3]}/${r[2]}/${r[1]}`).sort()).toEqual(["1/lead/analyst", "1/support/researcher", "1/support/seller", "2/lead/planner", "2/support/researcher"]);
    expect(readFileSync(join(cwd, "hook-task.txt"), "utf8")).toContain("# Mission: Growth Plan");
    expect(readFileSync(join(runDir, "hooks", "p1-lead-analyst.pre.log"), "utf8")).toContain("pre analyst");
  });

  it("runs the supports of a phase at the same time, and one at a time with --concurrency 1", async () => {
    const sleep = "sleep 0.6";
    const mission = missionMarkdown("Parallel", ["Market Brief"], [{ title: "Wide", lead: "analyst", support: ["s1", "s2", "s3"], deliverables: ["Summary"] }]);
    const cwd = runProject({ mission, agents: { analyst: {}, s1: { pre: sleep }, s2: { pre: sleep }, s3: { pre: sleep } }, inputs: { "market-brief": GROWTH_INPUTS["market-brief"] } });
    const windows = (runId: string) => {
      const log = logOf(join(cwd, "runs", runId)).filter((l) => l.role === "support");
      return ["s1", "s2", "s3"].map((agent) => ({
        start: log.find((l) => l.agent === agent && l.msg === "step started")!.time,
        end: log.find((l) => l.agent === agent && l.msg === "step finished")!.time,
      }));
    };
    expect((await runCli(["run", "test-mission", "--inputs", "inputs", "--run-id", "par"], { cwd })).code).toBe(0);
    const par = windows("par");
    // All three were in flight at once: the last to start began before the first to end finished.
    expect(Math.max(...par.map((w) => w.start))).toBeLessThan(Math.min(...par.map((w) => w.end)));
    expect((await runCli(["run", "test-mission", "--inputs", "inputs", "--run-id", "seq", "--concurrency", "1"], { cwd })).code).toBe(0);
    const seq = windows("seq").sort((a, b) => a.start - b.start);
    expect(seq[1]!.start).toBeGreaterThanOrEqual(seq[0]!.end);
    expect(seq[2]!.start).toBeGreaterThanOrEqual(seq[1]!.end);
  });

  it("refuses to start when required inputs are missing, naming each, before any agent runs", async () => {
    const cwd = runProject({ mission: GROWTH_PLAN, agents: { analyst: {}, researcher: {}, seller: {}, planner: {} }, inputs: {} });
    const r = await runCli(["run", "test-mission", "--run-id", "nope"], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("market-brief");
    expect(r.stderr).toContain("sales-notes");
    expect(r.stderr).toContain("--input market-brief=@FILE");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(existsSync(join(cwd, "runs", "nope"))).toBe(false);
    expect(existsSync(join(cwd, ".coord", "runs", "nope.json"))).toBe(false);
  });

  it("accepts --input ID=VALUE and ID=@FILE instead of a folder", async () => {
    const cwd = runProject({ mission: GROWTH_PLAN, agents: { analyst: {}, researcher: {}, seller: {}, planner: {} }, inputs: GROWTH_INPUTS });
    const r = await runCli(["run", "test-mission", "--input", "market-brief=@inputs/market-brief.md", "--input", "sales-notes=Deals stall at security review.", "--run-id", "flags", "--json"], { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).status).toBe("completed");
  });

  it("fails the step when a pre hook fails, naming the agent file and hook, and resumes once it is fixed", async () => {
    const cwd = runProject({ mission: GROWTH_PLAN, agents: { analyst: {}, researcher: {}, seller: {}, planner: { pre: "echo 'no credentials' >&2; exit 3" } }, inputs: GROWTH_INPUTS });
    const r = await runCli(["run", "test-mission", "--inputs", "inputs", "--run-id", "broken", "--json"], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("pre hook of agent planner (agents/planner.md) exited 3: no credentials");
    expect(r.stderr).not.toMatch(STACK_LINE);
    const record = JSON.parse(r.stdout) as { status: string; phases: Array<{ status: string }> };
    expect(record.status).toBe("failed");
    expect(record.phases.map((p) => p.status)).toEqual(["completed", "failed"]);
    writeFileSync(join(cwd, "agents", "planner.md"), readFileSync(join(cwd, "agents", "planner.md"), "utf8").replace("exit 3", "exit 0"));
    const resumed = await runCli(["resume", "broken", "--json"], { cwd });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout).status).toBe("completed");
    const finished = logOf(join(cwd, "runs", "broken")).filter((l) => l.msg === "step finished");
    expect(finished.filter((l) => l.phase === 1)).toHaveLength(3);
  });
});

describe("run ids and early stops", () => {
  it("makes a valid default run id from a mission id with spaces or other scripts", async () => {
    const cwd = runProject({ mission: GROWTH_PLAN, agents: { analyst: {}, researcher: {}, seller: {}, planner: {} }, inputs: GROWTH_INPUTS });
    writeFileSync(join(cwd, "missions", "Growth Plan 市场.md"), GROWTH_PLAN);
    const r = await runCli(["run", "Growth Plan 市场", "--inputs", "inputs", "--json"], { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).runId).toMatch(/^Growth-Plan-\d{8}-\d{6}-\w{4}$/);
  });

  it("resumes a run that stopped before its first checkpoint from its saved inputs", async () => {
    const cwd = runProject({ mission: GROWTH_PLAN, agents: { analyst: {}, researcher: {}, seller: { pre: "true" }, planner: {} }, inputs: GROWTH_INPUTS });
    writeFileSync(join(cwd, "agents", "seller.md"), readFileSync(join(cwd, "agents", "seller.md"), "utf8").replace("capabilities: [testing]", "capabilities: [testing]\ntools: mcp__broken"));
    writeFileSync(join(cwd, ".mcp.json"), JSON.stringify({ mcpServers: { broken: { command: "/nonexistent/server" } } }));
    const r = await runCli(["run", "test-mission", "--inputs", "inputs", "--run-id", "early"], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("could not start MCP server(s) broken");
    writeFileSync(join(cwd, ".mcp.json"), JSON.stringify({ mcpServers: {} }));
    const resumed = await runCli(["resume", "early", "--json"], { cwd });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout).status).toBe("completed");
  });
});

describe("budgets", () => {
  it("pauses at the next step once --max-tokens is used up, and resumes with a higher budget", async () => {
    const cwd = runProject({ mission: GROWTH_PLAN, agents: { analyst: {}, researcher: {}, seller: {}, planner: {} }, inputs: GROWTH_INPUTS });
    const r = await runCli(["run", "test-mission", "--inputs", "inputs", "--run-id", "budget", "--max-tokens", "1", "--json"], { cwd });
    expect(r.code, r.stderr).toBe(3);
    const paused = JSON.parse(r.stdout) as { status: string; reason: string; usage: { totalTokens: number }; phases: Array<{ calls: unknown[] }> };
    expect([paused.status, paused.reason]).toEqual(["paused", "budget"]);
    // Phase 1's supports and its lead's plan started with nothing spent; the lead's step found the budget gone.
    expect((paused.phases[0]!.calls as Array<{ role: string }>).map((c) => c.role).sort()).toEqual(["plan", "support", "support"]);
    expect(paused.usage.totalTokens).toBeGreaterThan(1);
    expect(r.stderr).toContain("budget reached");
    const shown = await runCli(["runs", "show", "budget"], { cwd });
    expect(shown.stdout).toContain("budget spent: coord resume budget --max-tokens N | --max-cost USD, above the last");
    const status = await runCli(["slash", "/coord status budget"], { cwd });
    expect(status.stdout).toContain("Stopped at its budget: whoever runs coord can resume it with a higher one (`coord resume budget --max-tokens N`)");
    expect(status.stdout).not.toContain("/coord approve");
    const more = await runCli(["resume", "budget", "--max-tokens", "10000000", "--json"], { cwd });
    expect(more.code, more.stderr).toBe(0);
    expect(JSON.parse(more.stdout).status).toBe("completed");
    const finished = logOf(join(cwd, "runs", "budget")).filter((l) => l.msg === "step finished" && l.phase === 1 && l.role === "support");
    expect(finished).toHaveLength(2);
  });
});

describe("approval", () => {
  it("pauses after every phase; approve continues, reject redoes the lead with the note", async () => {
    const dump = 'cp "$COORD_TASK_FILE" "$COORD_RUN_DIR/lead-task-$COORD_PHASE.md"';
    const cwd = runProject({ mission: GROWTH_PLAN, agents: { analyst: { pre: dump }, researcher: {}, seller: {}, planner: { pre: "true" } }, inputs: GROWTH_INPUTS });
    const start = await runCli(["run", "test-mission", "--inputs", "inputs", "--run-id", "rev", "--approve", "--json"], { cwd });
    expect(start.code, start.stderr).toBe(3);
    const paused = JSON.parse(start.stdout) as { status: string; reason: string; phases: Array<{ status: string; deliverables: Array<{ file: string }> }> };
    expect([paused.status, paused.reason]).toEqual(["paused", "approval"]);
    expect(paused.phases.map((p) => p.status)).toEqual(["awaiting-approval", "pending"]);
    for (const d of paused.phases[0]!.deliverables) expect(existsSync(join(cwd, "runs", "rev", d.file))).toBe(true);

    const rejected = await runCli(["reject", "rev", "--note", "Quantify the churn in dollars", "--json"], { cwd });
    expect(rejected.code, rejected.stderr).toBe(3);
    expect(JSON.parse(rejected.stdout).phases[0].status).toBe("awaiting-approval");
    const redo = readFileSync(join(cwd, "runs", "rev", "lead-task-1.md"), "utf8");
    expect(redo).toContain("## Reviewer feedback on your previous draft");
    expect(redo).toContain("Quantify the churn in dollars");

    const afterOne = await runCli(["approve", "rev", "--note", "Keep the churn numbers front and centre", "--json"], { cwd });
    expect(afterOne.code).toBe(3);
    expect(JSON.parse(afterOne.stdout).phases.map((p: { status: string }) => p.status)).toEqual(["completed", "awaiting-approval"]);
    // The note given when approving phase 1 reaches phase 2's agents.
    const planTask = readFileSync(join(cwd, "runs", "rev", "tasks", "p2-lead-planner.md"), "utf8");
    expect(planTask).toContain("## Reviewer notes on earlier phases");
    expect(planTask).toContain("Keep the churn numbers front and centre");
    const done = await runCli(["approve", "rev", "--note", "ship it", "--json"], { cwd });
    expect(done.code, done.stderr).toBe(0);
    expect(JSON.parse(done.stdout).status).toBe("completed");
    const leadRuns = logOf(join(cwd, "runs", "rev")).filter((l) => l.msg === "step finished" && l.role === "lead" && l.phase === 1);
    expect(leadRuns).toHaveLength(2);
    // The rejected draft's usage still counts: run.json lists both lead calls of phase 1.
    const final = JSON.parse(done.stdout) as { phases: Array<{ calls: Array<{ role: string; usage: { totalTokens: number } }> }>; usage: { totalTokens: number }; criteriaCalls?: Array<{ usage: { totalTokens: number } }> };
    expect(final.phases[0]!.calls.filter((c) => c.role === "lead")).toHaveLength(2);
    // Every call counts: the agents' in their phases, and the judge's check of the criteria.
    const sum = [...final.phases.flatMap((p) => p.calls), ...(final.criteriaCalls ?? [])].reduce((n, c) => n + c.usage.totalTokens, 0);
    expect(final.criteriaCalls).toHaveLength(1);
    expect(final.usage.totalTokens).toBe(sum);
    expect((await runCli(["approve", "rev"], { cwd })).code).toBe(2);
  });

  it("lists and shows runs", async () => {
    const cwd = runProject({ mission: GROWTH_PLAN, agents: { analyst: {}, researcher: {}, seller: {}, planner: {} }, inputs: GROWTH_INPUTS });
    expect((await runCli(["run", "test-mission", "--inputs", "inputs", "--run-id", "listed", "--quiet"], { cwd })).code).toBe(0);
    const list = JSON.parse((await runCli(["runs", "list", "--json"], { cwd })).stdout) as Array<{ runId: string; status: string }>;
    expect(list.map((r) => [r.runId, r.status])).toEqual([["listed", "completed"]]);
    const show = await runCli(["runs", "show", "listed"], { cwd });
    expect(show.stdout).toContain("Churn analysis");
    const missing = await runCli(["runs", "show", "lsted"], { cwd });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("did you mean listed");
  });
});

describe("crash and resume", () => {
  it("finishes a run killed with SIGKILL mid-phase without redoing any finished step", async () => {
    // researcher blocks in phase 2 until the test lets it go; seller finishes phase 2 at once.
    const block = 'if [ "$COORD_PHASE" = 2 ] && [ ! -f go ]; then echo $$ > blocked; sleep 30; fi';
    const mission = missionMarkdown("Crash", ["Market Brief", "Sales Notes"], [
      { title: "Analysis", lead: "analyst", support: ["researcher", "seller"], deliverables: ["Churn analysis"] },
      { title: "Plan", lead: "planner", support: ["researcher", "seller"], deliverables: ["Onboarding plan", "Pricing plan"] },
    ]);
    const cwd = runProject({ mission, agents: { analyst: {}, researcher: { pre: block }, seller: {}, planner: {} }, inputs: GROWTH_INPUTS });
    const runDir = join(cwd, "runs", "crash");
    const child = spawn(process.execPath, [BIN, "run", "test-mission", "--inputs", "inputs", "--run-id", "crash"], { cwd, stdio: "ignore" });
    // The seller's phase-2 step counts as finished once LangGraph has saved its writes, which
    // happens just after its log line: read the checkpoint database itself to know.
    const sellerDone = () => {
      const file = join(cwd, ".coord", "checkpoints.sqlite");
      if (!existsSync(file)) return false;
      const { db } = SqliteSaver.fromConnString(file);
      try {
        const rows = db.prepare("SELECT value FROM writes WHERE thread_id = 'crash' AND channel = 'calls'").all() as Array<{ value: Buffer }>;
        return rows.some((r) => Buffer.from(r.value).toString("utf8").includes("2/support/seller"));
      } catch {
        return false;
      } finally {
        db.close();
      }
    };
    await waitUntil(() => existsSync(join(cwd, "blocked")) && sellerDone(), { child });
    child.kill("SIGKILL");
    await new Promise((r) => child.on("exit", r));
    process.kill(Number(readFileSync(join(cwd, "blocked"), "utf8")), "SIGKILL");
    writeFileSync(join(cwd, "go"), "");

    // A kill between a write and its rename leaves the temporary copy: resume clears it away.
    writeFileSync(join(runDir, "report.md.4242.tmp"), "half a report");
    writeFileSync(join(runDir, "deliverables", "p1-01-churn-analysis.md.4242.tmp"), "half a deliverable");
    const resumed = await runCli(["resume", "crash", "--json"], { cwd });
    expect(existsSync(join(runDir, "report.md.4242.tmp"))).toBe(false);
    expect(readdirSync(join(runDir, "deliverables")).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout).status).toBe("completed");
    const finished = logOf(runDir).filter((l) => l.msg === "step finished").map((l) => `${l.phase}/${l.role}/${l.agent}`);
    expect(finished.sort()).toEqual(["1/lead/analyst", "1/support/researcher", "1/support/seller", "2/lead/planner", "2/support/researcher", "2/support/seller"]);

    const clean = await runCli(["run", "test-mission", "--inputs", "inputs", "--run-id", "clean", "--quiet"], { cwd });
    expect(clean.code).toBe(0);
    expect(readDir(join(runDir, "deliverables"))).toEqual(readDir(join(cwd, "runs", "clean", "deliverables")));
  }, 120_000);
});

describe("runMission and resumeRun as a library", () => {
  const project = () => runProject({ mission: GROWTH_PLAN, agents: { analyst: {}, researcher: {}, seller: {}, planner: {} }, inputs: GROWTH_INPUTS });
  const codeOf = async (work: Promise<unknown>) => work.then(() => "no error", (error: { code?: string }) => error.code);

  it("refuses a run id that already exists with RUN_EXISTS, before any step", async () => {
    const cwd = project();
    const first = await runMission({ cwd, mission: "test-mission", inputsDir: "inputs", runId: "same", settings: { hooks: { enabled: false } } });
    expect(first.exitCode).toBe(0);
    expect(await codeOf(runMission({ cwd, mission: "test-mission", inputsDir: "inputs", runId: "same" }))).toBe("RUN_EXISTS");
  });

  it("answers approve for a run that is not paused with RUN_NOT_PAUSED", async () => {
    const cwd = project();
    await runMission({ cwd, mission: "test-mission", inputsDir: "inputs", runId: "done" });
    expect(await codeOf(resumeRun("done", { cwd, decision: { action: "approve" } }))).toBe("RUN_NOT_PAUSED");
  });

  it("pauses on --max-cost with prices from the settings, and continues with a higher budget", async () => {
    const cwd = project();
    // The offline model costs nothing by default; a price for it makes the budget bite.
    const settings = { models: { prices: { offline: { input: 100, output: 100 } } }, budget: { maxCostUsd: 0.01 } };
    const paused = await runMission({ cwd, mission: "test-mission", inputsDir: "inputs", runId: "cost", settings });
    expect([paused.record.status, paused.record.reason, paused.exitCode]).toEqual(["paused", "budget", 3]);
    expect(paused.error).toContain("of --max-cost 0.01");
    expect(paused.record.usage.costUsd).toBeGreaterThan(0.01);
    const done = await resumeRun("cost", { cwd, budget: { maxCostUsd: 1000 } });
    expect(done.record.status).toBe("completed");
  });

  it("takes settings from coord.config.json through the CLI: the run's approval and hook timeout", async () => {
    const cwd = runProject({ mission: GROWTH_PLAN, agents: { analyst: {}, researcher: { pre: "sleep 5" }, seller: {}, planner: {} }, inputs: GROWTH_INPUTS });
    writeFileSync(join(cwd, "coord.config.json"), JSON.stringify({ approve: true, hooks: { timeoutMs: 300 } }));
    const r = await runCli(["run", "test-mission", "--inputs", "inputs", "--run-id", "cfg", "--json"], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("pre hook of agent researcher");
    expect(r.stderr).toContain("timed out after 300 ms");
    const ok = await runCli(["run", "test-mission", "--inputs", "inputs", "--run-id", "cfg2", "--no-hooks", "--json"], { cwd });
    expect(ok.code, ok.stderr).toBe(3);
    expect(JSON.parse(ok.stdout).reason).toBe("approval");
  });
});

describe("a run held under a lease", () => {
  it("stops with LEASE_LOST before its next step once its guard fails, and writes nothing more", async () => {
    const cwd = runProject({ mission: GROWTH_PLAN, agents: { analyst: {}, researcher: {}, seller: {}, planner: {} }, inputs: GROWTH_INPUTS });
    const spec = await createRun({ cwd, mission: "test-mission", inputsDir: "inputs", runId: "leased" });
    let checks = 0;
    // The lease holds for the first steps, then is gone (another worker took the run over).
    const guard = {
      async check() {
        if (++checks > 4) throw new CoordError("LEASE_LOST", "lost the lease");
      },
    };
    const record = join(spec.runDir, "run.json");
    const error = await resumeRun("leased", { cwd, guard }).then(() => undefined, (e: unknown) => e);
    expect(isCoordError(error) && error.code).toBe("LEASE_LOST");
    const written = readFileSync(record, "utf8");
    // The record still says running: the worker that lost the lease did not write the run's end.
    expect(JSON.parse(written).status).toBe("running");
    const finished = logOf(spec.runDir).filter((l) => l.msg === "step finished");
    expect(finished.length).toBeLessThan(5);
  });
});

describe("who started a run and who decided", () => {
  interface Trail {
    startedBy?: { surface: string; user?: string };
    approvals: Array<{ phase: number; action: string; note?: string; by: { surface: string; user?: string }; at: string }>;
  }
  const trailOf = (runDir: string): Trail => JSON.parse(readFileSync(join(runDir, "run.json"), "utf8")) as Trail;
  const CLI_USER = { surface: "cli", user: userInfo().username };
  // A phase-2 support step kills its own coord process, only where the test asks for it.
  const crashHook = 'if [ "$COORD_PHASE" = "$CRASH_IN_PHASE" ]; then kill -9 $PPID; sleep 2; fi';

  it("records the CLI's OS user as the starter and every decision in order, rejections with their notes, in run.json, runs show and the report", async () => {
    const cwd = runProject({ mission: GROWTH_PLAN, agents: { analyst: {}, researcher: {}, seller: {}, planner: {} }, inputs: GROWTH_INPUTS });
    const before = new Date().toISOString();
    expect((await runCli(["run", "test-mission", "--inputs", "inputs", "--run-id", "who", "--approve", "--quiet"], { cwd })).code).toBe(3);
    expect((await runCli(["reject", "who", "--note", "Quantify the churn in dollars", "--quiet"], { cwd })).code).toBe(3);
    expect((await runCli(["approve", "who", "--quiet"], { cwd })).code).toBe(3);
    const runDir = join(cwd, "runs", "who");
    const { startedBy, approvals } = trailOf(runDir);
    expect(startedBy).toEqual(CLI_USER);
    expect(approvals.map(({ at: _at, ...rest }) => rest)).toEqual([
      { phase: 1, action: "reject", note: "Quantify the churn in dollars", by: CLI_USER },
      { phase: 1, action: "approve", by: CLI_USER },
    ]);
    // When each decision was taken: in order, during this test.
    const times = approvals.map((a) => a.at);
    const after = new Date().toISOString();
    expect(times).toEqual([...times].sort());
    expect(times.every((t) => t >= before && t <= after)).toBe(true);

    const show = await runCli(["runs", "show", "who"], { cwd });
    expect(show.stdout).toContain(`started by cli:${CLI_USER.user} at `);
    expect(show.stdout).toContain(`phase 1: rejected by cli:${CLI_USER.user} at ${times[0]} — "Quantify the churn in dollars"`);
    expect(show.stdout).toContain(`phase 1: approved by cli:${CLI_USER.user} at ${times[1]}`);
    const report = readFileSync(join(runDir, "report.md"), "utf8");
    expect(report).toContain(`## Decisions\n\n- phase 1: rejected by cli:${CLI_USER.user} at ${times[0]} — "Quantify the churn in dollars"\n- phase 1: approved by`);
  });

  it("keeps the trail through a coord killed with SIGKILL after a decision, its resume, and a resume of the finished run, once per decision", async () => {
    const cwd = runProject({ mission: GROWTH_PLAN, agents: { analyst: {}, researcher: { pre: crashHook }, seller: {}, planner: {} }, inputs: GROWTH_INPUTS });
    const runDir = join(cwd, "runs", "trail");
    expect((await runCli(["run", "test-mission", "--inputs", "inputs", "--run-id", "trail", "--approve", "--quiet"], { cwd })).code).toBe(3);
    expect((await runCli(["reject", "trail", "--note", "Add owners", "--quiet"], { cwd })).code).toBe(3);
    // The approval is taken, then coord dies in phase 2's first step, before it writes run.json again.
    const killed = await runBinAsync(["approve", "trail", "--quiet"], { cwd, env: { CRASH_IN_PHASE: "2" } });
    expect(killed.code, killed.stderr).toBe(-1);
    // run.json was last written as the approve began: the approval itself is only in the checkpoint.
    expect(trailOf(runDir).approvals.map((a) => a.action)).toEqual(["reject"]);

    const resumed = await runCli(["resume", "trail", "--quiet"], { cwd });
    expect(resumed.code, resumed.stderr).toBe(3);
    const afterCrash = trailOf(runDir).approvals;
    expect(afterCrash.map((a) => `${a.phase}:${a.action}`)).toEqual(["1:reject", "1:approve"]);
    expect(afterCrash.every((a) => a.by.surface === "cli")).toBe(true);

    expect((await runCli(["approve", "trail", "--note", "ship it", "--quiet"], { cwd })).code).toBe(0);
    const done = trailOf(runDir).approvals;
    expect(done.map((a) => `${a.phase}:${a.action}:${a.note ?? ""}`)).toEqual(["1:reject:Add owners", "1:approve:", "2:approve:ship it"]);
    expect(done.slice(0, 2)).toEqual(afterCrash);

    // Resuming a finished run replays nothing into the trail.
    expect((await runCli(["resume", "trail", "--quiet"], { cwd })).code).toBe(0);
    expect(trailOf(runDir).approvals).toEqual(done);
    expect((await runCli(["runs", "show", "trail"], { cwd })).stdout.match(/^ {2}phase \d: (approved|rejected) by /gm)).toHaveLength(3);
  }, 120_000);

  it("records { surface: 'library' } for a library call that does not say who, and keeps the who and when a caller passes", async () => {
    const cwd = runProject({ mission: GROWTH_PLAN, agents: { analyst: {}, researcher: {}, seller: {}, planner: {} }, inputs: GROWTH_INPUTS });
    const paused = await runMission({ cwd, mission: "test-mission", inputsDir: "inputs", runId: "lib", settings: { approve: true } });
    expect(paused.record.startedBy).toEqual({ surface: "library" });
    const before = new Date().toISOString();
    const rejected = await resumeRun("lib", { cwd, decision: { action: "reject", note: "Shorter" } });
    expect(rejected.record.approvals).toEqual([{ phase: 1, action: "reject", note: "Shorter", by: { surface: "library" }, at: expect.any(String) }]);
    expect(rejected.record.approvals[0]!.at >= before).toBe(true);
    // A decision queued for a worker keeps the time it was taken at, not the time it is carried out.
    const taken = { action: "approve" as const, by: { surface: "api" as const, user: "ops-bot" }, at: "2026-01-01T09:00:00.000Z" };
    const approved = await resumeRun("lib", { cwd, decision: taken });
    expect(approved.record.approvals[1]).toEqual({ phase: 1, ...taken });
    const started = await runMission({ cwd, mission: "test-mission", inputsDir: "inputs", runId: "lib2", startedBy: { surface: "web", user: "ana@example.com" } });
    expect(started.record.startedBy).toEqual({ surface: "web", user: "ana@example.com" });
    expect(started.record.approvals).toEqual([]);
  });
});
