// Bench section 3: `coord worker` processes against a local OpenAI-compatible server.
//  - Throughput: RUN_COUNT runs of a four-phase mission, queued at once, worked on by 1, 2 and 4
//    real `coord worker --poll-ms 20` processes, each setting in a fresh temp project.
//  - Latency: from queueing a run to its first model call at the server, one idle worker waiting.
// Runs are created with the library's createRun (as `coord run --detach` does, without a process
// per run) before the workers start, then put on the queue with RunQueue.enqueue when they are
// ready, so the clock covers only the workers' work.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
// The tests' own OpenAI-compatible server (TypeScript: `npm run bench` runs node with tsx).
import { startFakeOpenAI } from "../test/helpers/openai-server.ts";

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
/** Model calls per run, and the least time a run can take: each phase's supports at once, then its lead. */
const CALLS_PER_RUN = PHASES.reduce((n, p) => n + p.support.length + 1, 0);
const MODEL_PATH_MS = PHASES.length * 2 * DELAY_MS;

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
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
const sum = (values) => (values.some((v) => v === undefined) ? undefined : values.reduce((a, b) => a + b, 0));
const selfCpuSeconds = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

// ---------- a project with runs ready to queue ----------

async function prepareProject(lib, dir, env, count) {
  writeProject(dir);
  const { settings, env: runEnv } = lib.loadSettings(dir, env);
  const started = performance.now();
  const runIds = [];
  for (let i = 0; i < count; i++) {
    const spec = await lib.createRun({ cwd: dir, mission: "growth-plan", inputsDir: join(dir, "inputs"), runId: `bench-${String(i + 1).padStart(3, "0")}`, settings, env: runEnv });
    runIds.push(spec.runId);
  }
  const createMs = (performance.now() - started) / count;
  const queue = new lib.RunQueue(lib.homeDir(dir, settings));
  return { runIds, queue, createMs };
}

async function startReadyWorkers(lib, dir, env, count, events) {
  const workers = Array.from({ length: count }, () => startWorker(lib.bin, dir, env, events));
  await waitUntil(() => workers.every((w) => w.ready), READY_TIMEOUT_MS, `${count} workers to start`, workers);
  return workers;
}

// ---------- throughput ----------

async function throughput(lib, server, root, env, workerCount) {
  const dir = join(root, `workers-${workerCount}`);
  const { runIds, queue, createMs } = await prepareProject(lib, dir, env, RUN_COUNT);
  const events = [];
  let workers = [];
  try {
    workers = await startReadyWorkers(lib, dir, env, workerCount, events);
    const firstRequest = server.requests.length;
    const cpuBefore = workers.map((w) => cpuSeconds(w.child.pid));
    const selfBefore = selfCpuSeconds();
    const start = Date.now();
    for (const runId of runIds) queue.enqueue(runId);
    const finished = () => events.filter((e) => e.what !== "taken");
    // Each worker needs at least RUN_COUNT / workers x MODEL_PATH_MS; allow five times that.
    const timeoutMs = 5 * (RUN_COUNT / workerCount) * MODEL_PATH_MS + 10_000;
    await waitUntil(() => finished().length >= RUN_COUNT, timeoutMs, `${RUN_COUNT} runs with ${workerCount} workers`, workers);
    const end = Math.max(...finished().map((e) => e.at));
    const workerCpu = sum(workers.map((w, i) => (cpuBefore[i] === undefined ? undefined : cpuSeconds(w.child.pid) - cpuBefore[i])));
    const selfCpu = selfCpuSeconds() - selfBefore;
    const wallMs = end - start;
    const requests = server.requests.slice(firstRequest);
    // Each run from its worker's claim to its end; a worker's first run apart from the others.
    const runs = finished().map((done) => ({ pid: done.pid, ms: done.at - (events.find((e) => e.runId === done.runId && e.what === "taken")?.at ?? start) }));
    const firsts = new Set(workers.map((w) => runs.find((r) => r.pid === w.child.pid)).filter(Boolean));
    return {
      workerCount,
      wallMs,
      runsPerMinute: RUN_COUNT / (wallMs / 60_000),
      completed: finished().filter((e) => e.what === "completed").length,
      notCompleted: finished().filter((e) => e.what !== "completed").map((e) => `${e.runId}: ${e.what}`),
      calls: requests.length,
      maxInFlight: Math.max(0, ...inFlightCounts(requests)),
      firstRunMs: median([...firsts].map((r) => r.ms)),
      laterRunMs: median(runs.filter((r) => !firsts.has(r)).map((r) => r.ms)),
      workerCpuMsPerRun: workerCpu === undefined ? undefined : (workerCpu * 1000) / RUN_COUNT,
      busy: workerCpu === undefined ? undefined : (workerCpu + selfCpu) / ((wallMs / 1000) * availableParallelism()),
      createMs,
    };
  } finally {
    await stopWorkers(workers);
    queue.close();
  }
}

/** Requests at the server at once, at each arrival. */
function inFlightCounts(requests) {
  return requests.map((r) => requests.filter((o) => o.start <= r.start && (o.end === 0 || o.end > r.start)).length);
}

// ---------- latency ----------

async function latency(lib, server, root, env) {
  const dir = join(root, "latency");
  // One more run than measured: the first run in a fresh worker also loads the provider's client.
  const { runIds, queue } = await prepareProject(lib, dir, env, LATENCY_RUNS + 1);
  const events = [];
  let workers = [];
  const samples = [];
  try {
    workers = await startReadyWorkers(lib, dir, env, 1, events);
    for (const [i, runId] of runIds.entries()) {
      // Let the worker go idle, and land at a different point of its poll each time.
      await new Promise((resolve) => setTimeout(resolve, 30 + ((i * 7) % POLL_MS)));
      const before = server.requests.length;
      const queuedAt = Date.now();
      queue.enqueue(runId);
      await waitUntil(() => server.requests.length > before, 30_000, `the first model call of ${runId}`, workers);
      const firstCall = server.requests[before].start - queuedAt;
      await waitUntil(() => events.some((e) => e.runId === runId && e.what !== "taken"), 30_000, `${runId} to finish`, workers);
      const taken = events.find((e) => e.runId === runId && e.what === "taken");
      samples.push({ firstCall, taken: taken ? taken.at - queuedAt : undefined });
    }
  } finally {
    await stopWorkers(workers);
    queue.close();
  }
  const [cold, ...warm] = samples;
  return { cold, warm };
}

// ---------- the section ----------

/**
 * Runs the whole section. `repoRoot` has a built dist/; `root` is a temp folder for the projects.
 * Returns what reportWorkers prints.
 */
export async function benchWorkers(repoRoot, root) {
  const dist = (path) => import(pathToFileURL(join(repoRoot, "dist", path)).href);
  const [{ createRun }, { RunQueue }, { homeDir }, { loadSettings }] = await Promise.all([
    dist("runtime/run.js"),
    dist("service/queue.js"),
    dist("runtime/store.js"),
    dist("definitions/settings.js"),
  ]);
  const lib = { createRun, RunQueue, homeDir, loadSettings, bin: join(repoRoot, "bin", "coord.js") };
  const server = await startFakeOpenAI({ delayMs: DELAY_MS });
  const onSignal = (signal) => {
    for (const child of live) child.kill("SIGKILL");
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    // As test/models/openai-compatible.test.ts's providerEnv, on a clean environment.
    const env = Object.fromEntries(Object.entries(process.env).filter(([key, value]) => value !== undefined && !MACHINE_SETTING.test(key)));
    Object.assign(env, { NO_COLOR: "1", OPENAI_API_KEY: "sk-bench", COORD_BASE_URL: server.url, COORD_MODEL: "openai:gpt-4o-mini" });
    const scaling = [];
    for (const count of WORKER_COUNTS) scaling.push(await throughput(lib, server, root, env, count));
    const wrongKey = server.requests.filter((r) => r.authorization !== "Bearer sk-bench" || r.body.model !== "gpt-4o-mini").length;
    return { scaling, latency: await latency(lib, server, root, env), wrongKey };
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await server.close();
  }
}

// ---------- the report ----------

const pct = (value) => (value === undefined ? "n/a" : `${Math.round(value * 100)}%`);
const fixed = (value, digits = 1) => (value === undefined ? "n/a" : value.toFixed(digits));

/** Prints the section; `table` and `verdict` are run.js's. */
export function reportWorkers({ scaling, latency: lat, wrongKey }, { table, verdict }) {
  const cores = availableParallelism();
  const idealPerWorker = 60_000 / MODEL_PATH_MS;
  const [one] = scaling;
  const four = scaling.find((r) => r.workerCount === 4);
  console.log(
    `\nWorkers: ${RUN_COUNT} runs of a ${PHASES.length}-phase mission (a lead and 1-2 supports a phase, ${CALLS_PER_RUN} model calls a run)` +
      ` against a local OpenAI-compatible server answering in ${DELAY_MS} ms,`,
  );
  console.log(`queued at once and worked on by \`coord worker --poll-ms ${POLL_MS}\` subprocesses, each setting in a fresh project`);
  console.log(
    `model-bound ideal: ${(MODEL_PATH_MS / 1000).toFixed(1)} s a run (each phase's supports at once, then its lead) = ` +
      `${idealPerWorker.toFixed(1)} runs/min per worker`,
  );
  console.log(`runs created beforehand with the library's createRun (${fixed(one.createMs)} ms a run); the clock starts as RunQueue.enqueue queues them all\n`);
  console.log(
    table(
      ["workers", "wall s", "runs/min", "vs 1 worker", "of ideal", "first run ms", "later runs ms", "worker CPU ms/run", `CPU busy (${cores} cores)`, "max calls at once"],
      scaling.map((r) => [
        String(r.workerCount),
        fixed(r.wallMs / 1000),
        fixed(r.runsPerMinute),
        `${(r.runsPerMinute / one.runsPerMinute).toFixed(2)}x`,
        pct(r.runsPerMinute / (idealPerWorker * r.workerCount)),
        fixed(r.firstRunMs, 0),
        fixed(r.laterRunMs, 0),
        fixed(r.workerCpuMsPerRun, 0),
        pct(r.busy),
        String(r.maxInFlight),
      ]),
    ),
  );
  const problems = scaling.flatMap((r) => r.notCompleted.map((line) => `${r.workerCount} workers: ${line}`));
  const calls = scaling.map((r) => r.calls);
  console.log(
    `\nruns completed: ${scaling.map((r) => `${r.completed}/${RUN_COUNT}`).join(", ")}; model calls: ${calls.join(", ")} (${RUN_COUNT * CALLS_PER_RUN} expected each)` +
      `; calls with another key or model: ${wrongKey}${problems.length ? `\nnot completed: ${problems.join("; ")}` : ""}`,
  );
  console.log("first run = each worker's first run, claim to end (median over the workers); later runs = the median of all the others");
  console.log("CPU = user + system time of the worker processes while they worked; busy = theirs and the bench's (server included) / (wall x cores)");
  if (four) {
    const steady = (4 * one.laterRunMs) / four.laterRunMs;
    const slower = four.laterRunMs / one.laterRunMs - 1;
    console.log(`scaling 1 -> 4 workers: ${(four.runsPerMinute / one.runsPerMinute).toFixed(2)}x (ideal 4.00x; ${steady.toFixed(2)}x counting only the runs after each worker's first)`);
    console.log(`what limits it on ${cores} cores:`);
    console.log(
      `  - each worker's first run: ${fixed(one.firstRunMs, 0)} ms alone, ${fixed(four.firstRunMs, 0)} ms with 4 workers. It loads the model client` +
        ` (LangChain's initChatModel and the OpenAI package)
    and runs everything for the first time, 4 workers at once on ${cores} cores;` +
        ` 4 workers pay it once per ${RUN_COUNT / 4} runs, 1 worker once per ${RUN_COUNT}.`,
    );
    console.log(
      `  - warm runs: ${fixed(four.laterRunMs, 0)} ms with 4 workers, ${fixed(one.laterRunMs, 0)} ms with 1 (${MODEL_PATH_MS} ms of model calls,` +
        ` the rest the worker's graph steps, checkpoint writes and run files):
    ` +
        (slower < 0.05
          ? `the cores are ${pct(four.busy)} busy on average, so the workers barely slow each other.`
          : `${pct(slower)} slower: the cores are ${pct(four.busy)} busy on average, but workers wait for a core when their steps coincide.`),
    );
    if (four.workerCpuMsPerRun !== undefined) {
      const ceiling = (cores * 60_000) / four.workerCpuMsPerRun;
      console.log(
        `  - the cores themselves would run out near ${fixed(ceiling, 0)} runs/min (${cores} x 60 s / ${fixed(four.workerCpuMsPerRun, 0)} ms of CPU a run),` +
          ` about ${fixed(ceiling / one.runsPerMinute, 0)} workers' worth.`,
      );
    }
  }
  const firstCall = median(lat.warm.map((s) => s.firstCall));
  const claimed = lat.warm.filter((s) => s.taken !== undefined);
  console.log(
    `\nqueue -> first model call at the server, one idle worker (--poll-ms ${POLL_MS}), ${lat.warm.length} runs one after another: ` +
      `median ${fixed(firstCall)} ms (min ${fixed(Math.min(...lat.warm.map((s) => s.firstCall)))}, max ${fixed(Math.max(...lat.warm.map((s) => s.firstCall)))})`,
  );
  if (claimed.length) {
    console.log(
      `  queue -> claimed (the worker's "taken" log line, as the bench reads it): median ${fixed(median(claimed.map((s) => s.taken)))} ms;` +
        ` claimed -> first call (load the run, open its checkpoints, build the graph): median ${fixed(median(claimed.map((s) => s.firstCall - s.taken)))} ms`,
    );
  }
  console.log(`  the first run in a fresh worker, not in the median (it also loads the provider's client): ${fixed(lat.cold.firstCall)} ms`);
  console.log(`target: queue -> first model call < ${LATENCY_TARGET_MS} ms: ${fixed(firstCall)} ms ${verdict(firstCall, LATENCY_TARGET_MS)}`);
}
