import { diagnostic, type Diagnostic } from "../errors.js";
import type { AgentRegistry } from "./agent-registry.js";
import type { Mission } from "./schemas/mission.js";
import { closestNames } from "./suggest.js";

/** Every agent a mission names, each with the line that first names it. */
export function missionAgentRefs(mission: Mission): Array<{ name: string; line: number; role: string }> {
  const refs = new Map<string, { name: string; line: number; role: string }>();
  for (const phase of mission.phases) {
    for (const [name, role] of [
      [phase.lead, "lead"],
      ...phase.support.map((s) => [s, "support"] as const),
    ] as const) {
      if (name && !refs.has(name)) refs.set(name, { name, line: phase.line, role: `${role} of phase ${phase.index}` });
    }
  }
  for (const name of mission.requiredAgents) {
    if (!refs.has(name)) refs.set(name, { name, line: 1, role: "required agent" });
  }
  return [...refs.values()];
}

/** The agents a mission names that nobody defines: the mission's own agents count. */
export function validateMissionAgents(mission: Mission, registry: AgentRegistry): Diagnostic[] {
  const own = new Set(mission.agents.map((a) => a.name));
  return missionAgentRefs(mission)
    .filter((ref) => !own.has(ref.name) && !registry.get(ref.name))
    .map((ref) => {
      const close = closestNames(ref.name, registry.names());
      return diagnostic("MISSION_UNKNOWN_AGENT", `${ref.role} uses agent "${ref.name}" (not found)`, {
        file: mission.file,
        line: ref.line,
        hint: close.length
          ? `did you mean ${close.join(", ")}? Use one of those, or add ${ref.name}.md to ./agents or an --agents DIR`
          : `add an agent file ${ref.name}.md to ./agents or to a folder given with --agents DIR`,
      });
    });
}
