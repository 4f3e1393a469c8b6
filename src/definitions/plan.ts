import type { Mission, Phase } from "./schemas/mission.js";

/** One step of a run: an agent working as support or lead in a phase, or a human review. */
export interface PlanStep {
  id: string;
  kind: "support" | "lead" | "review" | "plan";
  phase: number;
  agent: string | null;
}

export interface PhasePlan {
  phase: Phase;
  supports: PlanStep[];
  lead: PlanStep;
  review: PlanStep | null;
  /**
   * The lead's plan for a phase whose deliverables are written side by side: written alongside
   * the supports, so it costs the phase no time of its own. Absent for one deliverable, no
   * supports, or the one-call form.
   */
  planner: PlanStep | null;
  /** The deliverable titles the lead must write: the phase's, or one named after the phase. */
  deliverables: string[];
}

/** The first node of every mission graph: it checks the required inputs before any agent works. */
export const INPUTS_NODE = "check_inputs";
/** The node that checks the mission's success criteria once its last phase is done. */
export const CRITERIA_NODE = "check_criteria";
/** With gates: the node that assigns each criterion to a phase before the first one. */
export const ASSIGN_NODE = "assign_criteria";

/** With gates: the node that checks a phase's criteria right after its lead. */
export function gateNodeId(phase: number): string {
  return `p${phase}_gate`;
}

function nodeId(phase: number, kind: string, agent?: string): string {
  return agent ? `p${phase}_${kind}_${agent.replace(/[^A-Za-z0-9]+/g, "_")}` : `p${phase}_${kind}`;
}

/** A phase that lists no deliverables still produces one, named after the phase. */
export function phaseDeliverables(phase: Phase): string[] {
  return phase.deliverables.length > 0 ? phase.deliverables : [phase.title];
}

/**
 * The steps of a mission and their order, independent of LangGraph: the runner compiles this
 * into a graph and `missions show --graph` draws it, so both always name the same nodes.
 */
export function planMission(mission: Mission, options: { approve?: boolean; deliverables?: "parallel" | "one-call" } = {}): PhasePlan[] {
  return mission.phases.map((phase) => {
    const deliverables = phaseDeliverables(phase);
    const plans = (options.deliverables ?? "parallel") === "parallel" && deliverables.length > 1 && phase.support.length > 0;
    return {
      phase,
      supports: phase.support.map((agent) => ({ id: nodeId(phase.index, "support", agent), kind: "support", phase: phase.index, agent })),
      lead: { id: nodeId(phase.index, "lead"), kind: "lead", phase: phase.index, agent: phase.lead },
      review: options.approve ? { id: nodeId(phase.index, "review"), kind: "review", phase: phase.index, agent: null } : null,
      planner: plans ? { id: nodeId(phase.index, "plan"), kind: "plan", phase: phase.index, agent: phase.lead } : null,
      deliverables,
    };
  });
}
