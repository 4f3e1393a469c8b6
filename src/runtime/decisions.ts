import type { Usage } from "../models/usage.js";

// Who decided what, and the step records run.json is built from: plain data, with no LangGraph in
// it, so the replies that only read records never load LangChain.

/** One agent step's model calls, for run.json and the report. */
export interface CallRecord {
  phase: number;
  agent: string;
  /** `judge`: the check of the success criteria, after the last phase. */
  role: "lead" | "support" | "judge" | "plan";
  /** The model spec that answered (`offline`, `openai:gpt-4o-mini`...). */
  model: string;
  usage: Usage;
  /** How many model calls the step took (a lead asked again for a missing deliverable takes two). */
  attempts: number;
  /** When the step's model calls began and ended (ISO times); a resumed step's, when it was resumed. */
  startedAt?: string;
  finishedAt?: string;
}

/** Where a run was started or a decision taken: `api` is the HTTP API, `library` a direct call. */
export const SURFACES = ["cli", "slack", "mcp", "api", "web", "library"] as const;
export type Surface = (typeof SURFACES)[number];

/** Who started a run or took a decision: the surface, and the user as that surface knows them. */
export interface Actor {
  surface: Surface;
  /** The Slack user id, the OS user for the CLI, or what the caller passes. */
  user?: string;
}

/** Who a library caller is when it does not say. */
export const LIBRARY_ACTOR: Actor = Object.freeze({ surface: "library" });

/** An actor without an empty `user` (a Slack form without a user id, an OS without a user name). */
export function actor(surface: Surface, user?: string): Actor {
  return { surface, ...(user && { user }) };
}

export interface ReviewDecision {
  action: "approve" | "reject";
  note?: string;
  /** Who decided (default: the library). */
  by?: Actor;
  /** When, as an ISO time (default: when it reaches `resumeRun`); see `stampDecision`. */
  at?: string;
}

export type StampedDecision = ReviewDecision & { by: Actor; at: string };

/**
 * A decision with who took it and when. Surfaces stamp a decision the moment a person takes it,
 * since it may wait in the queue before a worker carries it out; what is already set is kept.
 * The stamp then travels in the resume value, which LangGraph checkpoints, so a review node run
 * again writes the same entry.
 */
export function stampDecision(decision: ReviewDecision, now: Date = new Date()): StampedDecision {
  return { ...decision, by: decision.by ?? LIBRARY_ACTOR, at: decision.at ?? now.toISOString() };
}

/** One decision on a paused phase, as run.json's `approvals` lists it (rejections included). */
export interface ApprovalRecord {
  phase: number;
  action: ReviewDecision["action"];
  note?: string;
  by: Actor;
  at: string;
}

/**
 * The key of one more call under `base` in a run's calls: `base`, then `base#2`, `base#3`... A
 * redo or a check made again is recorded beside the earlier ones, which were spent too.
 */
export function nextCallKey(calls: Record<string, CallRecord>, base: string): string {
  const earlier = Object.keys(calls).filter((key) => key === base || key.startsWith(`${base}#`)).length;
  return earlier ? `${base}#${earlier + 1}` : base;
}

/** `approvals` keys: the phase and the decision's number on it (`1#1`, `1#2`), so a replayed write lands on itself. */
export function nextApprovalKey(approvals: Record<string, ApprovalRecord> | undefined, phase: number): string {
  const earlier = Object.values(approvals ?? {}).filter((a) => a.phase === phase).length;
  return `${phase}#${earlier + 1}`;
}

/**
 * The decisions in the order they were taken. Phases pause one after another, so the key (phase,
 * then number) is that order; clocks are not, since decisions may come from different machines.
 */
export function approvalsInOrder(approvals: Record<string, ApprovalRecord> | undefined): ApprovalRecord[] {
  const rank = (key: string) => key.split("#").map(Number);
  return Object.entries(approvals ?? {})
    .map(([key, approval]) => ({ rank: rank(key), approval }))
    .sort((a, b) => a.rank[0]! - b.rank[0]! || a.rank[1]! - b.rank[1]!)
    .map((e) => e.approval);
}

/** What a paused run waits for: a person's approval of a phase, or a decision on its unmet criteria (gates). */
export interface Pause {
  phase: number;
  reason: "approval" | "criteria";
}

/** The pause an interrupt's value stands for (`{ phase, kind? }`, as review and gate nodes raise it), if any. */
export function pauseOf(value: unknown): Pause | null {
  const v = value as { phase?: unknown; kind?: unknown } | undefined;
  return typeof v?.phase === "number" ? { phase: v.phase, reason: v.kind === "criteria" ? "criteria" : "approval" } : null;
}
