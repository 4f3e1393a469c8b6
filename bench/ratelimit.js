// Rate limits (`npm run bench`, section 4; alone: `npm run build && node --import tsx bench/ratelimit.js`).
// One run of a mission whose phase fans out to 20 supports, through the library (dist/), against a
// local OpenAI-compatible server that takes 5 requests a second and answers the rest with 429 and
// Retry-After. coord's one limiter per provider (models.maxInflight, default 8) holds every call
// back until the Retry-After, and sends no more per window than the server took.
//   retries needed: no client knows the limit before its first 429, so the first burst
//     (maxInflight calls at once) pays for what is over the limit, once: maxInflight - limit.
//   ideal time: every call in windows of `limit` calls, the lead after its supports, nothing
//     wasted: (windows - 1) x window + one answer. The same run without the limit goes first
//     (it also warms the process up, so the measured run does not pay for loading).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { startFakeOpenAI } from "../test/helpers/openai-server.ts";
import { agentMarkdown, missionMarkdown } from "../test/helpers/project.ts";
import { fakeServerRun, runAlone, verdict } from "./measure.js";

const SUPPORTS = 20;
const LIMIT = { requests: 5, windowMs: 1000, refuseAfterMs: 20 };
const ANSWER_MS = 200;
const TOKEN_MS = 2;
/** The run may take this much longer than the ideal. */
const TIME_SLACK = 1.5;

function project(root) {
  const supports = Array.from({ length: SUPPORTS }, (_, i) => `support-${i + 1}`);
  const mission = missionMarkdown("Fan Out", ["Brief"], [{ title: "Survey", lead: "lead", support: supports, deliverables: ["Survey"] }]);
  mkdirSync(join(root, "missions"), { recursive: true });
  mkdirSync(join(root, "agents"));
  mkdirSync(join(root, "inputs"));
  writeFileSync(join(root, "missions", "fan-out.md"), mission);
  for (const name of ["lead", ...supports]) writeFileSync(join(root, "agents", `${name}.md`), agentMarkdown(name));
  writeFileSync(join(root, "inputs", "brief.md"), "## Brief\n\nOnboarding takes 23 days; churn is 14% a year, mostly in the first 90 days.\n");
}

/** One run of the fan-out mission against `server`. */
async function fanOutRun(runMission, root, server, runId) {
  const warnings = [];
  let tokenEvents = 0;
  const started = performance.now();
  const outcome = await runMission({
    ...fakeServerRun(root, server, "fan-out", runId),
    onEvent: (event) => {
      if (event.type === "warning") warnings.push(event.message);
      if (event.type === "token") tokenEvents++;
    },
  });
  return { outcome, ms: performance.now() - started, warnings, tokenEvents };
}

/** Runs the fan-out without and with the server's limit; returns what reportRateLimit prints. */
export async function benchRateLimit(repoRoot, root) {
  const dist = (path) => import(pathToFileURL(join(repoRoot, "dist", path)).href);
  const [{ runMission }, { providerLimiters, DEFAULT_MAX_INFLIGHT }] = await Promise.all([dist("runtime/run.js"), dist("models/rate-limit.js")]);
  project(root);
  const free = await startFakeOpenAI({ delayMs: ANSWER_MS, tokenDelayMs: TOKEN_MS });
  let baseline;
  try {
    baseline = await fanOutRun(runMission, root, free, "baseline");
  } finally {
    await free.close();
  }
  const server = await startFakeOpenAI({ delayMs: ANSWER_MS, tokenDelayMs: TOKEN_MS, rateLimit: LIMIT });
  try {
    const { outcome, ms, warnings, tokenEvents } = await fanOutRun(runMission, root, server, "limited");
    const answered = server.requests.filter((r) => r.status === 200).length;
    const refused = server.requests.filter((r) => r.status === 429);
    const early = server.requests.filter((r) => refused.some((q) => r.start >= q.end && r.start < q.retryAt));
    const limiter = providerLimiters().get(`openai|${server.url}`);
    const maxInflight = limiter?.maxInflight ?? DEFAULT_MAX_INFLIGHT;
    // The lead's calls come after the supports; every call fits in windows of LIMIT.requests.
    const windows = Math.ceil(SUPPORTS / LIMIT.requests) + Math.ceil((answered - SUPPORTS) / LIMIT.requests);
    return {
      status: outcome.record.status,
      error: outcome.error,
      baseline: { status: baseline.outcome.record.status, ms: baseline.ms },
      ms,
      idealMs: (windows - 1) * LIMIT.windowMs + ANSWER_MS,
      windows,
      calls: answered,
      retries: limiter?.stats.retries ?? refused.length,
      refused: refused.length,
      needed: Math.max(0, Math.min(SUPPORTS, maxInflight) - LIMIT.requests),
      early: early.length,
      maxInflight,
      serverMaxInFlight: server.maxInFlight,
      learned: limiter?.learnedLimit,
      warnings: warnings.length,
      tokenEvents,
    };
  } finally {
    await server.close();
  }
}

export function reportRateLimit(r, { verdict }) {
  const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
  console.log(
    `\nRate limits: one run, a phase of ${SUPPORTS} supports and a lead, against a local OpenAI-compatible server taking ${LIMIT.requests} requests ` +
      `per ${LIMIT.windowMs} ms (429 + Retry-After beyond), answers in ${ANSWER_MS} ms streamed at ${TOKEN_MS} ms a token; models.maxInflight ${r.maxInflight}`,
  );
  console.log(`  run: ${r.status}${r.error ? ` (${r.error})` : ""}; ${r.calls} calls answered; at most ${r.serverMaxInFlight} at the server at once`);
  console.log(`  retries: ${r.retries} made (${r.refused} answered 429), ${r.needed} needed (the first burst of ${r.maxInflight} over the limit of ${LIMIT.requests})`);
  console.log(`  requests sent before a Retry-After had passed: ${r.early}`);
  console.log(
    `  time: ${s(r.ms)}, ideal ${s(r.idealMs)} (${r.calls} calls in ${r.windows} windows of at most ${LIMIT.requests}, then one answer) = ${(r.ms / r.idealMs).toFixed(2)}x` +
      (r.learned ? `; limit learned from the 429s: ${r.learned.capacity} per ${r.learned.windowMs} ms` : ""),
  );
  console.log(`  the same run without the limit: ${r.baseline.status} in ${s(r.baseline.ms)}`);
  console.log(`  token events: ${r.tokenEvents}${r.tokenEvents ? "" : " (none: the run does not hand its emit to the models as onToken yet)"}`);
  const ok = r.status === "completed" && r.retries <= r.needed && r.early === 0;
  console.log(
    `\ntarget: the run completes, retries <= needed, none before Retry-After, time < ${TIME_SLACK}x ideal: ` +
      `${ok ? "PASS" : "MISS"} (${r.status}, ${r.retries} <= ${r.needed}, ${r.early} early), ` +
      `time ${verdict(r.ms, r.idealMs * TIME_SLACK)}`,
  );
}

await runAlone(import.meta.url, "ratelimit", benchRateLimit, reportRateLimit);
