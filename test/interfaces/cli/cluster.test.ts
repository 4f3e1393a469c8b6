import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BIN, cliEnv, tempProject, waitUntil } from "../../helpers/cli.js";
import { startFakeOpenAI, type FakeOpenAI, type ReceivedRequest } from "../../helpers/openai-server.js";
import { postgresSchemaUrl } from "../../helpers/postgres.js";
import { GROWTH_INPUTS, GROWTH_PLAN, runProject } from "../../helpers/project.js";

// The acceptance trial for durable runs on PostgreSQL, done the way a new user would: a server and two
// workers, each its own `coord` process on one database, runs queued over HTTP, and one worker killed
// with kill -9 while it works.

type Proc = ChildProcess & { log: () => string; name: string };

let processes: Proc[] = [];
let fake: FakeOpenAI | undefined;
afterEach(async () => {
  for (const p of processes) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  processes = [];
  await fake?.close();
  fake = undefined;
});

const AGENTS = { analyst: {}, researcher: {}, seller: {}, planner: {} };
// Per run, the mission's five agent steps: phase 1 researcher, seller and lead analyst; phase 2 researcher and lead planner.
const STEPS = ["1/researcher", "1/seller", "1/analyst", "2/researcher", "2/planner"];
// The order they run in: the two supports of phase 1 together, then one step at a time.
const ROUND: Record<string, number> = { "1/researcher": 0, "1/seller": 0, "1/analyst": 1, "2/researcher": 2, "2/planner": 3, judge: 4 };
// One company per run: its name travels in the run's inputs into every prompt of the run.
const COMPANIES = ["Aurora", "Birch", "Cedar", "Dune", "Ember", "Fjord", "Grove", "Harbor"];

/** A `coord` process, with everything it printed kept for failure messages. */
function start(name: string, args: string[], cwd: string, env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: cliEnv(env), stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout!.on("data", (d: Buffer) => (log += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (log += d.toString()));
  const proc = Object.assign(child, { log: () => log, stderrText: () => log, name });
  processes.push(proc);
  return proc;
}

function logs(): string {
  return processes.map((p) => `--- ${p.name} (pid ${p.pid}, exit ${p.exitCode ?? p.signalCode ?? "running"}):\n${p.log()}`).join("\n");
}

/** The text of each agent's file, which its system prompt holds: tells which agent a request is for. */
function agentBodies(cwd: string): Map<string, string> {
  return new Map(Object.keys(AGENTS).map((name) => [readFileSync(join(cwd, "agents", `${name}.md`), "utf8").split("---\n").at(-1)!.trim(), name]));
}

/**
 * Which step of which run a model request belongs to: the run's company (in its inputs), the phase and the
 * agent (whose file's text is its system prompt, or part of it).
 */
function stepOf(request: ReceivedRequest, bodies: Map<string, string>): string {
  const system = request.body.messages.filter((m) => m.role === "system").map((m) => m.content ?? "").join("\n");
  const text = request.body.messages.map((m) => m.content ?? "").join("\n");
  const agent = [...bodies].find(([body]) => system.includes(body))?.[1] ?? "?";
  const phase = /Phase (\d+) of/.exec(text)?.[1] ?? "?";
  const company = /Company: (\w+) Corp/.exec(text)?.[1] ?? "?";
  return `${company}:${phase}/${agent}`;
}

/**
 * Which model call of a step a request is: the step, and when a lead writes its deliverables side by side
 * (a plan, then one call per deliverable), which of those calls.
 */
function callOf(request: ReceivedRequest, bodies: Map<string, string>): string {
  const asked = request.body.messages.filter((m) => m.role !== "system").map((m) => m.content ?? "").join("\n");
  const part = /Write only the deliverable "([^"]+)"/.exec(asked)?.[1] ?? (/Do not write the deliverables yet/.test(asked) ? "plan" : undefined);
  return `${stepOf(request, bodies)}${part ? `#${part}` : ""}`;
}

const companyOf = (call: string) => call.split(":")[0]!;
const stepOfCall = (call: string) => call.split("#")[0]!;
// A lead writing side by side plans alongside its supports: its plan is in their round.
const roundOf = (call: string) => (call.endsWith("#plan") ? 0 : (ROUND[stepOfCall(call).split(":")[1]!] ?? -1));

/** waitUntil, failing with what was awaited and every process's log. */
async function until(what: string, ready: () => boolean, child: Proc): Promise<void> {
  await waitUntil(ready, { child, timeoutMs: 30_000 }).catch((error: Error) => {
    throw new Error(`${what}: ${error.message}\n${logs()}`);
  });
}

async function api(base: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`, body === undefined ? {} : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe("a coord cluster on PostgreSQL", () => {
  it("completes eight runs queued over HTTP when one of two workers is killed with kill -9; no step is asked twice but those in flight on it", async () => {
    fake = await startFakeOpenAI({ delayMs: 300 });
    const cwd = runProject({ mission: GROWTH_PLAN, agents: AGENTS, inputs: GROWTH_INPUTS });
    const bodies = agentBodies(cwd);
    const env = { OPENAI_API_KEY: "sk-test", COORD_BASE_URL: fake.url, COORD_MODEL: "openai:gpt-4o-mini", COORD_DATABASE_URL: postgresSchemaUrl() };

    const server = start("coord serve", ["serve", "--port", "0", "--workers", "0"], cwd, env);
    // Two machines of their own: the workers need nothing but the database.
    const workerArgs = ["worker", "--lease-seconds", "1.5", "--poll-ms", "50", "--concurrency", "2"];
    const victim = start("worker A (killed)", workerArgs, tempProject(), env);
    const survivor = start("worker B", workerArgs, tempProject(), env);
    await until("coord serve listening", () => /^coord listening on http:\/\/127\.0\.0\.1:\d+$/m.test(server.log()), server);
    const base = /coord listening on (http:\/\/\S+)/.exec(server.log())![1]!;
    for (const w of [victim, survivor]) await until(`${w.name} waiting`, () => w.log().includes("waiting for runs"), w);

    // Eight runs over HTTP (no token needed on loopback), each for a company of its own.
    const companyOfRun = new Map<string, string>();
    for (const company of COMPANIES) {
      const inputs = { "market-brief": `Company: ${company} Corp\n\n${GROWTH_INPUTS["market-brief"]}`, "sales-notes": GROWTH_INPUTS["sales-notes"] };
      const queued = await api(base, "/api/runs", { mission: "test-mission", inputs });
      expect(queued.status, `${JSON.stringify(queued.json)}\n${logs()}`).toBe(202);
      companyOfRun.set(queued.json.runId as string, company);
    }
    expect(companyOfRun.size).toBe(COMPANIES.length);

    // Kill worker A in the middle of its runs: once one of them is asking for a step that comes after others,
    // which it saved before asking for it (runs checkpoint each step before the next: durability "sync").
    const taken = (w: Proc) => [...w.log().matchAll(/run (\S+): taken/g)].map((m) => m[1]!);
    const finished = (w: Proc) => [...w.log().matchAll(/run (\S+): completed/g)].map((m) => m[1]!);
    const inHand = () => taken(victim).filter((id) => !finished(victim).includes(id)).map((id) => companyOfRun.get(id)!);
    await until("worker A asking for a later step of a run", () => fake!.requests.some((q) => !q.end && roundOf(callOf(q, bodies)) > 0 && inHand().includes(companyOf(callOf(q, bodies)))), victim);
    victim.kill("SIGKILL");
    const killedAt = Date.now();
    const requestsAtKill = fake.requests.length;
    // A request worker A sent just before it died may be read a moment after: let it land first (its runs' leases,
    // renewed every 0.5 s, last at least 1 s more, so worker B asks nothing for them meanwhile).
    await new Promise((r) => setTimeout(r, 500));
    const orphaned = taken(victim).filter((id) => !finished(victim).includes(id));
    const orphanedCompanies = orphaned.map((id) => companyOfRun.get(id)!);
    // What worker A had asked for the runs it held.
    const askedByVictim = fake.requests.filter((q) => q.start <= killedAt + 500).map((q) => callOf(q, bodies)).filter((call) => orphanedCompanies.includes(companyOf(call)));
    // The calls of each run's last step (or steps: phase 1's supports run together) were in flight at the kill:
    // asked, their answers maybe not saved. Only they may be asked again; the earlier steps were saved before.
    const lastRound = (company: string) => Math.max(...askedByVictim.filter((call) => companyOf(call) === company).map(roundOf));
    const inFlight = askedByVictim.filter((call) => roundOf(call) === lastRound(companyOf(call)));
    const savedBeforeKill = askedByVictim.filter((call) => roundOf(call) < lastRound(companyOf(call)));

    // Every run completes, read back over HTTP.
    const deadline = Date.now() + 90_000;
    const status = new Map<string, string>();
    for (;;) {
      for (const id of companyOfRun.keys()) if (status.get(id) !== "completed") status.set(id, (await api(base, `/api/runs/${id}`)).json.status as string);
      if ([...status.values()].every((s) => s === "completed" || s === "failed")) break;
      if (Date.now() > deadline) throw new Error(`not every run completed within 90 s: ${JSON.stringify(Object.fromEntries(status))}\n${logs()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const why = (what: string) =>
      `${what}\nworker A's runs: ${JSON.stringify(orphanedCompanies)}; in flight at the kill: ${JSON.stringify(inFlight)}; saved before it: ${JSON.stringify(savedBeforeKill)}\n${logs()}`;
    expect(Object.fromEntries(status), why("statuses")).toEqual(Object.fromEntries([...companyOfRun.keys()].map((id) => [id, "completed"])));
    expect(requestsAtKill, why("the kill came after most model requests")).toBeLessThan(COMPANIES.length * STEPS.length);
    expect(orphaned.length, why("worker A held no run when killed")).toBeGreaterThan(0);
    expect(savedBeforeKill.length, why("worker A had no step saved before the kill")).toBeGreaterThan(0);
    expect(inFlight.length, why("worker A had no step in flight at the kill")).toBeGreaterThan(0);
    for (const id of orphaned) expect(survivor.log(), why(`run ${id} was not carried on by worker B`)).toContain(`run ${id}: taken`);

    // After its last phase each run's judge checks its success criteria: its request holds the
    // deliverables, not the inputs, so it is counted apart: once a run, again only if in flight.
    const isJudge = (q: ReceivedRequest) => !!q.body.tools?.some((t) => t.function.name === "judge_criteria");
    const judged = fake.requests.filter(isJudge);
    const judgesInFlight = judged.filter((q) => q.start <= killedAt && (!q.end || q.end > killedAt)).length;
    expect(judged.length, why("one check of the criteria per run")).toBe(COMPANIES.length + judgesInFlight);
    const perCall = new Map<string, number>();
    for (const q of fake.requests.filter((r) => !isJudge(r))) perCall.set(callOf(q, bodies), (perCall.get(callOf(q, bodies)) ?? 0) + 1);
    const counts = JSON.stringify(Object.fromEntries(perCall));
    const steps = [...new Set([...perCall.keys()].map(stepOfCall))].sort();
    expect(steps, why(`every step of every run, and nothing else; ${counts}`)).toEqual(COMPANIES.flatMap((c) => STEPS.map((s) => `${c}:${s}`)).sort());
    const twice = [...perCall].filter(([, n]) => n > 1).map(([call, n]) => ({ call, n }));
    expect(twice.filter(({ n }) => n > 2), why(`asked more than twice; ${counts}`)).toEqual([]);
    expect(twice.filter(({ call }) => !inFlight.includes(call)), why(`asked twice though not in flight; ${counts}`)).toEqual([]);
    expect(twice.length, why(counts)).toBeLessThanOrEqual(inFlight.length);
  }, 120_000);
});
