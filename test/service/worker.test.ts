import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BIN, cliEnv, runCli, tempProject, waitUntil } from "../helpers/cli.js";
import { startFakeOpenAI, type FakeOpenAI, type ReceivedRequest } from "../helpers/openai-server.js";
import { postgresSchemaUrl } from "../helpers/postgres.js";
import { GROWTH_INPUTS, GROWTH_PLAN, callOfRequest, runProject, stepOfRequest } from "../helpers/project.js";

let server: FakeOpenAI | undefined;
let workers: ChildProcess[] = [];
afterEach(async () => {
  for (const w of workers) {
    w.kill("SIGCONT");
    w.kill("SIGKILL");
  }
  workers = [];
  await server?.close();
  server = undefined;
});

const AGENTS = { analyst: {}, researcher: {}, seller: {}, planner: {} };
// The mission's model calls: phase 1 researcher and seller, then lead analyst's plan and its two
// deliverables side by side; phase 2 researcher, then lead planner's single deliverable; then the
// judge's check of the success criteria.
const CALLS = 8;

// Where the runs live for the test at hand: the project's SQLite file, or a Postgres schema of its own.
let store: Record<string, string> = {};

function providerEnv(fake: FakeOpenAI): Record<string, string> {
  return { OPENAI_API_KEY: "sk-test", COORD_BASE_URL: fake.url, COORD_MODEL: "openai:gpt-4o-mini", ...store };
}

/** A `coord worker` process, with what it logged. */
function startWorker(cwd: string, fake: FakeOpenAI, leaseSeconds: number): ChildProcess & { log: () => string } {
  const child = spawn(process.execPath, [BIN, "worker", "--lease-seconds", String(leaseSeconds), "--poll-ms", "50"], { cwd, env: cliEnv(providerEnv(fake)), stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr!.on("data", (d: Buffer) => (log += d.toString()));
  workers.push(child);
  return Object.assign(child, { log: () => log, stderrText: () => log });
}

/** Which step a model request belongs to: the agent (its role) and the phase. */
function stepOf(request: ReceivedRequest): string {
  return stepOfRequest(request.body, Object.keys(AGENTS));
}

/** Which model call of a step a request is. */
function callOf(request: ReceivedRequest): string {
  return callOfRequest(request.body, Object.keys(AGENTS));
}

/** Steps a run's log says were started (`phase/agent`), in the worker's own words. */
function startedSteps(log: string): string[] {
  return readFileSync(log, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { msg?: string; phase?: number; agent?: string })
    .filter((entry) => entry.msg === "step started")
    .map((entry) => `${entry.phase}/${entry.agent}`);
}

async function detach(cwd: string, fake: FakeOpenAI, runId: string): Promise<void> {
  const r = await runCli(["run", "test-mission", "--inputs", "inputs", "--run-id", runId, "--detach"], { cwd, env: providerEnv(fake) });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain(`queued: a \`coord worker\` will run it`);
}

const BACKENDS = [
  { kind: "sqlite", env: () => ({}) },
  { kind: "postgres", env: () => ({ COORD_DATABASE_URL: postgresSchemaUrl() }) },
];

describe.each(BACKENDS)("coord worker on $kind", ({ env }) => {
  beforeEach(() => {
    store = env();
  });

  it("runs a detached run to completion, and runs wait reports it", async () => {
    server = await startFakeOpenAI();
    const cwd = runProject({ mission: GROWTH_PLAN, agents: AGENTS, inputs: GROWTH_INPUTS });
    await detach(cwd, server, "detached");
    const queued = await runCli(["runs", "show", "detached", "--json"], { cwd, env: store });
    expect(JSON.parse(queued.stdout).status).toBe("queued");
    // Driving it here as well would carry the run on twice.
    const here = await runCli(["resume", "detached"], { cwd, env: providerEnv(server) });
    expect(here.code).toBe(2);
    expect(here.stderr).toContain('run "detached" is queued for a worker or being worked on by one');
    startWorker(cwd, server, 5);
    const waited = await runCli(["runs", "wait", "detached", "--timeout", "60", "--json"], { cwd, env: store });
    expect(waited.code, waited.stderr).toBe(0);
    expect(JSON.parse(waited.stdout).status).toBe("completed");
    expect(server.requests).toHaveLength(CALLS);
  }, 90_000);

  it("takes over a run from a worker killed with kill -9 once its lease runs out; no step runs twice but those in flight", async () => {
    server = await startFakeOpenAI({ delayMs: 400 });
    const cwd = runProject({ mission: GROWTH_PLAN, agents: AGENTS, inputs: GROWTH_INPUTS });
    await detach(cwd, server, "killed");
    const first = startWorker(cwd, server, 1.5);
    await waitUntil(() => server!.requests.length >= 3, { child: first });
    first.kill("SIGKILL");
    const killedAt = Date.now();
    // What was asked but not yet answered and saved when the worker died may be asked again.
    const inFlight = server.requests.filter((q) => !q.end || q.end > killedAt - 200).length;
    const second = startWorker(cwd, server, 1.5);
    const waited = await runCli(["runs", "wait", "killed", "--timeout", "60", "--json"], { cwd, env: store });
    const why = `${waited.stderr}\nfirst worker:\n${first.log()}\nsecond worker:\n${second.log()}\n${waited.stdout}`;
    expect(waited.code, why).toBe(0);
    expect(JSON.parse(waited.stdout).status, why).toBe("completed");
    const perStep = new Map<string, number>();
    for (const q of server.requests) perStep.set(callOf(q), (perStep.get(callOf(q)) ?? 0) + 1);
    const counts = JSON.stringify(Object.fromEntries(perStep));
    expect(perStep.size, counts).toBe(CALLS);
    const repeated = [...perStep.values()].filter((n) => n > 1);
    expect(repeated.every((n) => n === 2), counts).toBe(true);
    expect(repeated.length, `${counts}; ${inFlight} in flight at the kill`).toBeLessThanOrEqual(inFlight);
  }, 120_000);

  it("stops a worker that stalled past its lease before its next step, writing nothing more to the run", async () => {
    server = await startFakeOpenAI({ delayMs: 300 });
    const cwd = runProject({ mission: GROWTH_PLAN, agents: AGENTS, inputs: GROWTH_INPUTS });
    await detach(cwd, server, "stalled");
    const stalled = startWorker(cwd, server, 1.5);
    await waitUntil(() => server!.requests.length >= 1, { child: stalled });
    stalled.kill("SIGSTOP");
    // A step in flight when the worker froze is the one thing it may still ask for when it wakes:
    // one whose request reached the server, or one it had started (its log line is written before
    // the step asks anything), whose request may leave only once the worker runs again.
    await new Promise((r) => setTimeout(r, 200));
    const started = startedSteps(join(cwd, "runs", "stalled", "run.log"));
    // A lead writing side by side plans alongside its phase's supports: started with them (the plan is not a step of its own in the log).
    const plans = started.filter((step) => step.startsWith("1/")).length ? ["1/analyst#plan"] : [];
    const frozen = new Set([...server.requests.filter((q) => !q.end).map((q) => callOf(q)), ...started, ...plans]);
    // A call may still come when it was in flight, or when its step had started (any call of that step).
    const mayCome = (call: string) => frozen.has(call) || frozen.has(call.split("#")[0]!);
    const rescuer = startWorker(cwd, server, 1.5);
    const waited = await runCli(["runs", "wait", "stalled", "--timeout", "60", "--json"], { cwd, env: store });
    expect(waited.code, waited.stderr).toBe(0);
    expect(JSON.parse(waited.stdout).status).toBe("completed");
    expect(rescuer.log()).toContain("run stalled: taken");
    const requestsWhenDone = server.requests.length;
    const record = join(cwd, "runs", "stalled", "run.json");
    const written = statSync(record).mtimeMs;

    stalled.kill("SIGCONT");
    await waitUntil(() => stalled.log().includes("lease lost"), { timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 500));
    const afterWaking = server.requests.slice(requestsWhenDone).map((q) => callOf(q));
    expect(afterWaking.filter((call) => !mayCome(call))).toEqual([]);
    expect(statSync(record).mtimeMs).toBe(written);
    expect(JSON.parse(readFileSync(record, "utf8")).status).toBe("completed");
  }, 120_000);

  it("records a run a worker cannot start (no key for its model) as failed with the reason, instead of leaving it queued", async () => {
    server = await startFakeOpenAI();
    const cwd = runProject({ mission: GROWTH_PLAN, agents: AGENTS, inputs: GROWTH_INPUTS });
    const queued = await runCli(["run", "test-mission", "--inputs", "inputs", "--run-id", "keyless", "--detach", "--model", "anthropic:claude-haiku-4-5"], { cwd, env: { ANTHROPIC_API_KEY: "sk-ant-here-only", ...store } });
    expect(queued.code, queued.stderr).toBe(0);
    startWorker(cwd, server, 5);
    const waited = await runCli(["runs", "wait", "keyless", "--timeout", "60", "--json"], { cwd, env: store });
    expect(waited.code).toBe(1);
    const record = JSON.parse(waited.stdout) as { status: string; error: string };
    expect(record.status).toBe("failed");
    expect(record.error).toContain("needs ANTHROPIC_API_KEY");
    expect(server.requests).toHaveLength(0);
  }, 90_000);
});

describe("coord worker on postgres", () => {
  it("needs no copy of the project: a run whose project folder is gone is carried on from the database alone", async () => {
    server = await startFakeOpenAI();
    store = { COORD_DATABASE_URL: postgresSchemaUrl() };
    const cwd = runProject({ mission: GROWTH_PLAN, agents: AGENTS, inputs: GROWTH_INPUTS });
    await detach(cwd, server, "anywhere");
    rmSync(cwd, { recursive: true, force: true });
    const elsewhere = tempProject();
    startWorker(elsewhere, server, 5);
    const waited = await runCli(["runs", "wait", "anywhere", "--timeout", "60", "--json"], { cwd: tempProject(), env: store });
    expect(waited.code, waited.stderr).toBe(0);
    expect(JSON.parse(waited.stdout).status).toBe("completed");
    expect(server.requests).toHaveLength(CALLS);
    // The worker wrote the run's folder where it works, since the machine that started it is not here.
    expect(existsSync(join(elsewhere, "runs", "anywhere", "report.md"))).toBe(true);
  }, 90_000);
});
