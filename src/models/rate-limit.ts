/** The default of `models.maxInflight`: calls at once to one provider. */
export const DEFAULT_MAX_INFLIGHT = 8;

/** A learned limit forgets itself after this long without a 429 (the next burst learns it again). */
const FORGET_AFTER_MS = 60_000;
/** Waits shorter than this teach nothing about the provider's limit. */
const MIN_LEARN_SPAN_MS = 200;

/** What a provider's limiter has done since the process started: for the bench, tests and logs. */
export interface LimiterStats {
  /** Requests sent (first tries and retries). */
  requests: number;
  /** Requests sent again after a failure of any kind. */
  retries: number;
  /** Requests the provider refused with 429. */
  rateLimited: number;
  /** Most requests in flight at once. */
  maxInFlight: number;
  /** Total time requests waited for a slot, summed over requests. */
  queuedMs: number;
}

/** One request's hold on a slot: say how it ended, exactly once. */
export interface Slot {
  /** The provider answered 429: every call to it waits until `retryAt` (ms since the epoch). */
  rateLimited(retryAt: number): void;
  release(): void;
}

interface Admission {
  at: number;
  rejected: boolean;
}

interface Waiter {
  priority: boolean;
  queuedAt: number;
  resolve: (slot: Slot) => void;
}

/**
 * The calls of one process to one provider: at most `maxInflight` at once, and when the provider
 * answers 429 every call waits until its Retry-After, not only the one refused.
 *
 * A 429 also says how much the provider takes: the requests it let through in the time before
 * the refusal, and the time until it takes more. From then on the limiter sends at most that
 * many per such window (and at most that many at once), so a burst pays for the limit once
 * instead of once per window. Refused calls go first when the wait is over.
 */
export class ProviderLimiter {
  maxInflight: number;
  readonly stats: LimiterStats = { requests: 0, retries: 0, rateLimited: 0, maxInFlight: 0, queuedMs: 0 };
  private active = 0;
  private readonly waiting: Waiter[] = [];
  /** Nobody is let through before this. */
  private gateUntil = 0;
  /** The first 429 of the current wait, until the wait ends and its lesson is learned. */
  private refusal: { at: number; retryAt: number } | undefined;
  /** Recent admissions, for what a 429 teaches. */
  private readonly recent: Admission[] = [];
  private learned: { capacity: number; windowMs: number; lastRefusal: number } | undefined;
  private window = { start: 0, started: 0 };
  private timer: NodeJS.Timeout | undefined;
  private timerAt = 0;

  constructor(
    readonly key: string,
    maxInflight = DEFAULT_MAX_INFLIGHT,
  ) {
    this.maxInflight = maxInflight;
  }

  /** Waits for a slot. `retry` marks a call sent again, `priority` one the provider refused with 429. */
  acquire(options: { retry?: boolean; priority?: boolean } = {}): Promise<Slot> {
    if (options.retry) this.stats.retries++;
    return new Promise((resolve) => {
      const waiter: Waiter = { priority: !!options.priority, queuedAt: Date.now(), resolve };
      // Refused calls go before those that have not been sent yet, in the order they were refused.
      const at = waiter.priority ? this.waiting.findIndex((w) => !w.priority) : -1;
      if (at === -1) this.waiting.push(waiter);
      else this.waiting.splice(at, 0, waiter);
      this.pump();
    });
  }

  /** The limit learned from 429s, if any: for tests and the bench. */
  get learnedLimit(): { capacity: number; windowMs: number } | undefined {
    return this.learned && { capacity: this.learned.capacity, windowMs: this.learned.windowMs };
  }

  private pump(): void {
    // Nothing waits: no timer either, so a process whose last call was refused can exit.
    if (this.waiting.length === 0) return;
    const now = Date.now();
    if (now < this.gateUntil) return this.wakeAt(this.gateUntil);
    if (this.refusal) this.learn(now);
    if (this.learned && now - this.learned.lastRefusal > Math.max(FORGET_AFTER_MS, 2 * this.learned.windowMs)) this.learned = undefined;
    while (this.waiting.length > 0) {
      const limit = this.learned ? Math.min(this.maxInflight, this.learned.capacity) : this.maxInflight;
      if (this.active >= limit) return;
      if (this.learned) {
        if (now - this.window.start >= this.learned.windowMs) this.window = { start: now, started: 0 };
        if (this.window.started >= this.learned.capacity) return this.wakeAt(this.window.start + this.learned.windowMs);
        this.window.started++;
      }
      this.admit(this.waiting.shift()!, now);
    }
  }

  private admit(waiter: Waiter, now: number): void {
    this.active++;
    this.stats.requests++;
    this.stats.maxInFlight = Math.max(this.stats.maxInFlight, this.active);
    this.stats.queuedMs += now - waiter.queuedAt;
    const admission: Admission = { at: now, rejected: false };
    this.recent.push(admission);
    if (this.recent.length > 1000) this.recent.splice(0, this.recent.length - 1000);
    let done = false;
    const finish = () => {
      if (done) return false;
      done = true;
      this.active--;
      return true;
    };
    waiter.resolve({
      rateLimited: (retryAt) => {
        if (!finish()) return;
        admission.rejected = true;
        this.stats.rateLimited++;
        const at = Date.now();
        if (!this.refusal) this.refusal = { at, retryAt };
        this.gateUntil = Math.max(this.gateUntil, retryAt);
        this.refusal.retryAt = this.gateUntil;
        if (this.learned) this.learned.lastRefusal = at;
        this.pump();
      },
      release: () => {
        if (finish()) this.pump();
      },
    });
  }

  /**
   * The wait is over: what got through in the span before the first refusal (as long as the
   * wait it asked for) is what the provider takes per window, and the window lasts from the
   * first of those requests until the provider took requests again.
   */
  private learn(now: number): void {
    const { at, retryAt } = this.refusal!;
    this.refusal = undefined;
    const span = retryAt - at;
    const before = this.recent.filter((a) => a.at >= at - span && a.at <= at);
    const through = before.filter((a) => !a.rejected).length;
    // A short wait (Retry-After: 0) or a refusal of everything sent says nothing about the limit.
    if (span < MIN_LEARN_SPAN_MS || through === 0) return;
    const first = before[0]!.at;
    // A little over the measured window: the provider's clock and ours differ by a request's trip.
    const windowMs = Math.ceil((retryAt - first) * 1.05) + 10;
    const capacity = Math.max(1, this.learned ? Math.min(this.learned.capacity, through) : through);
    this.learned = { capacity, windowMs: Math.max(windowMs, this.learned?.windowMs ?? 0), lastRefusal: at };
    this.window = { start: now, started: 0 };
  }

  private wakeAt(at: number): void {
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    // Not unref'd: a run waiting here has nothing else keeping the process alive.
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.pump();
      },
      Math.max(0, at - Date.now()),
    );
  }
}

const limiters = new Map<string, ProviderLimiter>();

/**
 * The process's limiter for a provider (one per provider and server: `provider|baseUrl`), shared
 * by every step and every run. The latest `maxInflight` asked for applies.
 */
export function providerLimiter(key: string, maxInflight = DEFAULT_MAX_INFLIGHT): ProviderLimiter {
  let limiter = limiters.get(key);
  if (!limiter) limiters.set(key, (limiter = new ProviderLimiter(key, maxInflight)));
  else limiter.maxInflight = maxInflight;
  return limiter;
}

/** Every provider limiter of the process, by key. */
export function providerLimiters(): ReadonlyMap<string, ProviderLimiter> {
  return limiters;
}
