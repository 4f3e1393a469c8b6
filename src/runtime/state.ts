import { Annotation } from "@langchain/langgraph";
import type { Usage } from "../models/usage.js";

export type { Usage };

/** One agent step's model calls, for run.json and the report. */
export interface CallRecord {
  phase: number;
  agent: string;
  role: "lead" | "support";
  /** The model spec that answered (`offline`, `openai:gpt-4o-mini`...). */
  model: string;
  usage: Usage;
  /** How many model calls the step took (a lead asked again for a missing deliverable takes two). */
  attempts: number;
}

export interface ReviewDecision {
  action: "approve" | "reject";
  note?: string;
}

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
  /** `phase/role/agent` -> the step's calls. */
  calls: merge<CallRecord>(),
  /** Phase index -> the latest review decision. */
  reviews: merge<ReviewDecision>(),
});

export type RunStateValue = typeof RunState.State;
export type RunStateUpdate = typeof RunState.Update;
