import { tempProject } from "./cli.js";

export interface PhaseSpec {
  title: string;
  lead: string;
  support?: string[];
  deliverables: string[];
}

/** A mission file in the canonical format, written the way users write them. */
export function missionMarkdown(title: string, inputs: string[], phases: PhaseSpec[]): string {
  const lines = [`# Mission: ${title}`, "", "**Mission Type:** Test", "**Duration:** 1 hour", "", "## Mission Objective", "", `Complete ${title} for the test.`, ""];
  lines.push("## Required Inputs", "", ...inputs.map((input, i) => `${i + 1}. **${input}** (required) - the ${input.toLowerCase()}`), "");
  lines.push("## Mission Phases", "");
  phases.forEach((phase, i) => {
    lines.push(`### Phase ${i + 1}: ${phase.title} (10 minutes)`, "", `**Lead**: @${phase.lead}  `);
    if (phase.support?.length) lines.push(`**Support**: ${phase.support.map((s) => `@${s}`).join(", ")}  `);
    lines.push(`**Objective**: ${phase.title}`, "", "```bash", `@${phase.lead} ${phase.title}:`, `1. Study the ${title.toLowerCase()} inputs`, "2. Write the deliverables", "```", "");
    lines.push("**Deliverables**:", ...phase.deliverables.map((d) => `- ${d}`), "");
  });
  lines.push("## Success Criteria", "", "- [ ] Everything delivered", "");
  return lines.join("\n");
}

/** An agent file with optional hooks, in the claude-flow format. */
export function agentMarkdown(name: string, hooks: { pre?: string; post?: string } = {}): string {
  const hookLines = Object.entries(hooks).flatMap(([event, script]) => [`  ${event}: |`, ...script.split("\n").map((l) => `    ${l}`)]);
  return [
    "---",
    `name: ${name}`,
    "type: specialist",
    `description: ${name} specialist for tests`,
    "capabilities: [testing]",
    ...(hookLines.length ? ["hooks:", ...hookLines] : []),
    "---",
    "",
    `You are ${name}, a careful specialist.`,
    "",
  ].join("\n");
}

/** A throwaway project: missions/, agents/ and an inputs folder with realistic-enough text. */
export function runProject(options: {
  mission: string;
  agents: Record<string, { pre?: string; post?: string }>;
  inputs: Record<string, string>;
}): string {
  const files: Record<string, string> = { "missions/test-mission.md": options.mission };
  for (const [name, hooks] of Object.entries(options.agents)) files[`agents/${name}.md`] = agentMarkdown(name, hooks);
  for (const [id, text] of Object.entries(options.inputs)) files[`inputs/${id}.md`] = text;
  return tempProject(files);
}

/** Inputs of the two-phase "Growth Plan" mission below: a little prose, a list and a table. */
export const GROWTH_INPUTS = {
  "market-brief": "## Market\n\nMid-market SaaS buyers want faster onboarding and clear pricing.\n\n- Churn is 14% a year, mostly in the first 90 days.\n- Onboarding takes 23 days on average.\n",
  "sales-notes": "## Sales\n\nDeals stall at security review for 12 days.\n\n| Stage | Conversion |\n|---|---|\n| Demo to trial | 41% |\n| Trial to won | 22% |\n",
};

/** Two phases, three supports: enough to see parallel supports and deliverables flowing on. */
export const GROWTH_PLAN = missionMarkdown("Growth Plan", ["Market Brief", "Sales Notes"], [
  { title: "Analysis", lead: "analyst", support: ["researcher", "seller"], deliverables: ["Churn analysis", "Stall analysis"] },
  { title: "Plan", lead: "planner", support: ["researcher"], deliverables: ["Onboarding plan"] },
]);

/** The parts of a chat request a step can be told by: its messages, as an OpenAI-compatible server receives them. */
interface ChatRequestBody {
  messages: Array<{ role: string; content: string | null | Array<{ text?: string }> }>;
}

function contentText(content: ChatRequestBody["messages"][number]["content"]): string {
  return typeof content === "string" ? content : Array.isArray(content) ? content.map((part) => part.text ?? "").join("") : "";
}

/**
 * Which agent asked, told by its role at the end of the system prompt (agents written by
 * agentMarkdown introduce themselves there), or "?".
 */
export function agentOfRequest(body: ChatRequestBody, names: string[]): string {
  const system = contentText(body.messages.find((m) => m.role === "system")?.content ?? "");
  const role = system.slice(system.lastIndexOf("## Your role"));
  return names.find((name) => role.includes(`You are ${name}, a careful specialist.`)) ?? "?";
}

/** Which step a model request belongs to: `phase/agent`, the phase from the step's own ask. */
export function stepOfRequest(body: ChatRequestBody, names: string[]): string {
  const ask = contentText(body.messages.find((m) => m.role === "user")?.content ?? "");
  const phase = /Phase (\d+) of/.exec(ask)?.[1] ?? "?";
  return `${phase}/${agentOfRequest(body, names)}`;
}

/**
 * Which model call a request is: its step, and for a lead writing side by side which part
 * (`#plan`, or `#` and the deliverable's title). A call asked twice is a step's work done twice.
 */
export function callOfRequest(body: ChatRequestBody & { tools?: Array<{ function: { name: string } }> }, names: string[]): string {
  // The check of the success criteria, once the last phase is done: the judge's call, not an agent's.
  if (body.tools?.some((t) => t.function.name === "judge_criteria")) return "judge";
  const ask = contentText(body.messages.find((m) => m.role === "user")?.content ?? "");
  const part = ask.includes("First write a short plan for this phase") ? "plan" : /Write only the deliverable "([^"]+)"/.exec(ask)?.[1];
  return `${stepOfRequest(body, names)}${part ? `#${part}` : ""}`;
}
