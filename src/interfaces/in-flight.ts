import { CoordError } from "../errors.js";
import type { Mission } from "../definitions/schemas/mission.js";
import type { RunEvent, RunOutcome } from "../runtime/run.js";

/** A run this process is driving, as callers that wait on it see it. */
interface Flight {
  done: Promise<RunOutcome>;
  outcome?: RunOutcome;
  stepsDone: number;
  totalSteps: number;
  listeners: Set<(event: RunEvent) => void>;
}

/**
 * What a waiting caller learns while a run goes on: one step more done out of all, or, while a
 * step writes, what it is writing. `progress` only ever grows: steps done, plus a fraction below
 * the next step while tokens arrive.
 */
export interface Progress {
  stepsDone: number;
  totalSteps: number;
  progress: number;
  message: string;
}

// At most one notice of streamed text a second per waiting caller: enough to see a step write.
const TOKEN_NOTICE_MS = 1000;
const TAIL_CHARS = 80;

/** Agent steps of a mission, for "4 of 9 steps done": every support and lead of every phase. */
export function stepsOf(mission: Mission): number {
  return mission.phases.reduce((n, phase) => n + phase.support.length + 1, 0);
}

/**
 * Runs a surface starts and then waits on for a while at most: a chat or MCP client that will
 * not wait minutes gets an answer in seconds and the run carries on in this process. Callers may
 * wait again, and hear of every finished step while they do.
 */
export class InFlightRuns {
  private readonly flights = new Map<string, Flight>();

  /**
   * Starts work that reports a `start` event (runMission), resolving with the run id once the run
   * has passed its checks; a failure before that rejects, as the caller's mistake.
   */
  start(totalSteps: number, begin: (onEvent: (event: RunEvent) => void) => Promise<RunOutcome>): Promise<string> {
    return new Promise((resolve, reject) => {
      let runId: string | undefined;
      // The outcome exists before the work starts: work may report its start at once.
      let settle!: { resolve: (outcome: RunOutcome) => void; reject: (error: unknown) => void };
      const done = new Promise<RunOutcome>((resolveDone, rejectDone) => (settle = { resolve: resolveDone, reject: rejectDone }));
      const onEvent = (event: RunEvent) => {
        if (event.type === "start" && !runId) {
          runId = event.runId;
          this.track(runId, totalSteps, done);
          resolve(runId);
        }
        if (runId) this.notify(runId, event);
      };
      done.catch((error: unknown) => (runId ? undefined : reject(error)));
      begin(onEvent).then(settle.resolve, settle.reject);
    });
  }

  /**
   * Continues a run (approve, reject) in the background. A run this process is still driving is
   * not waiting for a decision: the first decision on a pause wins, a second one is refused.
   */
  resume(runId: string, totalSteps: number, begin: (onEvent: (event: RunEvent) => void) => Promise<RunOutcome>): Flight["done"] {
    const current = this.flights.get(runId);
    if (current && !current.outcome) {
      throw new CoordError("RUN_NOT_PAUSED", `run "${runId}" is running, not waiting for a decision`, { hints: { remote: "wait for it to pause (wait_run), then decide" } });
    }
    const done = begin((event) => this.notify(runId, event));
    this.track(runId, totalSteps, done);
    return done;
  }

  /**
   * Waits up to `seconds` for a run this process drives to stop (complete, pause, fail): its
   * outcome, or undefined while it still runs. `onProgress` hears of each finished step meanwhile.
   */
  async wait(runId: string, seconds: number, onProgress?: (progress: Progress) => void): Promise<RunOutcome | undefined> {
    const flight = this.flights.get(runId);
    if (!flight) return undefined;
    if (flight.outcome) return flight.outcome;
    let ticks = 0;
    let lastNotice = 0;
    const listener = (event: RunEvent) => {
      if (event.type === "step" && event.state === "end") {
        // The next step's first words are news: they are not held back by this step's last ones.
        ticks = 0;
        lastNotice = 0;
        onProgress?.({ stepsDone: flight.stepsDone, totalSteps: flight.totalSteps, progress: flight.stepsDone, message: `phase ${event.phase}: ${event.role} ${event.agent} done` });
      } else if (event.type === "token" && Date.now() - lastNotice >= TOKEN_NOTICE_MS) {
        lastNotice = Date.now();
        ticks++;
        const tail = event.text.replace(/\s+/g, " ").trim().slice(-TAIL_CHARS);
        const progress = flight.stepsDone + 1 - 1 / (ticks + 1);
        onProgress?.({ stepsDone: flight.stepsDone, totalSteps: flight.totalSteps, progress, message: `phase ${event.phase}: ${event.role} ${event.agent} writing: …${tail}` });
      }
    };
    flight.listeners.add(listener);
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), Math.max(0, seconds) * 1000)));
      return await Promise.race([flight.done, timeout]);
    } finally {
      clearTimeout(timer);
      flight.listeners.delete(listener);
    }
  }

  /** Where a run this process drives stands: steps done of all, or undefined when it is not ours. */
  progressOf(runId: string): Pick<Progress, "stepsDone" | "totalSteps"> | undefined {
    const flight = this.flights.get(runId);
    return flight && { stepsDone: flight.stepsDone, totalSteps: flight.totalSteps };
  }

  private track(runId: string, totalSteps: number, done: Promise<RunOutcome>): void {
    const previous = this.flights.get(runId);
    const flight: Flight = { done, stepsDone: previous?.stepsDone ?? 0, totalSteps, listeners: new Set() };
    this.flights.set(runId, flight);
    // The outcome is kept for later waits; a failure is the run's own and is in its record.
    done.then(
      (outcome) => (flight.outcome = outcome),
      () => this.flights.delete(runId),
    );
  }

  private notify(runId: string, event: RunEvent): void {
    const flight = this.flights.get(runId);
    if (!flight) return;
    if (event.type === "step" && event.state === "end") flight.stepsDone++;
    for (const listener of flight.listeners) listener(event);
  }
}
