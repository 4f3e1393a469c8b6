import { CoordError } from "../errors.js";

export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  /** First backoff; doubles each retry, with jitter. */
  baseMs: number;
  /** No single wait is longer than this, whatever Retry-After says. */
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 4, baseMs: 500, maxMs: 30_000 };

interface HttpishError {
  status?: number;
  code?: string;
  name?: string;
  headers?: Headers | Record<string, string | undefined>;
  message?: string;
  cause?: unknown;
}

const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EAI_AGAIN", "ENOTFOUND", "UND_ERR_SOCKET"]);

export function statusOf(error: unknown): number | undefined {
  const e = error as HttpishError | undefined;
  return typeof e?.status === "number" ? e.status : undefined;
}

/** 429, 5xx, timeouts, dropped connections and streams cut short are worth another try; 4xx mistakes are not. */
export function isRetryable(error: unknown): boolean {
  const status = statusOf(error);
  if (status !== undefined) return status === 408 || status === 409 || status === 429 || status >= 500;
  // Clients wrap network failures (OpenAI's "Connection error." holds ECONNREFUSED two causes
  // down), so the whole cause chain is searched.
  for (let e = error as HttpishError | undefined, depth = 0; e && depth < 6; e = e.cause as HttpishError | undefined, depth++) {
    if (NETWORK_CODES.has(e.code ?? "")) return true;
    if (/APIConnection(Timeout)?Error|TimeoutError|AbortError|StreamCutError/.test(e.name ?? "")) return true;
    if (/fetch failed|socket hang up|network|connection error/i.test(e.message ?? "")) return true;
  }
  return false;
}

/** Seconds or an HTTP date, as servers send Retry-After. */
export function retryAfterMs(error: unknown): number | undefined {
  const headers = (error as HttpishError | undefined)?.headers;
  if (!headers) return undefined;
  const value = typeof (headers as Headers).get === "function" ? (headers as Headers).get("retry-after") : (headers as Record<string, string | undefined>)["retry-after"];
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How long to wait before another try: Retry-After when the server sent one, else exponential backoff with jitter; never over `maxMs`. */
export function retryWaitMs(error: unknown, policy: RetryPolicy, attempt: number): number {
  const backoff = policy.baseMs * 2 ** (attempt - 1) * (0.8 + Math.random() * 0.4);
  return Math.min(policy.maxMs, retryAfterMs(error) ?? backoff);
}

export interface RetryHooks {
  /**
   * When the wait after this error is taken elsewhere (a limiter shared by every call to the
   * provider holds the next try back), how long it is: reported, not slept here.
   */
  waitedElsewhere?: (error: unknown) => number | undefined;
  /** Whether to stop trying whatever the error (the caller gave up on the call). */
  giveUp?: () => boolean;
}

/**
 * Calls `fn` until it succeeds, a non-retryable error happens, or retries run out. Waits honour
 * Retry-After when the server sends it, otherwise back off exponentially with jitter.
 */
export async function withRetries<T>(fn: (attempt: number) => Promise<T>, policy: RetryPolicy, onRetry?: (error: unknown, waitMs: number, attempt: number) => void, hooks: RetryHooks = {}): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (error instanceof CoordError || attempt > policy.retries || !isRetryable(error) || hooks.giveUp?.()) throw error;
      const elsewhere = hooks.waitedElsewhere?.(error);
      const wait = elsewhere ?? retryWaitMs(error, policy, attempt);
      onRetry?.(error, wait, attempt);
      if (elsewhere === undefined) await sleep(wait);
    }
  }
}
