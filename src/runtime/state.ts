import { Annotation } from "@langchain/langgraph";
import type { ApprovalRecord, CallRecord, ReviewDecision } from "./decisions.js";
import type { CriterionResult } from "./verdicts.js";

export type { Usage } from "../models/usage.js";
export * from "./decisions.js";

// Maps keyed by phase (and agent or title) merge instead of appending: a finished step's write is
// replayed on resume and a subgraph returns its whole state to its parent, so merges must be idempotent.
const merge = <T>() =>
  Annotation<Record<string, T>>({
    reducer: (current, update) => ({ ...current, ...update }),
    default: () => ({}),
  });

const mergeNested = () =>
  Annotation<Record<string, Record<string, string>>>({
    reducer: (current, update) => {
      const out = { ...current };
      for (const [key, value] of Object.entries(update)) out[key] = { ...(current[key] ?? {}), ...value };
      return out;
    },
    default: () => ({}),
  });

/** The state of a mission run, checkpointed after every step. */
export const RunState = Annotation.Root({
  /** Input id -> text. */
  inputs: Annotation<Record<string, string>>({ reducer: (_a, b) => b, default: () => ({}) }),
  /** Files of the inputs folder that are not inputs: attached as context. */
  extra: Annotation<Array<{ name: string; text: string }>>({ reducer: (_a, b) => b, default: () => [] }),
  /** Phase index -> support agent -> notes. */
  notes: mergeNested(),
  /** Phase index -> deliverable title -> markdown. */
  deliverables: mergeNested(),
  /** Phase index -> the lead's plan, written alongside the supports when deliverables are written side by side. */
  phasePlans: merge<string>(),
  /**
   * Phase index -> deliverable title -> its digest (title, outline and opening), made once when
   * it is written: what later requests are given instead of the whole text once it no longer fits.
   */
  digests: mergeNested(),
  /** `phase/role/agent` -> the step's calls. */
  calls: merge<CallRecord>(),
  /** Phase index -> the latest review decision. */
  reviews: merge<ReviewDecision>(),
  /**
   * Gates (`criteria.gate`): each criterion's phase, assigned before the first phase, and per
   * phase its last check: passed, sent back for a redo (how often), or waived by a person.
   */
  gates: Annotation<GateState | undefined>({ reducer: (current, update) => (update ? { assigned: update.assigned ?? current?.assigned ?? [], phases: { ...(current?.phases ?? {}), ...update.phases } } : current), default: () => undefined }),
  /** The success criteria, checked: a verdict and verified evidence for each (absent until checked). */
  criteria: Annotation<CriterionResult[] | undefined>({ reducer: (_a, b) => b, default: () => undefined }),
  /** `phase#n` -> the n-th decision on that phase: the audit trail, written by the review node. */
  approvals: merge<ApprovalRecord>(),
});

type ChannelValues = typeof RunState.State;

/**
 * The state of a run. `approvals` may be missing: in states callers build themselves and in
 * runs checkpointed before coord kept the trail; readers take missing as none.
 */
export type RunStateValue = Omit<ChannelValues, "approvals" | "digests" | "criteria" | "gates" | "phasePlans"> &
  Partial<Pick<ChannelValues, "approvals" | "digests" | "criteria" | "gates" | "phasePlans">>;

/** A phase's gate: its last check, and how often it sent the phase back. */
export interface PhaseGate {
  status: "passed" | "redo" | "waived";
  redos: number;
  /** The verdicts on the phase's criteria at its last check. */
  results: CriterionResult[];
}

export interface GateState {
  /** The phase each criterion is checked after, in the mission's order. */
  assigned?: number[];
  phases: Record<string, PhaseGate>;
}
export type RunStateUpdate = typeof RunState.Update;
