// Bench section (issue #12): deliverables side by side.
// One 2-phase mission (3 supports and 5 deliverables a phase, like the seed mission's phases),
// run through the library (dist/) against the tests' fake OpenAI server answering after 300 ms and
// streaming at 4 ms a token (a piece of 12 characters of tool-call arguments counts as a token),
// with 300-word deliverables, 150-word support notes and a 150-word lead plan (bench/drafts.js).
// Per phase: its wall time (the phase's first step starting to its lead's step ending, from the
// run's events) against its limit: its slowest support call + its slowest single deliverable
// call, as the server logged them in that run. `parallel` (the default: a plan, then one call per
// deliverable at once) and `one-call` (every deliverable in one generation) side by side; a
// one-call run has no single-deliverable call, so its limit takes that part from the parallel
// run of the same round. Target: parallel <= 1.25x its limit.
// Standalone: npm run build && node --import tsx bench/phase.js
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { startFakeOpenAI } from "../test/helpers/openai-server.ts";
import { GROWTH_INPUTS, agentMarkdown, missionMarkdown } from "../test/helpers/project.ts";
import { callKind, callPhase, withDrafts } from "./drafts.js";
import { machineBusySince, machineCpu } from "./machine.js";
import { fakeServerRun, median, runAlone, table } from "./measure.js";

const FIRST_TOKEN_MS = 300;
const TOKEN_MS = 4;
const DRAFTS = { notes: 150, plan: 150, draft: 300 };
// One round keeps the section near 20 s; the rounds are alike within a few percent (2 rounds: 1.45-1.48x).
const ROUNDS = 1;
const TARGET = 1.25;
const MODES = ["parallel", "one-call"];

const PHASES = [
  {
    title: "Journey Analysis",
    lead: "analyst",
    support: ["researcher", "seller", "marketer"],
    deliverables: ["Customer journey map", "Handoff friction analysis", "Lead quality analysis", "Messaging consistency audit", "Integration opportunities"],
  },
  {
    title: "Integration Framework",
    lead: "planner",
    support: ["analyst", "researcher", "writer"],
    deliverables: ["Lead handoff protocol", "Content utilization strategy", "Messaging framework", "Channel coordination plan", "Performance tracking plan"],
  },
];
const AGENTS = [...new Set(PHASES.flatMap((p) => [p.lead, ...p.support]))];

function writeProject(root) {
  const files = { "missions/side-by-side.md": missionMarkdown("Side By Side", ["Market Brief", "Sales Notes"], PHASES) };
  for (const name of AGENTS) files[`agents/${name}.md`] = agentMarkdown(name);
  for (const [id, text] of Object.entries(GROWTH_INPUTS)) files[`inputs/${id}.md`] = text;
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

async function oneRun(runMission, root, server, runId, mode) {
  const events = [];
  const first = server.requests.length;
  const started = Date.now();
  const outcome = await runMission({
    ...fakeServerRun(root, server, "side-by-side", runId, { deliverables: mode }),
    onEvent: (event) => {
      if (event.type === "step") events.push({ ...event, at: Date.now() });
    },
  });
  return { mode, outcome, ms: Date.now() - started, events, requests: server.requests.slice(first) };
}

const took = (r) => r.end - r.start;
const slowest = (records) => (records.length ? Math.max(...records.map(took)) : undefined);

/** Per phase of one run: wall time from its events, and its calls' times from the server's log. */
function phasesOf(run) {
  return PHASES.map((_, i) => {
    const phase = i + 1;
    const steps = run.events.filter((e) => e.phase === phase);
    const start = Math.min(...steps.filter((e) => e.state === "start").map((e) => e.at));
    const end = Math.max(...steps.filter((e) => e.state === "end" && e.role === "lead").map((e) => e.at));
    const calls = run.requests.filter((r) => callPhase(r) === phase);
    const of = (kind) => calls.filter((r) => callKind(r) === kind);
    const span = calls.length ? Math.max(...calls.map((r) => r.end)) - Math.min(...calls.map((r) => r.start)) : undefined;
    return { phase, wall: end - start, span, calls: calls.length, support: slowest(of("support")), plan: slowest(of("plan")), deliverable: slowest(of("deliverable")), deliverables: slowest(of("deliverables")) };
  });
}

/** Runs the mission `parallel` and `one-call`, ROUNDS times each, taking turns. */
export async function benchPhase(repoRoot, root) {
  const { runMission } = await import(pathToFileURL(join(repoRoot, "dist", "runtime", "run.js")).href);
  writeProject(root);
  // Warm-up against a server answering at once: loads the model client, first calls' JIT.
  const quick = withDrafts(await startFakeOpenAI(), DRAFTS);
  try {
    await oneRun(runMission, root, quick, "warm-up", "parallel");
  } finally {
    await quick.close();
  }
  const server = withDrafts(await startFakeOpenAI({ delayMs: FIRST_TOKEN_MS, tokenDelayMs: TOKEN_MS }), DRAFTS);
  const rounds = [];
  const machine = machineCpu();
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const runs = {};
      for (const mode of round % 2 ? [...MODES].reverse() : MODES) runs[mode] = await oneRun(runMission, root, server, `${mode}-${round + 1}`, mode);
      rounds.push(runs);
    }
  } finally {
    await server.close();
  }
  const busy = machineBusySince(machine);
  return rounds.map((runs) => {
    const parallel = phasesOf(runs.parallel);
    const oneCall = phasesOf(runs["one-call"]);
    return {
      busy,
      statuses: MODES.map((m) => `${m} ${runs[m].outcome.record.status}${runs[m].outcome.error ? ` (${runs[m].outcome.error})` : ""}`),
      runMs: Object.fromEntries(MODES.map((m) => [m, runs[m].ms])),
      phases: parallel.map((p, i) => {
        const o = oneCall[i];
        const parallelLimit = p.support + p.deliverable;
        // one-call has no single-deliverable call: the parallel run's stands in.
        const oneCallLimit = o.support + p.deliverable;
        return { phase: p.phase, parallel: p, oneCall: o, parallelLimit, oneCallLimit };
      }),
    };
  });
}


export function reportPhase(rounds, { table }) {
  const ms = (v) => (v === undefined ? "-" : String(Math.round(v)));
  const x = (v) => `${v.toFixed(2)}x`;
  console.log(
    `\nDeliverables side by side: a 2-phase mission, 3 supports and 5 deliverables a phase, against a local OpenAI-compatible server` +
      ` (${FIRST_TOKEN_MS} ms to the first token, ${TOKEN_MS} ms a token or 12-character piece of tool arguments);` +
      ` drafts ${DRAFTS.draft} words, support notes ${DRAFTS.notes}, the lead's plan ${DRAFTS.plan}; ${rounds.length} round${rounds.length > 1 ? "s, modes taking turns" : ""}`,
  );
  console.log(`runs: ${rounds.map((r) => r.statuses.join(", ")).join("; ")}; machine busy while measuring: ${rounds[0].busy}`);
  console.log("limit = slowest support call + slowest single deliverable call (server log; one-call: the parallel run's deliverable call)\n");
  const rows = [];
  rounds.forEach((round, i) => {
    for (const p of round.phases) {
      rows.push([
        `round ${i + 1}, phase ${p.phase}`,
        ms(p.parallel.support),
        ms(p.parallel.plan),
        ms(p.parallel.deliverable),
        ms(p.parallelLimit),
        ms(p.parallel.wall),
        x(p.parallel.wall / p.parallelLimit),
        x((p.parallel.wall - (p.parallel.plan ?? 0)) / p.parallelLimit),
        ms(p.oneCall.support),
        ms(p.oneCall.deliverables),
        ms(p.oneCallLimit),
        ms(p.oneCall.wall),
        x(p.oneCall.wall / p.oneCallLimit),
      ]);
    }
  });
  console.log(
    table(
      ["", "par: support", "plan", "1 deliverable", "limit", "wall", "wall/limit", "(wall - plan)/limit", "one-call: support", "5 deliverables", "limit", "wall", "wall/limit"],
      rows,
    ),
  );
  const byPhase = PHASES.map((_, i) => {
    const all = rounds.map((r) => r.phases[i]);
    return {
      phase: i + 1,
      parallel: median(all.map((p) => p.parallel.wall / p.parallelLimit)),
      oneCall: median(all.map((p) => p.oneCall.wall / p.oneCallLimit)),
      plan: median(all.map((p) => p.parallel.plan ?? 0)),
      // The lead's plan is written alongside the supports: what it adds is only what outlasts them.
      gaps: median(all.map((p) => p.parallel.wall - (Math.max(p.parallel.support, p.parallel.plan ?? 0) + p.parallel.deliverable))),
    };
  });
  console.log(
    `\nmedian over rounds: ${byPhase.map((p) => `phase ${p.phase} parallel ${x(p.parallel)}, one-call ${x(p.oneCall)}`).join("; ")}` +
      `\nthe lead's plan call (${byPhase.map((p) => `${ms(p.plan)} ms`).join(", ")}) runs alongside the supports;` +
      ` parallel's wall beyond the longer of the two plus its slowest deliverable, coord's own time between calls: ${byPhase.map((p) => `${ms(p.gaps)} ms`).join(", ")}`,
  );
  const worst = Math.max(...byPhase.map((p) => p.parallel));
  console.log(`target: parallel phase wall <= ${TARGET}x (slowest support + slowest deliverable), every phase: ${x(worst)} ${worst <= TARGET ? "PASS" : "MISS"}`);
}

await runAlone(import.meta.url, "phase", benchPhase, reportPhase);

