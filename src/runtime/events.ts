import type { ErrorCode } from "../errors.js";

/** What a run reports while it goes: the CLI turns these into progress lines, servers into logs. */
export type RunEvent =
  | { type: "start"; runId: string; runDir: string }
  | { type: "step"; state: "start" | "end"; phase: number; role: "lead" | "support"; agent: string; ms?: number }
  | { type: "phase"; phase: number; title: string; deliverables: number }
  | { type: "warning"; message: string; code?: ErrorCode }
  /**
   * Text a running step's model is writing, as it streams: coalesced (one event per call every
   * ~150 ms and at its end), in order. `call` numbers the run's model calls (a step may make
   * several, some at once); `attempt` counts from 1, and a higher one for the same call means
   * the earlier attempt failed and its text is void. `tool` names the tool whose arguments the
   * text is (a lead writes its deliverables through one). Joined per call and attempt, the
   * texts are the call's answer.
   */
  | { type: "token"; phase: number; role: "lead" | "support"; agent: string; text: string; call: number; attempt: number; tool?: string };

export type Emit = (event: RunEvent) => void;

/** The environment a run reads keys and gives hooks: what the interface resolved, never process.env. */
export type Env = Record<string, string | undefined>;

/**
 * What a process must still hold to write a run: a worker's lease on it. `check()` throws
 * (LEASE_LOST) once another worker may have taken the run over.
 */
export interface RunGuard {
  check(): Promise<void>;
}
