import { ERROR, INTERRUPT, type CheckpointTuple } from "@langchain/langgraph-checkpoint";
import { BudgetExceededError } from "./budget.js";
import { buildRecord, initialState } from "./record.js";
import { RunState, type RunStateValue } from "./state.js";
import { pauseOf, type Pause } from "./decisions.js";
import type { RunSpec } from "./store.js";
import type { RunStore } from "./store/run-store.js";

/** How a run stopped, as run.json says it: buildRecord's status argument. */
export type RunStop = Parameters<typeof buildRecord>[2];

/**
 * What coord keeps of a run besides its spec, read from its last checkpoint without compiling
 * the graph: no model is resolved, so a run made with a provider's model reads without its key.
 */
export interface SavedRun {
  state: RunStateValue;
  stop: RunStop;
  /** When the last checkpoint was written; null when the run has none yet. */
  savedAt: string | null;
}

export async function readSavedRun(store: RunStore, spec: RunSpec): Promise<SavedRun> {
  const tuple = await (await store.checkpointer()).getTuple({ configurable: { thread_id: spec.runId } });
  // No checkpoint: no step ever started (a queued run, or one stopped before its first step).
  if (!tuple) return { state: initialState(spec), stop: { status: "queued" }, savedAt: null };
  const state = stateOf(spec, tuple);
  return { state, stop: stopOf(spec, state, tuple), savedAt: tuple.checkpoint.ts };
}

const STATE_KEYS = new Set(Object.keys(RunState.spec));

/**
 * The run's state as getState would give it: the checkpoint's state channels (the others are the
 * graph's own bookkeeping: branches, joins, tasks), over the defaults of channels never written.
 */
function stateOf(spec: RunSpec, tuple: CheckpointTuple): RunStateValue {
  const saved = Object.entries(tuple.checkpoint.channel_values).filter(([key]) => STATE_KEYS.has(key));
  return { ...initialState(spec), ...Object.fromEntries(saved) } as RunStateValue;
}

// LangGraph keeps only a failed step's error name and message, and every CoordError is named
// "CoordError": a budget stop is told apart by the message its error class always starts with.
const BUDGET_STOP = new BudgetExceededError("").message;

/**
 * How the run stopped, from the last checkpoint's pending writes: a step that interrupted for
 * approval, a step that failed (on its budget, or for good), or none; then it completed if
 * every phase did, else it is still running or was killed mid-step.
 */
function stopOf(spec: RunSpec, state: RunStateValue, tuple: CheckpointTuple): RunStop {
  const writes = tuple.pendingWrites ?? [];
  const interrupt = writes.find(([, channel]) => channel === INTERRUPT);
  if (interrupt) {
    const pause = interruptedPause(interrupt[2]);
    return { status: "paused", reason: pause?.reason ?? "approval", pausedPhase: pause?.phase ?? null };
  }
  const errors = writes.filter(([, channel]) => channel === ERROR).map(([, , value]) => String((value as { message?: unknown })?.message ?? value));
  const budget = errors.find((message) => message.startsWith(BUDGET_STOP));
  if (budget) return { status: "paused", reason: "budget", error: budget };
  if (errors.length) return { status: "failed", error: errors[0]!, finishedAt: tuple.checkpoint.ts };
  const done = buildRecord(spec, state, { status: "running" }).phases.every((phase) => phase.status === "completed");
  return done ? { status: "completed", finishedAt: tuple.checkpoint.ts } : { status: "running" };
}

/** What a review or gate node interrupted on: its interrupt value is `{ phase, title, ..., kind? }`. */
function interruptedPause(value: unknown): Pause | null {
  const first = (Array.isArray(value) ? value[0] : value) as { value?: unknown } | undefined;
  return pauseOf(first?.value);
}
