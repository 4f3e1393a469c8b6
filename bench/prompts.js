// Bench section (issue #12): prompts that providers can cache, and how a run's prompt cost grows.
// Missions of 6, 12 and 24 phases (a lead and 1-2 supports, 1-2 deliverables a phase), each run
// once through the library (dist/) against the tests' fake OpenAI server answering at once, with
// 150-word drafts, notes and plans (bench/drafts.js). From the server's log of each run:
//  - prompt tokens: characters / 4 of every request's messages (system, then user);
//  - cacheable share: for each request, the longest prefix (in characters of its messages,
//    system content then user content) it shares with any earlier request of the run, summed
//    over the run, over the run's prompt characters: what a provider's prefix cache could serve;
//  - uncached tokens: prompt tokens less the cacheable part.
// Growth: the log-log slope of total and of uncached tokens over 6 / 12 / 24 phases.
// Targets: cacheable share >= 70% on the 12-phase run; uncached growth exponent <= 1.15.
// Then a 40-phase run with 600-word drafts and models.contextTokens 32,000 (older deliverables
// must go in brief): it completes, and its largest request (characters / 3.5, as coord
// estimates) stays within requestBudget(32,000).
// Standalone: npm run build && node --import tsx bench/prompts.js
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { startFakeOpenAI } from "../test/helpers/openai-server.ts";
import { GROWTH_INPUTS, agentMarkdown, missionMarkdown } from "../test/helpers/project.ts";
import { callKind, withDrafts } from "./drafts.js";
import { fakeServerRun, runAlone, table } from "./measure.js";

const PHASE_COUNTS = [6, 12, 24];
const DRAFTS = { notes: 150, plan: 150, draft: 150 };
const LONG = { phases: 40, drafts: { notes: 150, plan: 150, draft: 600 }, contextTokens: 32_000 };
const SHARE_TARGET = 0.7;
const SHARE_AT = 12;
const EXPONENT_TARGET = 1.15;

const KIND_LABELS = { support: "support", plan: "lead plan", deliverable: "single deliverable", deliverables: "all of a phase's deliverables in one call", judge: "success criteria judge", research: "lead research" };
const AGENTS = ["analyst", "researcher", "seller", "planner", "writer", "marketer"];
const TOPICS = ["Market", "Buyers", "Pricing", "Onboarding", "Churn", "Pipeline", "Messaging", "Channels", "Retention", "Forecast", "Review", "Rollout"];

/** Phase i: lead and supports rotate through the agents; 1-2 supports and 1-2 deliverables. */
function phases(count) {
  return Array.from({ length: count }, (_, i) => {
    const topic = `${TOPICS[i % TOPICS.length]}${i >= TOPICS.length ? ` ${Math.floor(i / TOPICS.length) + 1}` : ""}`;
    const supports = 1 + (i % 2);
    const deliverables = 1 + (Math.floor(i / 2) % 2);
    return {
      title: `${topic} work`,
      lead: AGENTS[i % AGENTS.length],
      support: Array.from({ length: supports }, (_, s) => AGENTS[(i + 1 + s) % AGENTS.length]),
      deliverables: Array.from({ length: deliverables }, (_, d) => `${topic} ${["findings", "plan"][d]}`),
    };
  });
}

function writeProject(root, missions) {
  const files = {};
  for (const [id, count] of Object.entries(missions)) files[`missions/${id}.md`] = missionMarkdown(`Growth ${count}`, ["Market Brief", "Sales Notes"], phases(count));
  for (const name of AGENTS) files[`agents/${name}.md`] = agentMarkdown(name);
  for (const [id, text] of Object.entries(GROWTH_INPUTS)) files[`inputs/${id}.md`] = text;
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

const contentText = (content) => (typeof content === "string" ? content : Array.isArray(content) ? content.map((p) => p.text ?? "").join("") : "");

/** A request as a prompt cache sees it: its messages' text in order (system first, then the rest). */
function serialize(body) {
  return body.messages.map((m) => contentText(m.content) + (m.tool_calls ? JSON.stringify(m.tool_calls) : "")).join("\n");
}

function commonPrefix(a, b) {
  const n = Math.min(a.length, b.length);
  let i = 0;
  // Blocks of 64 characters first, then one at a time.
  while (i + 64 <= n && a.startsWith(b.slice(i, i + 64), i)) i += 64;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/**
 * Each text's longest common prefix with any text before it. The earlier texts are kept sorted:
 * the longest prefix shared with a set is shared with a neighbour in sorted order.
 */
function prefixesWithEarlier(texts) {
  const sorted = [];
  return texts.map((text) => {
    let low = 0;
    let high = sorted.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (sorted[mid] < text) low = mid + 1;
      else high = mid;
    }
    const best = Math.max(low > 0 ? commonPrefix(text, sorted[low - 1]) : 0, low < sorted.length ? commonPrefix(text, sorted[low]) : 0);
    sorted.splice(low, 0, text);
    return best;
  });
}

function promptStats(requests) {
  const texts = requests.map((r) => serialize(r.body));
  const prefixes = prefixesWithEarlier(texts);
  const uncachedByKind = {};
  requests.forEach((r, i) => {
    const kind = callKind(r);
    uncachedByKind[kind] = (uncachedByKind[kind] ?? 0) + (texts[i].length - prefixes[i]) / 4;
  });
  const chars = texts.reduce((n, t) => n + t.length, 0);
  const cached = prefixes.reduce((n, p) => n + p, 0);
  return { requests: texts.length, chars, cached, tokens: chars / 4, uncachedTokens: (chars - cached) / 4, share: cached / chars, largest: Math.max(...texts.map((t) => t.length)), uncachedByKind };
}

async function oneRun(runMission, root, server, mission, settings = {}) {
  const first = server.requests.length;
  const warnings = [];
  const started = performance.now();
  const outcome = await runMission({
    ...fakeServerRun(root, server, mission, mission, settings),
    onEvent: (event) => {
      if (event.type === "warning") warnings.push(event.message);
    },
  });
  return { outcome, ms: performance.now() - started, warnings, requests: server.requests.slice(first) };
}

/** Least-squares slope of log(y) over log(x). */
function exponent(xs, ys) {
  const lx = xs.map(Math.log);
  const ly = ys.map(Math.log);
  const mx = lx.reduce((a, b) => a + b, 0) / lx.length;
  const my = ly.reduce((a, b) => a + b, 0) / ly.length;
  const num = lx.reduce((n, x, i) => n + (x - mx) * (ly[i] - my), 0);
  const den = lx.reduce((n, x) => n + (x - mx) ** 2, 0);
  return num / den;
}

export async function benchPrompts(repoRoot, root) {
  const dist = (path) => import(pathToFileURL(join(repoRoot, "dist", path)).href);
  const [{ runMission }, { requestBudget }] = await Promise.all([dist("runtime/run.js"), dist("models/context.js")]);
  const missions = Object.fromEntries([...PHASE_COUNTS, LONG.phases].map((n) => [`growth-${n}`, n]));
  writeProject(root, missions);
  const runs = [];
  const server = withDrafts(await startFakeOpenAI(), DRAFTS);
  try {
    for (const phases of PHASE_COUNTS) {
      const run = await oneRun(runMission, root, server, `growth-${phases}`);
      const kinds = {};
      for (const r of run.requests) kinds[callKind(r)] = (kinds[callKind(r)] ?? 0) + 1;
      runs.push({ phases, status: run.outcome.record.status, error: run.outcome.error, ms: run.ms, kinds, ...promptStats(run.requests) });
    }
  } finally {
    await server.close();
  }
  const longServer = withDrafts(await startFakeOpenAI(), LONG.drafts);
  let long;
  try {
    const run = await oneRun(runMission, root, longServer, `growth-${LONG.phases}`, { models: { contextTokens: LONG.contextTokens } });
    const stats = promptStats(run.requests);
    const inBrief = run.requests.filter((r) => serialize(r.body).includes("(in brief: read_deliverable(")).length;
    const withTool = run.requests.filter((r) => r.body.tools?.some((t) => t.function.name === "read_deliverable")).length;
    const research = run.requests.filter((r) => callKind(r) === "research").length;
    long = {
      phases: LONG.phases,
      status: run.outcome.record.status,
      error: run.outcome.error,
      ms: run.ms,
      ...stats,
      largestTokens: stats.largest / 3.5,
      budget: requestBudget(LONG.contextTokens),
      inBrief,
      withTool,
      research,
      warnings: run.warnings.length,
    };
  } finally {
    await longServer.close();
  }
  return {
    runs,
    long,
    totalExponent: exponent(runs.map((r) => r.phases), runs.map((r) => r.tokens)),
    uncachedExponent: exponent(runs.map((r) => r.phases), runs.map((r) => r.uncachedTokens)),
  };
}

export function reportPrompts(r, { table }) {
  const k = (tokens) => `${(tokens / 1000).toFixed(1)}k`;
  const pct = (v) => `${(v * 100).toFixed(1)}%`;
  console.log(
    `\nPrompts providers can cache: missions of ${PHASE_COUNTS.join(" / ")} phases (a lead, 1-2 supports, 1-2 deliverables a phase), one run each` +
      ` against a local OpenAI-compatible server answering at once, drafts / notes / plans of ${DRAFTS.draft} / ${DRAFTS.notes} / ${DRAFTS.plan} words`,
  );
  console.log("tokens = characters / 4 of every request's messages; cacheable = each request's longest prefix shared with an earlier request of the run\n");
  console.log(
    table(
      ["phases", "run", "requests", "prompt tokens", "cacheable", "uncached tokens", "largest request", "run s"],
      r.runs.map((run) => [String(run.phases), run.status, String(run.requests), k(run.tokens), pct(run.share), k(run.uncachedTokens), k(run.largest / 4), (run.ms / 1000).toFixed(1)]),
    ),
  );
  const at12 = r.runs.find((run) => run.phases === SHARE_AT);
  const kinds = Object.entries(at12.kinds).map(([kind, n]) => `${n} ${KIND_LABELS[kind] ?? kind}`);
  console.log(`\n${SHARE_AT}-phase run's requests: ${kinds.join(", ")}`);
  console.log(`  their uncached tokens: ${Object.entries(at12.uncachedByKind).map(([kind, t]) => `${KIND_LABELS[kind] ?? kind} ${k(t)}`).join(", ")}`);
  console.log(`growth exponents (log-log slope over ${PHASE_COUNTS.join(" / ")} phases): total ${r.totalExponent.toFixed(2)}, uncached ${r.uncachedExponent.toFixed(2)}`);
  const at = r.runs.find((run) => run.phases === SHARE_AT);
  console.log(`target: cacheable share >= ${pct(SHARE_TARGET)} on the ${SHARE_AT}-phase run: ${pct(at.share)} ${at.share >= SHARE_TARGET ? "PASS" : "MISS"}`);
  console.log(`target: uncached tokens grow with exponent <= ${EXPONENT_TARGET}: ${r.uncachedExponent.toFixed(2)} ${r.uncachedExponent <= EXPONENT_TARGET ? "PASS" : "MISS"}`);
  const l = r.long;
  console.log(
    `\n${l.phases} phases, ${LONG.drafts.draft}-word drafts, models.contextTokens ${LONG.contextTokens.toLocaleString("en")}: ${l.status}${l.error ? ` (${l.error})` : ""} in ${(l.ms / 1000).toFixed(1)} s;` +
      ` ${l.requests} requests, ${k(l.tokens)} prompt tokens, ${pct(l.share)} cacheable;` +
      ` ${l.inBrief} requests give older deliverables in brief, ${l.withTool} offer read_deliverable, ${l.research} lead research calls`,
  );
  const ok = l.status === "completed" && l.largestTokens <= l.budget;
  console.log(
    `target: the ${l.phases}-phase run completes and its largest request (characters / 3.5) is within requestBudget(${LONG.contextTokens}) = ${l.budget.toLocaleString("en")} tokens:` +
      ` ${l.status}, ${Math.round(l.largestTokens).toLocaleString("en")} tokens ${ok ? "PASS" : "MISS"}`,
  );
}

await runAlone(import.meta.url, "prompts", benchPrompts, reportPrompts);
