import { CRITERIA_NODE, INPUTS_NODE, planMission } from "./plan.js";
import type { Mission } from "./schemas/mission.js";

function label(text: string): string {
  return `"${text.replace(/"/g, "#quot;")}"`;
}

/**
 * The phase/agent flow as a Mermaid flowchart, with the node ids of the compiled graph:
 * supports of a phase in parallel into the lead, whose deliverables feed every later phase.
 */
export function missionToMermaid(mission: Mission, options: { approve?: boolean; deliverables?: "parallel" | "one-call" } = {}): string {
  const lines = ["flowchart TD"];
  const inputs = mission.inputs.map((i) => i.id);
  lines.push(`  ${INPUTS_NODE}[/${label(inputs.length ? `Inputs: ${inputs.join(", ")}` : "Inputs")}/]`);
  let previous = INPUTS_NODE;
  let carried = 0;
  for (const { phase, supports, lead, review, planner, deliverables } of planMission(mission, options)) {
    lines.push(`  subgraph p${phase.index}[${label(`Phase ${phase.index}: ${phase.title}`)}]`);
    lines.push("    direction TB");
    for (const s of supports) lines.push(`    ${s.id}(${label(`${s.agent} (support)`)})`);
    lines.push(`    ${lead.id}[[${label(`${lead.agent ?? "?"} (lead)`)}]]`);
    for (const s of supports) lines.push(`    ${s.id} --> ${lead.id}`);
    // Writing side by side, the lead plans alongside its supports, then writes from the plan.
    if (planner) lines.push(`    ${planner.id}(${label(`${planner.agent ?? "?"} (plan)`)})`, `    ${planner.id} --> ${lead.id}`);
    if (review) lines.push(`    ${lead.id} --> ${review.id}{${label("approve?")}}`, `    ${review.id} -->|reject| ${lead.id}`);
    lines.push("  end");
    const starts = [...supports, ...(planner ? [planner] : [])];
    const entry = starts.length ? starts.map((s) => s.id).join(" & ") : lead.id;
    const edge = previous === INPUTS_NODE ? "-->" : `-->|${label(`${carried} deliverable${carried === 1 ? "" : "s"}`)}|`;
    lines.push(`  ${previous} ${edge} ${entry}`);
    previous = review?.id ?? lead.id;
    carried = deliverables.length;
  }
  // The success criteria are checked once the last phase is done (a template's own sections too).
  if (mission.successCriteria.length > 0 || mission.kind === "template") {
    const count = mission.successCriteria.length;
    lines.push(`  ${CRITERIA_NODE}{{${label(count ? `Check ${count} success criteri${count === 1 ? "on" : "a"}` : "Check output sections")}}}`, `  ${previous} --> ${CRITERIA_NODE}`);
    previous = CRITERIA_NODE;
  }
  lines.push(`  report([${label("report.md")}])`, `  ${previous} --> report`);
  return lines.join("\n");
}
