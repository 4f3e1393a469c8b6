import type { Agent } from "../definitions/schemas/agent.js";
import type { Mission } from "../definitions/schemas/mission.js";
import type { PhasePlan } from "../definitions/plan.js";
import { OBJECTIVE_LABEL, SECTIONS, embed, section, stripOwnHeading } from "../models/prompt-format.js";
import { digestOf } from "./digests.js";
import { estimateTokens } from "../models/context.js";

/** Everything an agent step may see, already resolved from the run state. */
export interface StepContext {
  mission: Mission;
  plan: PhasePlan;
  inputs: Record<string, string>;
  extra: Array<{ name: string; text: string }>;
  /** Deliverables of earlier phases, by phase index then title. */
  earlier: Record<string, Record<string, string>>;
  /** Review decisions by phase index: notes given when approving earlier phases guide later ones. */
  reviews?: Record<string, { action: string; note?: string }>;
  /** Digests of earlier deliverables, by phase index then title (made when they were written). */
  digests?: Record<string, Record<string, string>>;
  /**
   * Deliverables of phases before this one are given as digests, not whole, to keep requests
   * within the model's context (0 or absent: every earlier deliverable whole).
   */
  digestBefore?: number;
}

export const NOT_PROVIDED = "(not provided)";

/** Fills a template's `[PLACEHOLDER]`s from the inputs; missing ones are marked, never left blank. */
export function fillPlaceholders(text: string, mission: Mission, inputs: Record<string, string>): string {
  let out = text;
  for (const input of mission.inputs) {
    const value = inputs[input.id]?.trim();
    // A value with headings of its own must not open sections of the prompt.
    out = out.split(`[${input.title}]`).join(value ? embed(value) : `[${input.title}: ${NOT_PROVIDED}]`);
  }
  return out;
}

function inputsSection(ctx: StepContext): string {
  if (ctx.mission.kind === "template") return "";
  const parts = ctx.mission.inputs.map((input) => `### ${input.id}\n\n${embed(ctx.inputs[input.id]?.trim() || NOT_PROVIDED)}`);
  return section(SECTIONS.inputs, parts.join("\n\n"));
}

function extraSection(ctx: StepContext): string {
  return section(SECTIONS.extra, ctx.extra.map((e) => `### ${e.name}\n\n${embed(e.text)}`).join("\n\n"));
}

function earlierSection(ctx: StepContext): string {
  const parts: string[] = [];
  for (const phase of ctx.mission.phases) {
    if (phase.index >= ctx.plan.phase.index) break;
    const inBrief = phase.index < (ctx.digestBefore ?? 0);
    for (const [title, text] of Object.entries(ctx.earlier[phase.index] ?? {})) {
      if (inBrief) {
        const digest = ctx.digests?.[phase.index]?.[title] ?? digestOf(text);
        parts.push(`### Phase ${phase.index}: ${title} (in brief: read_deliverable(${phase.index}, "${title}") gives it whole)\n\n${embed(digest)}`);
      } else {
        parts.push(`### Phase ${phase.index}: ${title}\n\n${embed(stripOwnHeading(text))}`);
      }
    }
  }
  return section(SECTIONS.earlier, parts.join("\n\n"));
}

function reviewerNotes(ctx: StepContext): string {
  const notes = ctx.mission.phases
    .filter((p) => p.index < ctx.plan.phase.index && ctx.reviews?.[p.index]?.action === "approve" && ctx.reviews[p.index]?.note)
    .map((p) => `- Phase ${p.index} (${p.title}): ${ctx.reviews![p.index]!.note}`);
  return section(SECTIONS.reviewerNotes, notes.join("\n"));
}

/**
 * What every request of a run shares, first and in the same bytes, so providers can cache it:
 * the mission, its inputs, extra context and the deliverables of earlier phases in phase order.
 * A later phase's shared context begins with an earlier phase's whole, since deliverables are
 * only ever added at its end.
 */
export function sharedContext(ctx: StepContext): string {
  const { mission } = ctx;
  const head = [`# Mission: ${mission.title}`, ""];
  if (mission.objective) head.push(section(SECTIONS.missionObjective, fillPlaceholders(mission.objective, mission, ctx.inputs)));
  if (mission.kind === "template") {
    head.push(section(SECTIONS.brief, mission.context.map((c) => `### ${c.title}\n\n${fillPlaceholders(c.text, mission, ctx.inputs)}`).join("\n\n")));
  }
  return [...head, inputsSection(ctx), extraSection(ctx), earlierSection(ctx)].filter(Boolean).join("\n");
}

// The run's shared context may take this share of a step's request budget by default; the role,
// the ask, the supports' notes and tool turns have the rest.
const SHARED_SHARE = 0.7;

/**
 * A context cut to a request's budget: the earlier deliverables whole while they fit, and once
 * they do not, the oldest phases' in brief (their digests), as few as will do. Every step of a
 * phase with the same model gets the same cut, so their requests share one cacheable prefix, and
 * the cut only moves later as phases are added, so earlier prefixes stay valid. `stepTokens` is
 * what the request adds after the shared context; `share` the most of the budget it may take.
 */
export function fitContext(context: StepContext, budget: number, stepTokens: number, share = SHARED_SHARE): StepContext {
  const limit = Math.min(budget * share, budget - stepTokens);
  const fits = (before: number) => estimateTokens(sharedContext({ ...context, digestBefore: before })) <= limit;
  if (fits(0)) return context;
  // More phases in brief never makes the context longer: the fewest that fit is found by halving.
  let [low, high] = [1, context.plan.phase.index];
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    if (fits(mid)) high = mid;
    else low = mid + 1;
  }
  return { ...context, digestBefore: low };
}

/** The agent's own part of the system prompt, after the shared context: its expertise as its file wrote it. */
export function rolePrompt(agent: Agent): string {
  // Its headings go down a level, so an agent's "## Steps" never reads as the step's own.
  return section(SECTIONS.role, embed(agent.body));
}

/** The system prompt of a step: the shared context, then the agent's role. */
export function systemPrompt(ctx: StepContext, agent: Agent): string {
  return `${sharedContext(ctx)}\n${rolePrompt(agent)}`;
}

/** The phase at hand: which phase, its objective, who works on it, its steps. Per step, so after the shared context. */
function phaseSection(ctx: StepContext): string {
  const { mission, plan } = ctx;
  const head: string[] = [];
  const phase = plan.phase;
  const lines = [`Phase ${phase.index} of ${mission.phases.length}: ${phase.title}`];
  if (phase.objective && mission.kind !== "template") lines.push(`${OBJECTIVE_LABEL}: ${phase.objective}`);
  lines.push(`Lead: ${phase.lead}${phase.support.length ? `; support: ${phase.support.join(", ")}` : ""}`);
  head.push(section(SECTIONS.phase, lines.join("\n")));
  if (phase.steps.length) head.push(section(SECTIONS.steps, phase.steps.map((s, i) => `${i + 1}. ${s}`).join("\n")));
  return head.filter(Boolean).join("\n");
}

/** The human message of a support step: the phase and the ask (the shared context is in the system prompt). */
export function supportPrompt(ctx: StepContext, agent: Agent): string {
  const ask = [
    `You are supporting this phase as ${agent.name}. From your expertise, work through the steps and write`,
    `concise, specific notes (findings, numbers, recommendations) that the lead, ${ctx.plan.phase.lead}, will turn into:`,
    ...ctx.plan.deliverables.map((d) => `- ${d}`),
  ].join("\n");
  return [phaseSection(ctx), section(SECTIONS.task, ask), reviewerNotes(ctx)].filter(Boolean).join("\n");
}

/** The human message of a lead step: the phase, the deliverables to write and the supports' notes. */
export function leadPrompt(ctx: StepContext, notes: Record<string, string>, feedback?: string): string {
  const guidance = ctx.plan.deliverables
    .map((d) => {
      const g = ctx.plan.phase.guidance[d];
      return g ? `### ${d}\n\n${fillPlaceholders(g, ctx.mission, ctx.inputs)}` : `### ${d}`;
    })
    .join("\n\n");
  const ask =
    "You lead this phase. Write each deliverable below in full, as markdown, building on the inputs, the earlier " +
    "deliverables and your support agents' notes. Return every deliverable; none may be empty.";
  return [
    phaseSection(ctx),
    section(SECTIONS.task, ask),
    section(SECTIONS.deliverables, guidance),
    feedback ? section(SECTIONS.feedback, feedback) : "",
    reviewerNotes(ctx),
    section(SECTIONS.supportNotes, Object.entries(notes).map(([agent, text]) => `### ${agent}\n\n${embed(text)}`).join("\n\n")),
  ]
    .filter(Boolean)
    .join("\n");
}

/**
 * The lead's first call when deliverables are written side by side: a short plan that every
 * deliverable is then written from, so they agree with each other.
 */
export function planRequest(leadTask: string, titles: string[]): string {
  const ask = [
    "Do not write the deliverables yet. First write a short plan for this phase, at most 200 words: the decisions,",
    "facts and numbers every deliverable must agree on, and what each of these will cover:",
    ...titles.map((t) => `- ${t}`),
  ].join("\n");
  return `${leadTask}\n${section(SECTIONS.now, ask)}`;
}

/** One deliverable of a phase, written from the lead's plan (already in the task) alongside the others. */
export function singleRequest(leadTaskWithPlan: string, title: string): string {
  const ask = `Write only the deliverable "${title}", in full, as markdown, following the phase plan above. The other deliverables are being written alongside from the same plan.`;
  return `${leadTaskWithPlan}\n${section(SECTIONS.now, ask)}`;
}


