// Bench section (issue #12): coord vs a hand-written LangGraph graph making the same calls.
// A 3-phase mission (bench/overhead-langgraph.js's PHASES: 11 model calls, 8 one after another)
// run as whole processes against the tests' fake OpenAI server answering each call after 200 ms:
//  - coord: `node bin/coord.js run overhead --inputs inputs --model openai:gpt-4o-mini --base-url URL --no-hooks`
//    in a temp project (SQLite checkpoints, run files, as a user runs it);
//  - hand-written: `node bench/overhead-langgraph.js URL PROJECT OUT`: a StateGraph with ChatOpenAI,
//    the same calls with the same parallelism, writing the deliverables as files.
// The two take turns, RUNS times each after one warm-up each (not counted). Per process: wall
// time from spawn to exit, and the model span at the server (first request's start to the last
// response's end). Medians side by side.
// Targets: coord wall <= hand-written wall + 300 ms; coord span / hand-written span <= 1.0x
// (judged with a 5% margin for timer noise).
// Standalone: npm run build && node --import tsx bench/overhead.js
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { startFakeOpenAI } from "../test/helpers/openai-server.ts";
import { GROWTH_INPUTS, agentMarkdown, missionMarkdown } from "../test/helpers/project.ts";
import { machineBusySince, machineCpu } from "./machine.js";
import { PHASES } from "./overhead-langgraph.js";
import { median, runAlone, table } from "./measure.js";

const CALL_MS = 200;
const RUNS = 5;
const JUDGED_RUNS = 2;
const WALL_MARGIN_MS = 300;
const SPAN_TARGET = 1.0;
const SPAN_NOISE = 0.05;
const BENCH_DIR = fileURLToPath(new URL(".", import.meta.url));
const AGENTS = [...new Set(PHASES.flatMap((p) => [p.lead, ...p.support]))];
/** Model calls one after another: per phase a support, then the plan (with 2+ deliverables) and a deliverable. */
const SERIAL_CALLS = PHASES.reduce((n, p) => n + (p.support.length ? 1 : 0) + (p.deliverables.length > 1 ? 2 : 1), 0);
const CALLS = PHASES.reduce((n, p) => n + p.support.length + (p.deliverables.length > 1 ? 1 + p.deliverables.length : 1), 0);

/** Variables of the machine that would change what coord does (as test/helpers/cli.ts's cliEnv). */
const MACHINE_SETTING = /^(COORD_|OPENAI_|ANTHROPIC_|GOOGLE_|MISTRAL_|GROQ_|OLLAMA_|LANGCHAIN_|LANGSMITH_)|_API_KEY$|_BASE_URL$/;
const cleanEnv = () => ({ ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !MACHINE_SETTING.test(k))), NO_COLOR: "1", OPENAI_API_KEY: "sk-bench" });

function writeProject(root) {
  const mission = missionMarkdown("Overhead", ["Market Brief", "Sales Notes"], PHASES);
  const files = {
    // Without success criteria: no judge call after the last phase, the same calls as the hand-written graph.
    "missions/overhead.md": mission.replace(/## Success Criteria[\s\S]*$/, ""),
    "missions/overhead-judged.md": mission.replace("# Mission: Overhead", "# Mission: Overhead Judged"),
  };
  for (const name of AGENTS) files[`agents/${name}.md`] = agentMarkdown(name);
  for (const [id, text] of Object.entries(GROWTH_INPUTS)) files[`inputs/${id}.md`] = text;
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

/** The newest modification time under `dir` of files ending in `ext`. */
function newest(dir, ext) {
  let latest = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith(ext)) latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

/** One whole process: wall time from spawn to exit, and its requests at the server. */
function timed(server, args, cwd) {
  const from = server.requests.length;
  let stderr = "";
  const started = performance.now();
  const spawnedAt = Date.now();
  const child = spawn(process.execPath, args, { cwd, env: cleanEnv(), stdio: ["ignore", "ignore", "pipe"] });
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (text) => {
    stderr = (stderr + text).slice(-4000);
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => {
      const wall = performance.now() - started;
      const exitedAt = Date.now();
      if (code !== 0) return reject(new Error(`node ${args.join(" ")} exited with ${code}\n${stderr}`));
      const requests = server.requests.slice(from);
      const first = Math.min(...requests.map((r) => r.start));
      const last = Math.max(...requests.map((r) => r.end));
      // Date.now on both sides: the server stamps requests with it.
      resolve({ wall, span: last - first, toFirst: first - spawnedAt, afterLast: exitedAt - last, calls: requests.length, stderr });
    });
  });
}

export async function benchOverhead(repoRoot, root) {
  const stale = newest(join(repoRoot, "src"), ".ts") > newest(join(repoRoot, "dist"), ".js");
  writeProject(root);
  const server = await startFakeOpenAI({ delayMs: CALL_MS });
  const sides = {
    coord: (i) => coordRun("overhead", i),
    "hand-written": (i) => timed(server, [join(BENCH_DIR, "overhead-langgraph.js"), server.url, root, join(root, "hand-written", String(i))], repoRoot),
    // For information: the mission with its success criteria, checked by a judge call after the last phase.
    "coord, with criteria": (i) => coordRun("overhead-judged", i),
  };
  function coordRun(mission, i) {
    return timed(server, [join(repoRoot, "bin", "coord.js"), "run", mission, "--inputs", "inputs", "--model", "openai:gpt-4o-mini", "--base-url", server.url, "--no-hooks", "--run-id", `${mission}-${i}`], root);
  }
  const samples = Object.fromEntries(Object.keys(sides).map((side) => [side, []]));
  const machine = machineCpu();
  try {
    for (const run of Object.values(sides)) await run("warm-up");
    for (let i = 0; i < RUNS; i++) {
      const order = i % 2 ? ["hand-written", "coord"] : ["coord", "hand-written"];
      for (const side of order) samples[side].push(await sides[side](i + 1));
      if (i < JUDGED_RUNS) samples["coord, with criteria"].push(await sides["coord, with criteria"](i + 1));
    }
  } finally {
    await server.close();
  }
  return { stale, samples, busy: machineBusySince(machine) };
}


export function reportOverhead({ stale, samples, busy }, { table }) {
  const ms = (v) => String(Math.round(v));
  const ideal = SERIAL_CALLS * CALL_MS;
  console.log(
    `\ncoord vs a hand-written LangGraph graph (bench/overhead-langgraph.js), the same ${PHASES.length}-phase mission: ${CALLS} model calls, ${SERIAL_CALLS} one after another,` +
      ` against a local OpenAI-compatible server answering each after ${CALL_MS} ms (model path ${ideal} ms); whole processes, ${RUNS} runs each after a warm-up, taking turns; machine busy while measuring: ${busy}`,
  );
  if (stale) console.log("NOTE: dist/ is older than src/: coord ran the last build (npm run build)");
  const rows = Object.entries(samples).map(([side, runs]) => {
    const wall = median(runs.map((r) => r.wall));
    const span = median(runs.map((r) => r.span));
    return {
      side,
      wall,
      span,
      min: Math.min(...runs.map((r) => r.wall)),
      calls: [...new Set(runs.map((r) => r.calls))].join("/"),
      toFirst: median(runs.map((r) => r.toFirst)),
      afterLast: median(runs.map((r) => r.afterLast)),
      between: span - ideal,
    };
  });
  console.log(
    `\n${table(
      ["", "wall ms (median)", "min", "spawn -> 1st call", "model span", "span - model path", "last answer -> exit", "calls"],
      rows.map((r) => [r.side, ms(r.wall), ms(r.min), ms(r.toFirst), ms(r.span), ms(r.between), ms(r.afterLast), r.calls]),
    )}`,
  );
  const [coord, hand] = rows;
  if (coord.calls !== hand.calls) console.log(`NOTE: coord made ${coord.calls} model calls, the hand-written graph ${hand.calls}: the two no longer make the same calls; update bench/overhead-langgraph.js`);
  console.log("model span = first request's start to the last response's end at the server; span - model path = time between calls (medians of each column)");
  console.log(`coord's per-run spans: ${samples.coord.map((r) => ms(r.span)).join(", ")}; hand-written's: ${samples["hand-written"].map((r) => ms(r.span)).join(", ")}`);
  console.log(`"coord, with criteria" (${JUDGED_RUNS} runs, not in the targets): the same mission with its success criteria, which coord checks by one more call after the last phase`);
  const wallOk = coord.wall <= hand.wall + WALL_MARGIN_MS;
  console.log(`target: coord wall <= hand-written + ${WALL_MARGIN_MS} ms: ${ms(coord.wall)} vs ${ms(hand.wall)} + ${WALL_MARGIN_MS} (+${ms(coord.wall - hand.wall)} ms) ${wallOk ? "PASS" : "MISS"}`);
  const spanRatio = coord.span / hand.span;
  console.log(
    `target: coord model span / hand-written <= ${SPAN_TARGET.toFixed(2)}x (${(SPAN_NOISE * 100).toFixed(0)}% margin for noise): ${spanRatio.toFixed(2)}x ` +
      `(${ms(coord.span - hand.span)} ms over ${SERIAL_CALLS} calls one after another) ${spanRatio <= SPAN_TARGET + SPAN_NOISE ? "PASS" : "MISS"}`,
  );
}

await runAlone(import.meta.url, "overhead", benchOverhead, reportOverhead);
