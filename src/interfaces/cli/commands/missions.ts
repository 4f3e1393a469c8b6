import { diagnostic, type Diagnostic } from "../../../errors.js";
import { loadAgents } from "../../../definitions/agent-registry.js";
import { expandPaths, type LoadOptions } from "../../../definitions/discover.js";
import { MISSION_FILE_PATTERN, loadMission, loadMissionFile, loadMissions, missionFiles } from "../../../definitions/mission-catalog.js";
import { missionToMermaid } from "../../../definitions/mermaid.js";
import type { Mission } from "../../../definitions/schemas/mission.js";
import { validateMissionAgents } from "../../../definitions/validate.js";
import { displayPath, printJson, reportDiagnostics, summarizeDiagnostics, table, truncate, type Io } from "../io.js";
import { withParseCache } from "../settings.js";
import { finishValidation } from "./agents.js";

/** The JSON shape of `missions show --json`: what acceptance checks and other tools read. */
export function missionJson(mission: Mission, cwd: string) {
  return {
    id: mission.id,
    kind: mission.kind,
    title: mission.title,
    file: displayPath(mission.file, cwd),
    metadata: mission.metadata,
    objective: mission.objective,
    inputs: mission.inputs,
    phases: mission.phases.map(({ notes: _notes, ...phase }) => phase),
    successCriteria: mission.successCriteria,
    requiredAgents: mission.requiredAgents,
    agents: mission.agents.map((a) => ({ name: a.name, description: a.description })),
    context: mission.context.map((c) => c.title),
  };
}

export function missionsList(io: Io, options: LoadOptions): number {
  const catalog = loadMissions(withParseCache(io, options));
  if (io.json) {
    printJson(
      io,
      catalog.missions.map((m) => ({
        id: m.id,
        kind: m.kind,
        title: m.title,
        phases: m.phases.length,
        inputs: m.inputs.length,
        file: displayPath(m.file, io.cwd),
      })),
    );
  } else {
    const rows = catalog.missions.map((m) => [
      m.id,
      truncate(m.title, 40),
      String(m.phases.length),
      String(m.inputs.length),
      displayPath(m.file, io.cwd),
    ]);
    io.out(table([["ID", "TITLE", "PHASES", "INPUTS", "FILE"], ...rows]));
    io.out(`\n${catalog.missions.length} missions`);
  }
  summarizeDiagnostics(io, catalog.diagnostics, "coord missions validate");
  return 0;
}

function renderMission(mission: Mission): string {
  const out: string[] = [`# ${mission.title}  (${mission.id}, ${mission.kind})`];
  const meta = Object.entries({ ...mission.metadata, extra: undefined }).filter(([, v]) => typeof v === "string");
  if (meta.length) out.push(meta.map(([k, v]) => `${k}: ${v}`).join(" | "));
  if (mission.objective) out.push("", `Objective: ${truncate(mission.objective, 400)}`);
  out.push("", `Inputs (${mission.inputs.length}):`);
  for (const input of mission.inputs) {
    out.push(`  - ${input.id}${input.required ? " (required)" : ""}${input.description ? `: ${truncate(input.description, 90)}` : ""}`);
  }
  for (const phase of mission.phases) {
    out.push("", `Phase ${phase.index}: ${phase.title}${phase.duration ? ` (${phase.duration})` : ""}`);
    out.push(`  lead: ${phase.lead ?? "-"}   support: ${phase.support.join(", ") || "-"}`);
    if (phase.objective) out.push(`  objective: ${truncate(phase.objective, 200)}`);
    if (phase.steps.length) out.push("  steps:", ...phase.steps.map((s, i) => `    ${i + 1}. ${truncate(s, 110)}`));
    out.push("  deliverables:", ...(phase.deliverables.length ? phase.deliverables : [`${phase.title} (default)`]).map((d) => `    - ${truncate(d, 110)}`));
  }
  if (mission.successCriteria.length) {
    out.push("", "Success criteria:", ...mission.successCriteria.map((c) => `  [ ] ${truncate(c, 110)}`));
  }
  return out.join("\n");
}

export function missionsShow(io: Io, ref: string, options: LoadOptions & { graph?: boolean }): number {
  const cached = withParseCache(io, options);
  const { mission, diagnostics } = loadMission(ref, cached);
  const registry = loadAgents(cached);
  // show works with agents missing: they are warnings here and errors in validate.
  const missing = validateMissionAgents(mission, registry).map((d) => ({ ...d, severity: "warning" as const }));
  reportDiagnostics(io, [...diagnostics, ...missing]);
  if (io.json) printJson(io, options.graph ? { ...missionJson(mission, io.cwd), mermaid: missionToMermaid(mission) } : missionJson(mission, io.cwd));
  else io.out(options.graph ? missionToMermaid(mission) : renderMission(mission));
  return 0;
}

export function missionsValidate(io: Io, paths: string[], options: LoadOptions): number {
  const diagnostics: Diagnostic[] = [];
  let files: string[];
  if (paths.length > 0) {
    const expanded = expandPaths(paths, MISSION_FILE_PATTERN, io.cwd);
    diagnostics.push(...expanded.diagnostics);
    files = expanded.files;
  } else {
    files = missionFiles(options);
  }
  const registry = loadAgents(withParseCache(io, options));
  let count = 0;
  for (const file of files) {
    const parsed = loadMissionFile(file);
    diagnostics.push(...parsed.diagnostics);
    if (!parsed.mission) continue;
    count++;
    diagnostics.push(...validateMissionAgents(parsed.mission, registry));
  }
  if (files.length === 0 && paths.length === 0) {
    diagnostics.push(diagnostic("PATH_NOT_FOUND", "no mission files found", { hint: "add ./missions or pass --missions DIR" }));
  }
  return finishValidation(io, diagnostics, `${count} missions`);
}
