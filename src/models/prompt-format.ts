/**
 * The text format of the prompts coord writes: the section names, and how documents are embedded
 * in them. The prompt builder writes with these and the offline model reads with them, so the two
 * never disagree about a heading.
 */
export const SECTIONS = {
  missionObjective: "Mission objective",
  brief: "Brief",
  phase: "Phase",
  steps: "Steps",
  task: "Your task",
  deliverables: "Deliverables to write",
  feedback: "Reviewer feedback on your previous draft",
  reviewerNotes: "Reviewer notes on earlier phases",
  inputs: "Inputs",
  extra: "Extra context",
  earlier: "Earlier deliverables",
  supportNotes: "Support notes",
  research: "Your research",
  missing: "Missing from your last answer",
  phasePlan: "Phase plan",
  role: "Your role",
  criteria: "Success criteria",
  phases: "Phases",
  now: "Now",
} as const;

/** The label of the phase objective line inside the Phase section. */
export const OBJECTIVE_LABEL = "Objective";

/** A `## Title` section, or nothing when the body is empty. */
export function section(title: string, body: string): string {
  return body.trim() ? `## ${title}\n\n${body.trim()}\n` : "";
}

/** The body of a prompt's `## Title` section (a whole line of its own), up to the next `## ` heading. */
export function sectionBody(prompt: string, title: string): string {
  const heading = new RegExp(`^## ${title.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m").exec(prompt);
  if (!heading) return "";
  const body = prompt.slice(heading.index + heading[0].length);
  const end = body.search(/^## /m);
  return (end === -1 ? body : body.slice(0, end)).trim();
}

/** A prompt without one `## Title` section (its heading and body, up to the next `## ` heading). */
export function withoutSection(prompt: string, title: string): string {
  const heading = new RegExp(`^## ${title.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m").exec(prompt);
  if (!heading) return prompt;
  const rest = prompt.slice(heading.index + heading[0].length);
  const end = rest.search(/^## /m);
  return prompt.slice(0, heading.index) + (end === -1 ? "" : rest.slice(end));
}

/** The phase objective as written in the Phase section, if any. */
export function objectiveOf(prompt: string): string | undefined {
  const line = sectionBody(prompt, SECTIONS.phase)
    .split("\n")
    .find((l) => l.startsWith(`${OBJECTIVE_LABEL}: `));
  return line?.slice(OBJECTIVE_LABEL.length + 2).trim() || undefined;
}

/** Embedded documents must not break the prompt's own `##` sections, so their headings go down a level. */
export function embed(text: string): string {
  return text.replace(/^#{1,3} /gm, "#### ").trim();
}

/** A deliverable's text without its own `## Title` line, for placing it under a heading of ours. */
export function stripOwnHeading(text: string): string {
  return text.replace(/^## .*\n+/, "");
}
