import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { planMission, type PhasePlan } from "../definitions/plan.js";
import type { RunSpec } from "./store.js";
import { RUN_FILES, deliverableFile } from "./paths.js";
import { approvalsInOrder, type Actor, type ApprovalRecord, type CallRecord } from "./decisions.js";
import { criteriaSummary, type CriterionResult } from "./verdicts.js";
import type { RunStateValue, Usage } from "./state.js";
import { DEFAULT_PRICES, cacheSavingOf, costOf } from "../models/prices.js";
import { addUsage, zeroUsage } from "../models/usage.js";
import { embed, stripOwnHeading } from "../models/prompt-format.js";

/** `queued`: waiting for a worker (`coord run --detach`); the others as their names say. */
export type RunStatus = "queued" | "running" | "paused" | "completed" | "failed";
export type PhaseStatus = "pending" | "running" | "awaiting-approval" | "completed" | "failed";

/** Whether a paused run waits for a person's decision (approve, or reject with a note), not for a higher budget. */
export function awaitsDecision(record: Pick<RunRecord, "status" | "reason">): boolean {
  return record.status === "paused" && (record.reason === "approval" || record.reason === "criteria");
}

/** run.json: what other tools and the CLI's --json read about a run. */
export interface RunRecord {
  runId: string;
  mission: string;
  title: string;
  status: RunStatus;
  /** Why a paused run waits: for a human (approval) or for more budget. */
  reason?: "approval" | "budget" | "criteria";
  error?: string;
  model: string;
  startedAt: string;
  /** Who started the run (absent for runs started before coord recorded it). */
  startedBy?: Actor;
  finishedAt: string | null;
  runDir: string;
  phases: Array<{
    index: number;
    title: string;
    lead: string | null;
    support: string[];
    status: PhaseStatus;
    deliverables: Array<{ title: string; file: string }>;
    calls: Array<{ agent: string; role: "lead" | "support" | "judge" | "plan"; model: string; usage: Usage; costUsd: number | null; attempts: number }>;
  }>;
  /**
   * Token totals; `costUsd` is null when some model has no known price. `cacheSavedUsd`, when
   * the provider read input from its prompt cache, is what that saved against full input price.
   */
  usage: Usage & { costUsd: number | null; cacheSavedUsd?: number };
  /** Every decision on a paused phase, in the order taken, rejections included. */
  approvals: ApprovalRecord[];
  /**
   * The success criteria, checked once the last phase is done: a verdict and verified quotes for
   * each. Absent until they are checked (and for runs from before coord checked them).
   */
  criteria?: CriterionResult[];
  /** What checked them: the judge model (`offline` is term overlap, not an LLM), or `sections` for a template's own. */
  criteriaJudge?: string;
  /** The judge's calls: in the run's usage and cost like every other call, outside any phase. */
  criteriaCalls?: Array<{ agent: string; role: "judge"; model: string; usage: Usage; costUsd: number | null; attempts: number }>;
}

function sumUsage(calls: CallRecord[]): Usage {
  return calls.reduce((total, call) => addUsage(total, call.usage), zeroUsage());
}

function phaseStatus(plan: PhasePlan, state: RunStateValue, runStatus: RunStatus, pausedPhase: number | null): PhaseStatus {
  const index = plan.phase.index;
  const written = !!state.deliverables[index];
  if (pausedPhase === index) return "awaiting-approval";
  if (written && (!plan.review || state.reviews[index]?.action === "approve")) return "completed";
  const started = Object.values(state.calls).some((c) => c.phase === index) || written;
  if (started) return runStatus === "failed" ? "failed" : "running";
  return "pending";
}

/** The state of a run before its first step: its inputs, nothing written yet. */
export function initialState(spec: RunSpec): RunStateValue {
  return { inputs: spec.inputs, extra: spec.extra, notes: {}, deliverables: {}, calls: {}, reviews: {} };
}

/** Builds run.json from the run's spec and its checkpointed state. */
export function buildRecord(
  spec: RunSpec,
  state: RunStateValue,
  status: { status: RunStatus; reason?: "approval" | "budget" | "criteria"; error?: string; pausedPhase?: number | null; finishedAt?: string | null },
): RunRecord {
  const plans = planMission(spec.mission, { approve: spec.settings.approve });
  const calls = Object.values(state.calls);
  // The final check of the criteria belongs to no phase; a gate's check is its phase's.
  const judgeCalls = calls.filter((c) => c.role === "judge" && c.phase === 0);
  const prices = { ...DEFAULT_PRICES, ...spec.settings.models.prices };
  const cost = (c: CallRecord) => costOf(c.model ?? spec.model, c.usage, prices) ?? null;
  const phases = plans.map((plan) => {
    const index = plan.phase.index;
    const written = state.deliverables[index] ?? {};
    return {
      index,
      title: plan.phase.title,
      lead: plan.phase.lead,
      support: plan.phase.support,
      status: phaseStatus(plan, state, status.status, status.pausedPhase ?? null),
      deliverables: plan.deliverables.filter((t) => written[t]).map((title) => ({ title, file: deliverableFile(index, plan.deliverables.indexOf(title), title) })),
      calls: calls
        .filter((c) => c.phase === index)
        .sort((a, b) => (a.role === b.role ? a.agent.localeCompare(b.agent) : a.role === "support" ? -1 : 1))
        .map((c) => ({ agent: c.agent, role: c.role, model: c.model ?? spec.model, usage: c.usage, costUsd: cost(c), attempts: c.attempts })),
    };
  });
  const firstUnfinished = phases.find((p) => p.status !== "completed");
  if (status.status === "failed" && firstUnfinished) firstUnfinished.status = "failed";
  return {
    runId: spec.runId,
    mission: spec.mission.id,
    title: spec.mission.title,
    status: status.status,
    ...(status.reason && { reason: status.reason }),
    ...(status.error && { error: status.error }),
    model: spec.model,
    startedAt: spec.startedAt,
    ...(spec.startedBy && { startedBy: spec.startedBy }),
    finishedAt: status.finishedAt ?? null,
    runDir: spec.runDir,
    phases,
    usage: { ...sumUsage(calls), costUsd: calls.some((c) => cost(c) === null) ? null : calls.reduce((a, c) => a + (cost(c) ?? 0), 0), ...cacheSaving(calls, (c) => cacheSavingOf(c.model ?? spec.model, c.usage, prices)) },
    approvals: approvalsInOrder(state.approvals),
    ...(state.criteria && { criteria: state.criteria, criteriaJudge: judgeCalls.at(-1)?.model ?? "sections" }),
    ...(judgeCalls.length && { criteriaCalls: judgeCalls.map((c) => ({ agent: c.agent, role: "judge" as const, model: c.model ?? spec.model, usage: c.usage, costUsd: cost(c), attempts: c.attempts })) }),
  };
}

/** What caching saved over the calls that read from a cache, when any did and their models have prices. */
function cacheSaving(calls: CallRecord[], saving: (c: CallRecord) => number | undefined): { cacheSavedUsd?: number } {
  const cached = calls.filter((c) => (c.usage.cacheReadTokens ?? 0) + (c.usage.cacheWriteTokens ?? 0) > 0);
  if (cached.length === 0) return {};
  return { cacheSavedUsd: cached.reduce((sum, c) => sum + (saving(c) ?? 0), 0) };
}

const TICK: Record<CriterionResult["verdict"], string> = { met: "[x]", partly: "[~]", not_met: "[ ]" };

/** The checked criteria: `[x]` met, `[~]` partly, `[ ]` not met, each with its quotes and what is missing. */
function criteriaReport(criteria: CriterionResult[], judge: string | undefined): string[] {
  const by = judge === "offline" ? "coord's offline check (term overlap with the deliverables, not an LLM's judgement)" : judge === "sections" ? "the template's output sections" : `the judge model \`${judge}\``;
  const out = ["## Success criteria", "", `${criteriaSummary(criteria)[0]!.toUpperCase()}${criteriaSummary(criteria).slice(1)}, checked by ${by}. Every quote was found word for word in the deliverable it names.`, ""];
  for (const c of criteria) {
    out.push(`- ${TICK[c.verdict]} ${c.text}`);
    for (const e of c.evidence) out.push(`  - Phase ${e.phase}, ${e.deliverable}: "${e.quote.replace(/\s+/g, " ").trim()}"`);
    if (c.missing) out.push(`  - Missing: ${c.missing}`);
  }
  out.push("");
  return out;
}

/** `cli:ana`, `slack:U012ABCDEF`, or just the surface when it knows no user. */
export function actorLabel(actor: Actor): string {
  return actor.user ? `${actor.surface}:${actor.user}` : actor.surface;
}

/** One decision on one line, for `coord runs show` and the report: `phase 1: rejected by cli:ana at ... — "note"`. */
export function decisionLine(approval: ApprovalRecord): string {
  const verb = approval.action === "reject" ? "rejected" : "approved";
  // A note may span lines; the trail keeps one decision per line.
  const note = approval.note ? ` — "${approval.note.replace(/\s+/g, " ").trim()}"` : "";
  return `phase ${approval.phase}: ${verb} by ${actorLabel(approval.by)} at ${approval.at}${note}`;
}

/** Reads a run's run.json if it has one (a run killed before its first write has none). */
export function readRecord(runDir: string): RunRecord | undefined {
  const file = join(runDir, RUN_FILES.record);
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as RunRecord) : undefined;
}

/** report.md: the mission, the inputs used, every deliverable under its phase, the criteria, usage. */
export function renderReport(spec: RunSpec, record: RunRecord, state: RunStateValue): string {
  const out: string[] = [`# ${spec.mission.title}`, ""];
  out.push(`Run \`${record.runId}\` · **${record.status}**${record.reason ? ` (${record.reason})` : ""} · model \`${record.model}\` · started ${record.startedAt}${record.finishedAt ? ` · finished ${record.finishedAt}` : ""}`, "");
  if (record.error) out.push(`> **Failed:** ${record.error}`, "");
  out.push("## Inputs used", "");
  for (const input of spec.mission.inputs) {
    const source = spec.inputSources[input.id];
    if (source || spec.mission.kind === "mission") out.push(`- **${input.id}**: ${source ?? "not provided"}`);
  }
  if (spec.notProvided.length && spec.mission.kind === "template") out.push(`- not provided: ${spec.notProvided.join(", ")}`);
  for (const extra of spec.extra) out.push(`- extra context: ${extra.name}`);
  out.push("");
  for (const phase of record.phases) {
    out.push(`## Phase ${phase.index}: ${phase.title}`, "", `Lead: ${phase.lead ?? "-"}${phase.support.length ? ` · Support: ${phase.support.join(", ")}` : ""} · ${phase.status}`, "");
    for (const d of phase.deliverables) {
      // Headings inside a deliverable go below its own `###`, so they never open a phase of the report.
      out.push(`### ${d.title}`, "", embed(stripOwnHeading(state.deliverables[phase.index]?.[d.title] ?? "")), "");
    }
  }
  if (record.approvals.length) {
    out.push("## Decisions", "", ...record.approvals.map((a) => `- ${decisionLine(a)}`), "");
  }
  if (record.criteria?.length) {
    out.push(...criteriaReport(record.criteria, record.criteriaJudge));
  } else if (spec.mission.successCriteria.length) {
    out.push("## Success criteria", "", "Not checked yet.", "", ...spec.mission.successCriteria.map((c) => `- [ ] ${c}`), "");
  }
  const usd = (n: number | null) => (n === null ? "n/a" : `$${n.toFixed(4)}`);
  out.push("## Usage", "", "| Phase | Agent | Role | Model | Input tokens | Output tokens | Total | Cost |", "|---|---|---|---|---:|---:|---:|---:|");
  for (const phase of record.phases) {
    for (const c of phase.calls) out.push(`| ${phase.index} | ${c.agent} | ${c.role} | ${c.model} | ${c.usage.inputTokens} | ${c.usage.outputTokens} | ${c.usage.totalTokens} | ${usd(c.costUsd)} |`);
  }
  for (const c of record.criteriaCalls ?? []) out.push(`| | ${c.agent} | ${c.role} | ${c.model} | ${c.usage.inputTokens} | ${c.usage.outputTokens} | ${c.usage.totalTokens} | ${usd(c.costUsd)} |`);
  out.push(`| | **Total** | | | ${record.usage.inputTokens} | ${record.usage.outputTokens} | ${record.usage.totalTokens} | ${usd(record.usage.costUsd)} |`, "");
  const { cacheReadTokens, cacheWriteTokens, cacheSavedUsd } = record.usage;
  if (cacheReadTokens || cacheWriteTokens) {
    const share = record.usage.inputTokens ? Math.round((100 * (cacheReadTokens ?? 0)) / record.usage.inputTokens) : 0;
    out.push(`Prompt cache: ${cacheReadTokens ?? 0} input tokens read from the provider's cache (${share}% of input)${cacheWriteTokens ? `, ${cacheWriteTokens} written to it` : ""}; caching saved ${usd(cacheSavedUsd ?? null)}.`, "");
  }
  return out.join("\n");
}
