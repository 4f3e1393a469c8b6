import type { Mission } from "./schemas/mission.js";

function label(text: string): string {
  return `"${text.replace(/"/g, "#quot;")}"`;
}

/**
 * The phase/agent flow as a Mermaid flowchart: supports of a phase in parallel, into the lead,
 * whose deliverables feed every later phase.
 */
export function missionToMermaid(mission: Mission): string {
  const lines = ["flowchart TD"];
  const inputs = mission.inputs.map((i) => i.id);
  lines.push(`  inputs[/${label(inputs.length ? `Inputs: ${inputs.join(", ")}` : "Inputs")}/]`);
  let previous = ["inputs"];
  for (const phase of mission.phases) {
    const p = `p${phase.index}`;
    lines.push(`  subgraph ${p}[${label(`Phase ${phase.index}: ${phase.title}`)}]`);
    lines.push("    direction TB");
    const supports = phase.support.map((name, i) => ({ id: `${p}_s${i + 1}`, name }));
    for (const s of supports) lines.push(`    ${s.id}(${label(`${s.name} (support)`)})`);
    lines.push(`    ${p}_lead[[${label(`${phase.lead ?? "?"} (lead)`)}]]`);
    for (const s of supports) lines.push(`    ${s.id} --> ${p}_lead`);
    lines.push("  end");
    const entry = supports.length ? supports.map((s) => s.id).join(" & ") : `${p}_lead`;
    const count = phase.deliverables.length || 1;
    const edge = previous[0] === "inputs" ? "-->" : `-->|${label(`${count} deliverable${count === 1 ? "" : "s"}`)}|`;
    lines.push(`  ${previous.join(" & ")} ${edge} ${entry}`);
    previous = [`${p}_lead`];
  }
  lines.push(`  report([${label("report.md")}])`);
  lines.push(`  ${previous.join(" & ")} --> report`);
  return lines.join("\n");
}
