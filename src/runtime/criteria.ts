import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { RunnableConfig } from "@langchain/core/runnables";
import { HumanMessage, SystemMessage } from "@langchain/core/messages";
import * as z from "zod";
import type { Mission } from "../definitions/schemas/mission.js";
import { ASSIGN_TOOL, JUDGE_TOOL, type Evidence, type JudgedCriterion, type Verdict } from "../models/criteria-judge.js";
import { SECTIONS, embed, section, stripOwnHeading } from "../models/prompt-format.js";
import { askStructured } from "../models/structured.js";
import type { Usage } from "../models/usage.js";
import type { PhasePlan } from "../definitions/plan.js";
import { fitContext, sharedContext, type StepContext } from "./prompts.js";
import type { CriterionResult } from "./verdicts.js";

export { criteriaSummary, type CriterionResult } from "./verdicts.js";
export type { Evidence, Verdict };

const NO_EVIDENCE = "no evidence found";

const JudgeSchema = z.object({
  verdicts: z.array(
    z.object({
      criterion: z.number().int().describe("The criterion's number in the list"),
      verdict: z.enum(["met", "partly", "not_met"]),
      evidence: z
        .array(z.object({ phase: z.number().int(), deliverable: z.string().describe("The deliverable's title, as listed"), quote: z.string().describe("Words copied exactly from it") }))
        .describe("Short quotes, copied word for word, from the deliverables that show the verdict"),
      missing: z.string().describe("For partly or not_met: what is missing. Empty when met."),
    }),
  ),
});

/** What the judge is given besides the deliverables: the run's inputs and extra context, as every step is. */
export interface JudgeContext {
  inputs: Record<string, string>;
  extra: Array<{ name: string; text: string }>;
  digests?: Record<string, Record<string, string>>;
}

/** The judge's context from a run's state: every judge call of a run, in the graph or `coord check`, reads the same. */
export function judgeContextOf(state: JudgeContext): JudgeContext {
  return { inputs: state.inputs, extra: state.extra, ...(state.digests && { digests: state.digests }) };
}

/**
 * The judge's request, laid out as every step's: the run's shared context first (mission,
 * inputs, extra context, then every deliverable in phase order, so it begins with the bytes the
 * last phase's requests began with and a provider's cache serves it), then the criteria and the
 * ask. Within `budget` tokens the oldest phases are given in brief; their digests open with the
 * deliverable's own words, so quotes of them still verify.
 */
export function judgeMessages(mission: Mission, criteria: string[], deliverables: Record<string, Record<string, string>>, budget = Number.POSITIVE_INFINITY, shared: JudgeContext = { inputs: {}, extra: [] }) {
  // After the last phase: every phase's deliverables are earlier ones.
  const after = { phase: { index: mission.phases.length + 1 } } as PhasePlan;
  const context: StepContext = { mission, plan: after, inputs: shared.inputs, extra: shared.extra, earlier: deliverables, ...(shared.digests && { digests: shared.digests }) };
  const system = sharedContext(fitContext(context, budget, 0, 0.85));
  const ask = [
    section(SECTIONS.criteria, criteria.map((c, i) => `${i + 1}. ${c}`).join("\n")),
    section(
      SECTIONS.task,
      "You check this mission's work. For every criterion above give a verdict: met, partly or not_met. Back it with short quotes " +
        "copied word for word from the earlier deliverables (name each by its phase and title); a quote that is not in the deliverable " +
        "it names is discarded, and a verdict left without evidence counts as not_met. For partly and not_met say what is missing.",
    ),
  ].join("\n");
  return [new SystemMessage(system), new HumanMessage(ask)];
}

/** Text as quotes are compared: whitespace does not count. */
const squash = (text: string) => text.replace(/\s+/g, " ").trim();

/**
 * What a judge said, checked: a quote counts only when it stands, word for word (whitespace
 * aside), in the deliverable it names; a verdict left with no evidence is not_met, "no evidence
 * found". A criterion the judge skipped is not_met the same way. A judge cannot invent support.
 */
export function verifyVerdicts(criteria: string[], judged: JudgedCriterion[], deliverables: Record<string, Record<string, string>>, phases: Array<number | null> = []): CriterionResult[] {
  return criteria.map((text, i) => {
    const said = judged.find((j) => j.criterion === i + 1);
    const evidence = (said?.evidence ?? []).filter((e) => {
      const source = deliverables[e.phase]?.[e.deliverable];
      return typeof e.quote === "string" && squash(e.quote).length > 0 && source !== undefined && squash(source).includes(squash(e.quote));
    });
    const verdict: Verdict = !said || evidence.length === 0 ? "not_met" : said.verdict;
    const missing = !said || evidence.length === 0 ? [NO_EVIDENCE, said?.missing].filter(Boolean).join(": ") : verdict === "met" ? "" : said.missing;
    return { text, verdict, phase: phases[i] ?? null, evidence, missing };
  });
}

/**
 * A prompt template's own criteria, checked without a model: each section of its OUTPUT FORMAT
 * (its deliverables) is present and not empty.
 */
export function templateSectionResults(mission: Mission, deliverables: Record<string, Record<string, string>>): CriterionResult[] {
  return mission.phases.flatMap((phase) =>
    phase.deliverables.map((title) => {
      const text = deliverables[phase.index]?.[title]?.trim() ?? "";
      const body = stripOwnHeading(text).trim();
      const first = body.split("\n").find((l) => l.trim() && !l.trim().startsWith(">"))?.trim() ?? "";
      return body
        ? { text: `The "${title}" section is present and not empty`, verdict: "met" as const, phase: phase.index, evidence: [{ phase: phase.index, deliverable: title, quote: first.slice(0, 200) }], missing: "" }
        : { text: `The "${title}" section is present and not empty`, verdict: "not_met" as const, phase: phase.index, evidence: [], missing: "the section is missing or empty" };
    }),
  );
}

/** Asks a judge model for verdicts on the criteria, through structured output, and checks its quotes. `config`: the call's callbacks, tags and metadata. */
export async function judgeCriteria(
  model: BaseChatModel,
  mission: Mission,
  criteria: string[],
  deliverables: Record<string, Record<string, string>>,
  budget?: number,
  config?: RunnableConfig,
  shared?: JudgeContext,
): Promise<{ results: CriterionResult[]; usage: Usage }> {
  const { value, usage } = await askStructured(model, JudgeSchema, JUDGE_TOOL, judgeMessages(mission, criteria, deliverables, budget, shared), config);
  return { results: verifyVerdicts(criteria, (value?.verdicts ?? []) as JudgedCriterion[], deliverables), usage };
}

const AssignSchema = z.object({
  assignments: z.array(z.object({ criterion: z.number().int().describe("The criterion's number in the list"), phase: z.number().int().describe("The earliest phase whose deliverables should meet it") })),
});

/**
 * Before the first phase (gates): which phase's deliverables should meet each criterion, by the
 * judge, from the mission's phases. A criterion the judge leaves out or places outside the
 * mission goes to the last phase. Returns the phase of each criterion, in order.
 */
export async function assignCriteria(model: BaseChatModel, mission: Mission, criteria: string[], config?: RunnableConfig): Promise<{ phases: number[]; usage: Usage }> {
  const outline = mission.phases
    .map((p) => [`### Phase ${p.index}: ${p.title}`, p.objective ? `Objective: ${p.objective}` : "", ...p.deliverables.map((d) => `- ${d}`)].filter(Boolean).join("\n"))
    .join("\n\n");
  const ask = [
    section(SECTIONS.criteria, criteria.map((c, i) => `${i + 1}. ${c}`).join("\n")),
    section(SECTIONS.task, "For every criterion above, name the earliest phase whose deliverables should meet it: it is checked right after that phase."),
  ].join("\n");
  const { value, usage } = await askStructured(model, AssignSchema, ASSIGN_TOOL, [new SystemMessage(`# Mission: ${mission.title}\n\n${section(SECTIONS.phases, outline)}`), new HumanMessage(ask)], config);
  const given = value?.assignments ?? [];
  const known = new Set(mission.phases.map((p) => p.index));
  const last = mission.phases.at(-1)?.index ?? 1;
  const phases = criteria.map((_, i) => {
    const phase = given.find((a) => a.criterion === i + 1)?.phase;
    return phase !== undefined && known.has(phase) ? phase : last;
  });
  return { phases, usage };
}

/** What a gate tells a lead it sends back: the criteria its phase has not met, and what is missing. */
export function gateFeedback(unmet: CriterionResult[]): string {
  return ["These success criteria are not met yet; rewrite the deliverables so that they are:", ...unmet.map((c) => `- ${c.text}${c.missing ? ` (missing: ${c.missing})` : ""}`)].join("\n");
}
