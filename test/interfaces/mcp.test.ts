import { spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { CallToolResultSchema, CreateTaskResultSchema, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterEach, describe, expect, it } from "vitest";
import { BIN, cliEnv, runCli } from "../helpers/cli.js";
import { missionMarkdown, runProject } from "../helpers/project.js";
import { callText, connectMcp } from "./mcp-client.js";
import { startFakeOpenAI, type FakeOpenAI } from "../helpers/openai-server.js";

const MISSION = missionMarkdown("Mcp Plan", ["Brief", "Market Notes"], [{ title: "Plan", lead: "planner", deliverables: ["Plan outline"] }]);

let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
});

async function connect(cwd: string, env: Record<string, string | undefined> = {}): Promise<Client> {
  client = await connectMcp(cwd, env);
  return client;
}

describe("coord mcp", () => {
  it("offers every mission as a prompt with its inputs as arguments", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: {} }, inputs: {} });
    const c = await connect(cwd);
    const { prompts } = await c.listPrompts();
    const mine = prompts.find((p) => p.name === "test-mission")!;
    expect(mine.arguments?.map((a) => [a.name, a.required])).toEqual([
      ["brief", true],
      ["market-notes", true],
    ]);
    expect(prompts.map((p) => p.name)).toEqual(expect.arrayContaining(["sales-marketing-alignment", "cross-channel-message-sync"]));
    const prompt = await c.getPrompt({ name: "test-mission", arguments: { brief: "Grow onboarding", "market-notes": "Churn 14%" } });
    const text = (prompt.messages[0]!.content as { text: string }).text;
    expect(text).toContain("run_mission");
    expect(text).toContain("Grow onboarding");
  });

  it("lists missions, runs one, reads its record and approves a paused run through tools", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: { pre: "touch hook-ran" } }, inputs: {} });
    const c = await connect(cwd);
    expect((await c.listTools()).tools.map((t) => t.name).sort()).toEqual(["approve_run", "get_run", "list_missions", "reject_run", "run_mission", "slash", "wait_run"]);
    const listed = JSON.parse((await callText(c, "list_missions", {})).text) as Array<{ id: string }>;
    expect(listed.map((m) => m.id)).toContain("test-mission");

    const run = await callText(c, "run_mission", { mission: "test-mission", inputs: { brief: "Grow onboarding", "market-notes": "Churn 14%" } });
    expect(run.isError).toBe(false);
    expect(run.text).toMatch(/^run (test-mission-[\w-]+): completed/);
    expect(run.text).toContain("### Plan outline");
    expect(existsSync(`${cwd}/hook-ran`)).toBe(false);
    const runId = /^run (\S+):/.exec(run.text)![1]!;
    const record = JSON.parse((await callText(c, "get_run", { runId })).text) as { status: string };
    expect(record.status).toBe("completed");

    const missing = await callText(c, "run_mission", { mission: "test-mission", inputs: {} });
    expect(missing.isError).toBe(true);
    expect(missing.text).toContain("missing required inputs: brief, market-notes");
    const notPaused = await callText(c, "approve_run", { runId });
    expect(notPaused.isError).toBe(true);
    expect(notPaused.text).toContain("not waiting for approval");

    // A run paused for approval elsewhere (the CLI's --approve) is approved from the chat client.
    const paused = await runCli(["run", "test-mission", "--input", "brief=Grow", "--input", "market-notes=Churn", "--approve", "--run-id", "gated", "--no-hooks"], { cwd });
    expect(paused.code).toBe(3);
    const approved = await callText(c, "approve_run", { runId: "gated", note: "fine" });
    expect(approved.text).toMatch(/^run gated: completed/);
  });

  it("answers /coord text through the slash tool as chat does, with --approve and without hooks", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: { pre: "touch hook-ran" } }, inputs: {} });
    const c = await connect(cwd);
    const help = await callText(c, "slash", { text: "/coord help" });
    expect(help.text).toContain("--approve");
    const paused = await callText(c, "slash", { text: '/coord test-mission --approve brief="Grow onboarding" market-notes="Churn 14%"' });
    expect(paused.isError).toBe(false);
    expect(paused.text).toContain("⏸️ paused (approval)");
    const runId = /run `([^`]+)`/.exec(paused.text)![1]!;
    expect((await callText(c, "slash", { text: `approve ${runId}` })).text).toContain("✅ completed");
    expect(existsSync(`${cwd}/hook-ran`)).toBe(false);
    // Not trusted: files are not read unless the project allows it.
    const file = await callText(c, "slash", { text: "/coord test-mission brief=@package.json market-notes=x" });
    expect(file.isError).toBe(true);
    expect(file.text).toContain("may not read files");
  });

  it("never shows the server's absolute paths in a reply, whatever fails", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: {} }, inputs: {} });
    const c = await connect(cwd);
    const failures = [
      await callText(c, "get_run", { runId: "no-such-run" }),
      await callText(c, "approve_run", { runId: "no-such-run" }),
      await callText(c, "run_mission", { mission: "test-mission", inputs: {} }),
      await callText(c, "run_mission", { mission: `${cwd}/missions/test-mission.md`, inputs: {} }),
      await callText(c, "run_mission", { mission: "no-such-mission", inputs: {} }),
      await callText(c, "slash", { text: "/coord status no-such-run" }),
      await callText(c, "slash", { text: "/coord test-mission" }),
      await callText(c, "slash", { text: "/coord ../missions/test-mission.md brief=x" }),
      await callText(c, "slash", { text: "/coord no-such-mission brief=x" }),
    ];
    expect(failures.map((f) => f.isError)).toEqual(failures.map(() => true));
    expect(failures.map((f) => f.text).join("\n")).toMatch(/RUN_NOT_FOUND[\s\S]*INPUT_MISSING[\s\S]*MISSION_PATH_REFUSED[\s\S]*MISSION_NOT_FOUND/);
    for (const { text } of failures) {
      expect(text).not.toContain(cwd);
      expect(text).not.toContain("/tmp");
    }
  });
});

const MISSION_FOR_LIMITS = missionMarkdown("Limits", [], [{ title: "Plan", lead: "planner", deliverables: ["Plan"] }]);

describe("coord mcp without time-outs", () => {
  let model: FakeOpenAI | undefined;
  afterEach(async () => {
    await model?.close();
    model = undefined;
  });

  it("answers run_mission within wait_seconds while the run goes on, then wait_run returns its report, with progress per step", async () => {
    // A model that takes a while per call: the run outlasts a short wait.
    model = await startFakeOpenAI({ delayMs: 400 });
    const mission = missionMarkdown("Slow", ["Brief"], [
      { title: "Look", lead: "planner", support: ["scout"], deliverables: ["Findings"] },
      { title: "Plan", lead: "planner", deliverables: ["Plan"] },
    ]);
    const cwd = runProject({ mission, agents: { planner: {}, scout: {} }, inputs: {} });
    const c = await connect(cwd, { OPENAI_API_KEY: "sk-test", COORD_BASE_URL: model.url, COORD_MODEL: "openai:gpt-4o-mini" });
    const started = Date.now();
    const first = await callText(c, "run_mission", { mission: "test-mission", inputs: { brief: "Grow onboarding" }, wait_seconds: 0 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(first.isError, first.text).toBe(false);
    expect(first.text).toMatch(/^run (\S+): running \(phase \d of 2: \w+, \d of 3 agent steps done\)\. It carries on; call wait_run/);
    const runId = /^run (\S+):/.exec(first.text)![1]!;
    const progress: number[] = [];
    const done = await callText(c, "wait_run", { runId, wait_seconds: 60 }, (p) => progress.push(p.progress));
    expect(done.text).toMatch(new RegExp(`^run ${runId}: completed`));
    expect(done.text).toContain("### Plan");
    // One notification per agent step that finished while wait_run waited, counting up to all 3.
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toBe(3);
    expect([...progress].sort()).toEqual(progress);
  }, 90_000);

  it("rejects a paused phase with a note and approves it after, each answering like wait_run; a second decision is refused", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: {} }, inputs: {} });
    const c = await connect(cwd);
    const paused = await callText(c, "slash", { text: '/coord test-mission --approve brief="Grow" market-notes="Churn"' });
    expect(paused.text).toContain("paused");
    const runId = /run `([^`]+)`/.exec(paused.text)![1]!;
    const redone = await callText(c, "reject_run", { runId, note: "Name the churn number" });
    expect(redone.text).toMatch(new RegExp(`^run ${runId}: paused \\(approval\\)`));
    const approved = await callText(c, "approve_run", { runId, note: "good" });
    expect(approved.text).toMatch(new RegExp(`^run ${runId}: completed`));
    const again = await callText(c, "approve_run", { runId });
    expect(again.isError).toBe(true);
    expect(again.text).toMatch(/^RUN_NOT_PAUSED: /);
  });
});

/** Polls a task (tasks/get) until it ends, as a client that asked for a task does; its statuses on the way. */
async function pollTask(c: Client, taskId: string): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < 600; i++) {
    const task = await c.experimental.tasks.getTask(taskId);
    if (seen.at(-1) !== task.status) seen.push(task.status);
    if (["completed", "failed", "cancelled"].includes(task.status)) return seen;
    await new Promise((r) => setTimeout(r, task.pollInterval ?? 200));
  }
  throw new Error(`task ${taskId} did not end: ${seen.join(" -> ")}`);
}

async function taskText(c: Client, taskId: string): Promise<{ text: string; isError: boolean }> {
  const result = (await c.experimental.tasks.getTaskResult(taskId, CallToolResultSchema)) as CallToolResult;
  return { text: (result.content[0] as { text: string }).text, isError: result.isError === true };
}

describe("coord mcp, run_mission as an MCP task (experimental in the SDK)", () => {
  let model: FakeOpenAI | undefined;
  afterEach(async () => {
    await model?.close();
    model = undefined;
  });
  const INPUTS = { brief: "Grow onboarding", "market-notes": "Churn 14%" };

  it("returns a task at once for a task request; polled to completed, its result is run_mission's answer for the same run", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: {} }, inputs: {} });
    const c = await connect(cwd);
    expect(c.getServerCapabilities()?.tasks?.requests?.tools?.call).toEqual({});
    const { tools } = await c.listTools();
    expect(tools.find((t) => t.name === "run_mission")?.execution?.taskSupport).toBe("optional");
    expect(tools.find((t) => t.name === "wait_run")?.execution?.taskSupport).toBe("forbidden");

    const created = await c.request({ method: "tools/call", params: { name: "run_mission", arguments: { mission: "test-mission", inputs: INPUTS }, task: { ttl: 60_000 } } }, CreateTaskResultSchema);
    const { taskId, statusMessage } = created.task;
    expect(created.task.ttl).toBe(60_000);
    const runId = /^run (test-mission-\S+): /.exec(statusMessage ?? "")?.[1];
    expect(runId, statusMessage).toBeDefined();
    expect(await pollTask(c, taskId)).toContain("completed");
    const task = await c.experimental.tasks.getTask(taskId);
    expect(task.statusMessage).toMatch(new RegExp(`^run ${runId}: completed; criteria: \\d+ met`));

    const result = await taskText(c, taskId);
    expect(result.isError).toBe(false);
    expect(result.text).toMatch(new RegExp(`^run ${runId}: completed; criteria: [^\\n]*\n`));
    expect(result.text).toContain("Mcp Plan");
    expect(result.text).toContain("### Plan outline");
    // The task's work is the run itself: the run tools know it by the id the task names.
    expect((JSON.parse((await callText(c, "get_run", { runId })).text) as { status: string }).status).toBe("completed");
    expect((await callText(c, "wait_run", { runId, wait_seconds: 0 })).text).toBe(result.text);
    expect((await c.experimental.tasks.listTasks()).tasks.map((t) => t.taskId)).toEqual([taskId]);

    // A run that does not start fails its task, with run_mission's error text as the result.
    const missing = await c.request({ method: "tools/call", params: { name: "run_mission", arguments: { mission: "test-mission", inputs: {} }, task: {} } }, CreateTaskResultSchema);
    expect(missing.task.status).toBe("failed");
    expect(missing.task.statusMessage).toMatch(/^INPUT_MISSING: /);
    const failure = await taskText(c, missing.task.taskId);
    expect(failure.isError).toBe(true);
    expect(failure.text).toContain("missing required inputs: brief, market-notes");
  });

  it("answers a client that asks for no task exactly as before, and keeps no task for it", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: {} }, inputs: {} });
    const c = await connect(cwd);
    const notified: string[] = [];
    c.fallbackNotificationHandler = async (n) => void notified.push(n.method);
    await c.listTools();
    const run = await callText(c, "run_mission", { mission: "test-mission", inputs: INPUTS });
    expect(run.isError).toBe(false);
    // The head line says how the run did, and how it did against its success criteria.
    expect(run.text).toMatch(/^run (test-mission-[\w-]+): completed; criteria: \d+ met, \d+ partly, \d+ not met\n/);
    expect(run.text).toContain("### Plan outline");
    const missing = await callText(c, "run_mission", { mission: "test-mission", inputs: {} });
    expect(missing.isError).toBe(true);
    expect(missing.text).toMatch(/^INPUT_MISSING: .*missing required inputs: brief, market-notes/);
    expect((await c.experimental.tasks.listTasks()).tasks).toEqual([]);
    expect(notified).toEqual([]);
  });

  it("streams a task through callToolStream: working with the run's progress, then the report; progress notifications per step", async () => {
    model = await startFakeOpenAI({ delayMs: 300 });
    const mission = missionMarkdown("Slow Task", ["Brief"], [
      { title: "Look", lead: "planner", support: ["scout"], deliverables: ["Findings"] },
      { title: "Plan", lead: "planner", deliverables: ["Plan"] },
    ]);
    const cwd = runProject({ mission, agents: { planner: {}, scout: {} }, inputs: {} });
    const c = await connect(cwd, { OPENAI_API_KEY: "sk-test", COORD_BASE_URL: model.url, COORD_MODEL: "openai:gpt-4o-mini" });
    const notified: string[] = [];
    c.fallbackNotificationHandler = async (n) => void notified.push(n.method);
    await c.listTools(); // the SDK's client asks for a task for tools the server lists as task tools
    const progress: number[] = [];
    const messages: Array<{ type: string; status?: string; statusMessage?: string; text?: string }> = [];
    const stream = c.experimental.tasks.callToolStream({ name: "run_mission", arguments: { mission: "test-mission", inputs: { brief: "Grow onboarding" } } }, CallToolResultSchema, {
      onprogress: (p) => progress.push(p.progress),
      timeout: 60_000,
    });
    for await (const message of stream) {
      // A run cannot be stopped from MCP, so its task is not cancelled either.
      if (message.type === "taskCreated") await expect(c.experimental.tasks.cancelTask(message.task.taskId)).rejects.toThrow(/a coord run cannot be stopped from MCP/);
      if (message.type === "taskCreated" || message.type === "taskStatus") messages.push({ type: message.type, status: message.task.status, statusMessage: message.task.statusMessage });
      else if (message.type === "result") messages.push({ type: "result", text: (message.result.content[0] as { text: string }).text });
      else messages.push({ type: message.type, text: String(message.error) });
    }
    expect(messages[0]).toMatchObject({ type: "taskCreated", status: "working" });
    const runId = /^run (\S+): running/.exec(messages[0]!.statusMessage ?? "")![1]!;
    expect(messages.some((m) => m.status === "working" && /, [1-3] of 3 agent steps done\)/.test(m.statusMessage ?? "")), JSON.stringify(messages)).toBe(true);
    expect(messages.at(-1)!.type).toBe("result");
    expect(messages.at(-1)!.text).toMatch(new RegExp(`^run ${runId}: completed; criteria: [^\\n]*\n`));
    expect(messages.at(-1)!.text).toContain("### Plan");
    expect(progress.at(-1)).toBe(3);
    expect([...progress].sort()).toEqual(progress);
    expect(notified).toContain("notifications/tasks/status");
  }, 90_000);

  it("ends the task with run_mission's paused answer when the run pauses for approval; approve_run carries the run on", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: {} }, inputs: {} });
    writeFileSync(join(cwd, "coord.config.json"), JSON.stringify({ approve: true }));
    const c = await connect(cwd);
    const created = await c.request({ method: "tools/call", params: { name: "run_mission", arguments: { mission: "test-mission", inputs: INPUTS }, task: {} } }, CreateTaskResultSchema);
    await pollTask(c, created.task.taskId);
    const task = await c.experimental.tasks.getTask(created.task.taskId);
    expect(task.status).toBe("completed");
    const runId = /^run (\S+): paused \(approval\)\. It waits for a decision: call approve_run or reject_run/.exec(task.statusMessage ?? "")?.[1];
    expect(runId, task.statusMessage).toBeDefined();
    expect((await taskText(c, created.task.taskId)).text).toMatch(new RegExp(`^run ${runId}: paused \\(approval\\)\n`));
    expect((await callText(c, "approve_run", { runId, note: "fine" })).text).toMatch(new RegExp(`^run ${runId}: completed`));
  });

  it("ends the task of a run that stopped at its budget saying so, without sending the caller to approve_run", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: {} }, inputs: {} });
    writeFileSync(join(cwd, "coord.config.json"), JSON.stringify({ budget: { maxTokens: 1 } }));
    const c = await connect(cwd);
    const created = await c.request({ method: "tools/call", params: { name: "run_mission", arguments: { mission: "test-mission", inputs: INPUTS }, task: {} } }, CreateTaskResultSchema);
    await pollTask(c, created.task.taskId);
    const task = await c.experimental.tasks.getTask(created.task.taskId);
    expect(task.statusMessage).toMatch(/^run \S+: paused \(budget\) — budget reached: .*\. It stopped at its budget: the server's operator can resume it with a higher one\.$/);
    expect(task.statusMessage).not.toContain("approve_run");
  });
});

describe("coord mcp, hostile clients", () => {
  it("answers a message over the transport's size limit with one line on stderr and exit 1, not a silent exit 0", async () => {
    const cwd = runProject({ mission: MISSION_FOR_LIMITS, agents: { planner: {} }, inputs: {} });
    const child = spawn(process.execPath, [BIN, "mcp"], { cwd, env: cliEnv(), stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdin.on("error", () => {});
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    const huge = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "slash", arguments: { text: "x".repeat(30 * 1024 * 1024) } } });
    child.stdin.write(`${huge}\n`);
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r("still running"), 20_000))]);
    child.kill();
    expect(code).toBe(1);
    expect(stderr).toMatch(/^coord mcp: a message from the client was too large \(.*\); the connection is closed\n$/);
  });
});
