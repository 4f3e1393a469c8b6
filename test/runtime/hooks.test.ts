import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseAgent } from "../../src/definitions/agent.js";
import { parseMission } from "../../src/definitions/mission.js";
import { CoordError } from "../../src/errors.js";
import type { StepInfo } from "../../src/runtime/compile.js";
import { envSafe, runAgentHook, runProjectHook, type HookContext } from "../../src/runtime/hooks.js";
import { REPO, tempProject } from "../helpers/cli.js";
import { agentMarkdown, missionMarkdown } from "../helpers/project.js";

const TASK = "Study the market brief and write the churn analysis.";
const LOG = "runs/r1/hooks/p1-lead-analyst";

/** A project whose agent `analyst` has the given hooks, and the step that agent leads. */
function project(hooks: { pre?: string; post?: string }, task = TASK): { cwd: string; step: StepInfo } {
  const cwd = tempProject({ "agents/analyst.md": agentMarkdown("analyst", hooks) });
  const agentFile = join(cwd, "agents", "analyst.md");
  const { agent } = parseAgent(readFileSync(agentFile, "utf8"), agentFile);
  const { mission } = parseMission(missionMarkdown("Hook Test", ["Market Brief"], [{ title: "Analysis", lead: "analyst", deliverables: ["Churn analysis"] }]), join(cwd, "missions", "hook-test.md"));
  return { cwd, step: { mission: mission!, phase: 1, role: "lead", agent: agent!, task } };
}

function context(cwd: string, overrides: Partial<HookContext> = {}): HookContext & { warnings: string[]; codes: string[] } {
  const warnings: string[] = [];
  const codes: string[] = [];
  const warn = (m: string, code: string) => {
    warnings.push(m);
    codes.push(code);
  };
  return { cwd, runDir: join(cwd, "runs", "r1"), runId: "r1", missionId: "hook-test", enabled: true, timeoutMs: 30_000, env: process.env, warn, warnings, codes, ...overrides };
}

function projectHook(cwd: string, name: string, script: string, mode = 0o755): void {
  mkdirSync(join(cwd, "hooks"), { recursive: true });
  writeFileSync(join(cwd, "hooks", name), script);
  chmodSync(join(cwd, "hooks", name), mode);
}

function read(cwd: string, path: string): string {
  return readFileSync(join(cwd, path), "utf8");
}

/** Process groups the hooks under test started, killed after each test whatever it left. */
const groups: number[] = [];

/** The process group a hook wrote to `pgid` (a detached hook's shell leads its own group). */
function groupOf(cwd: string): number {
  const pgid = Number(read(cwd, "pgid"));
  groups.push(pgid);
  return pgid;
}

/** Processes still running (zombies waiting to be reaped do not count) in a process group. */
function liveInGroup(pgid: number): string[] {
  const ps = spawnSync("ps", ["-eo", "pid=,pgid=,stat=,args="], { encoding: "utf8" });
  return ps.stdout
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter(([, group, stat]) => Number(group) === pgid && !stat!.startsWith("Z"))
    .map((fields) => fields.slice(3).join(" "));
}

afterEach(() => {
  for (const pgid of groups.splice(0)) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // The group is gone already.
    }
  }
});

describe("agent hooks", () => {
  it("give the hook TASK, COORD_TASK_FILE and the COORD_* variables, and keep its output", async () => {
    const pre = 'for v in TASK COORD_TASK_FILE COORD_AGENT COORD_ROLE COORD_PHASE COORD_RUN_ID COORD_MISSION COORD_RUN_DIR; do printenv "$v" | sed "s/^/$v=/"; done\necho "task file: $(cat "$COORD_TASK_FILE")"';
    const { cwd, step } = project({ pre });
    const ctx = context(cwd);
    await runAgentHook(ctx, step, "pre");
    const log = read(cwd, `${LOG}.pre.log`);
    const runDir = join(cwd, "runs", "r1");
    for (const line of [
      `TASK=${TASK}`,
      `COORD_TASK_FILE=${join(runDir, "tasks", "p1-lead-analyst.md")}`,
      "COORD_AGENT=analyst",
      "COORD_ROLE=lead",
      "COORD_PHASE=1",
      "COORD_RUN_ID=r1",
      "COORD_MISSION=hook-test",
      `COORD_RUN_DIR=${runDir}`,
      `task file: ${TASK}`,
    ]) {
      expect(log.split("\n")).toContain(line);
    }
    expect(ctx.warnings).toEqual([]);
  });

  it("cut a task over 100 KB in TASK, so the hook still starts, and keep it whole in COORD_TASK_FILE", async () => {
    const task = "é".repeat(150_000);
    const { cwd, step } = project({ pre: 'printf "%s" "$TASK" | wc -c\nwc -c < "$COORD_TASK_FILE"' }, task);
    await runAgentHook(context(cwd), step, "pre");
    const [inEnv, inFile] = read(cwd, `${LOG}.pre.log`).trim().split("\n").map(Number);
    expect(inEnv).toBe(100_000);
    expect(inFile).toBe(Buffer.byteLength(task));
  });

  it("fail the step with HOOK_FAILED naming the agent and its file when the pre hook fails", async () => {
    const { cwd, step } = project({ pre: "echo checking\necho no credentials >&2\nexit 3" });
    const error = await runAgentHook(context(cwd), step, "pre").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CoordError);
    expect(error).toMatchObject({ code: "HOOK_FAILED", exitCode: 1, file: step.agent.file });
    expect((error as CoordError).message).toBe("pre hook of agent analyst (agents/analyst.md) exited 3: no credentials");
    expect(read(cwd, `${LOG}.pre.log`)).toBe("checking\n\n[stderr]\nno credentials\n");
  });

  it("only warn when the post hook fails", async () => {
    const { cwd, step } = project({ post: "echo cleanup failed >&2\nexit 7" });
    const ctx = context(cwd);
    await expect(runAgentHook(ctx, step, "post")).resolves.toBeUndefined();
    expect(ctx.warnings).toEqual(["post hook of agent analyst (agents/analyst.md) exited 7: cleanup failed"]);
    expect(ctx.codes).toEqual(["HOOK_POST_FAILED"]);
  });

  it("kill the hook's whole process group on timeout, background jobs included", async () => {
    const pre = "echo $$ > pgid\nsleep 30 & echo $! >> pids\nsleep 30 & echo $! >> pids\nwait";
    const { cwd, step } = project({ pre });
    const started = Date.now();
    const error = await runAgentHook(context(cwd, { timeoutMs: 1_000 }), step, "pre").catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(error).toMatchObject({ code: "HOOK_FAILED", message: "pre hook of agent analyst (agents/analyst.md) timed out after 1000 ms" });
    const pgid = groupOf(cwd);
    expect(read(cwd, "pids").trim().split("\n")).toHaveLength(2);
    await expect.poll(() => liveInGroup(pgid), { timeout: 5_000, interval: 100 }).toEqual([]);
  });

  it("return as soon as the shell exits when it leaves a background job holding its output", async () => {
    const { cwd, step } = project({ pre: "echo $$ > pgid\nsleep 20 & echo started" });
    const ctx = context(cwd);
    const started = Date.now();
    await runAgentHook(ctx, step, "pre");
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(ctx.warnings).toEqual([]);
    expect(read(cwd, `${LOG}.pre.log`)).toBe("started\n");
    // The job itself is left running: a hook may start a server the step needs.
    expect(liveInGroup(groupOf(cwd))).toEqual(["sleep 20"]);
  });

  it("keep at most 1 MB of a hook printing without end, and still time it out", async () => {
    const { cwd, step } = project({ post: "yes" });
    const ctx = context(cwd, { timeoutMs: 1_500 });
    await runAgentHook(ctx, step, "post");
    expect(ctx.warnings).toEqual(["post hook of agent analyst (agents/analyst.md) timed out after 1500 ms"]);
    const log = read(cwd, `${LOG}.post.log`);
    expect(log.endsWith("\n[output truncated after 1 MB]\n")).toBe(true);
    expect(log.length).toBeLessThanOrEqual(1024 * 1024 + 100);
    expect(log.startsWith("y\ny\n")).toBe(true);
  });

  it("let a hook printing more than 1 MB finish normally, its log cut and marked", async () => {
    const { cwd, step } = project({ pre: "yes | head -c 3000000\necho done >&2" });
    const ctx = context(cwd);
    await runAgentHook(ctx, step, "pre");
    expect(ctx.warnings).toEqual([]);
    const log = read(cwd, `${LOG}.pre.log`);
    expect(log.endsWith("\n[output truncated after 1 MB]\n")).toBe(true);
    expect(log.length).toBeLessThanOrEqual(1024 * 1024 + 100);
  });

  it("run nothing when hooks are disabled", async () => {
    const { cwd, step } = project({ pre: "touch ran", post: "touch ran" });
    projectHook(cwd, "pre-mission", "#!/bin/sh\ntouch ran\n");
    const ctx = context(cwd, { enabled: false });
    await runAgentHook(ctx, step, "pre");
    await runAgentHook(ctx, step, "post");
    await runProjectHook(ctx, "pre-mission", {});
    expect(existsSync(join(cwd, "ran"))).toBe(false);
    expect(existsSync(join(cwd, "runs"))).toBe(false);
  });
});

describe("project hooks", () => {
  it("get the run record as JSON on stdin, and COORD_HOOK", async () => {
    const { cwd } = project({});
    projectHook(cwd, "pre-mission", '#!/bin/sh\ncat > record.json\necho "hook $COORD_HOOK of $COORD_MISSION"\n');
    const ctx = context(cwd);
    const record = { runId: "r1", status: "running", phases: [{ phase: 1, title: "Analysis" }] };
    await runProjectHook(ctx, "pre-mission", record);
    expect(JSON.parse(read(cwd, "record.json"))).toEqual(record);
    expect(read(cwd, "runs/r1/hooks/project-pre-mission.log")).toBe("hook pre-mission of hook-test\n");
    expect(ctx.warnings).toEqual([]);
  });

  it("the shipped hooks/post-mission reports an unreachable webhook in one line, with no stack trace", async () => {
    const { cwd } = project({});
    projectHook(cwd, "post-mission", readFileSync(join(REPO, "hooks", "post-mission"), "utf8"));
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const port = (probe.address() as AddressInfo).port;
        probe.close(() => resolve(port));
      });
    });
    const ctx = context(cwd, { env: { ...process.env, COORD_NOTIFY_WEBHOOK: `http://127.0.0.1:${closed}/hook` } });
    const record = { runId: "r1", title: "Growth", status: "completed", phases: [{ deliverables: [{}, {}] }], usage: { totalTokens: 7 }, runDir: join(cwd, "runs", "r1") };
    await runProjectHook(ctx, "post-mission", record);
    expect(ctx.codes).toEqual(["HOOK_POST_FAILED"]);
    const stderr = read(cwd, "runs/r1/hooks/project-post-mission.log").split("[stderr]\n")[1]!.trim();
    expect(stderr).toBe(`post-mission: webhook 127.0.0.1:${closed} not notified: ECONNREFUSED`);
  });

  it("only warn when one fails", async () => {
    const { cwd } = project({});
    projectHook(cwd, "post-phase", "#!/bin/sh\nexit 4\n");
    const ctx = context(cwd);
    await runProjectHook(ctx, "post-phase", {});
    expect(ctx.warnings).toEqual(["project hook hooks/post-phase exited 4"]);
  });

  it("only warn when one cannot start", async () => {
    const { cwd } = project({});
    projectHook(cwd, "post-mission", "#!/no/such/interpreter\n");
    const ctx = context(cwd);
    await runProjectHook(ctx, "post-mission", {});
    expect(ctx.warnings).toEqual(["project hook hooks/post-mission exited 127"]);
    expect(read(cwd, "runs/r1/hooks/project-post-mission.log")).toContain("ENOENT");
  });

  it("ignore a hook file that is not executable", async () => {
    const { cwd } = project({});
    projectHook(cwd, "pre-mission", "#!/bin/sh\ntouch ran\n", 0o644);
    const ctx = context(cwd);
    await runProjectHook(ctx, "pre-mission", {});
    expect(existsSync(join(cwd, "ran"))).toBe(false);
    expect(ctx.warnings).toEqual([]);
  });

  it("do not keep coord's process alive for a background job the hook left", () => {
    const { cwd } = project({});
    projectHook(cwd, "pre-mission", "#!/bin/sh\necho $$ > pgid\nsleep 20 &\necho started\n");
    const script = join(REPO, "test", "fixtures", "hooks", "leftover.ts");
    const started = Date.now();
    const child = spawnSync(process.execPath, ["--import", "tsx", script, cwd], { cwd: REPO, encoding: "utf8", timeout: 15_000 });
    groupOf(cwd);
    expect(child.stderr).toBe("");
    expect(child.stdout).toMatch(/^hook returned after \d+ ms\n$/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe("envSafe", () => {
  it("leaves a task under 100 KB as it is", () => {
    expect(envSafe("short task é😀")).toBe("short task é😀");
  });

  it("cuts a task over 100 KB on a character boundary", () => {
    for (const text of ["a" + "é".repeat(60_000), "ab" + "😀".repeat(30_000)]) {
      const cut = envSafe(text);
      expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(100_000);
      expect(Buffer.byteLength(cut)).toBeGreaterThan(100_000 - 4);
      expect(text.startsWith(cut)).toBe(true);
      expect(cut).not.toContain("\uFFFD");
    }
  });
});
