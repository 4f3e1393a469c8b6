import { HumanMessage, SystemMessage } from "@langchain/core/messages";
import { afterEach, describe, expect, it } from "vitest";
import { createModel, type ModelSettings } from "../../src/models/resolve.js";
import { DEFAULT_MAX_INFLIGHT, providerLimiters } from "../../src/models/rate-limit.js";
import { startFakeOpenAI, type FakeOpenAI, type ReceivedRequest } from "../helpers/openai-server.js";

const SPEC = "openai:gpt-4o-mini";
// Retries as a run has them by default (models.retries is 4); backoff short, so only Retry-After waits.
const RETRY = { retries: 4, baseMs: 1, maxMs: 30_000 };

let server: FakeOpenAI | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function modelOn(fake: FakeOpenAI, settings: Partial<ModelSettings> = {}) {
  return createModel(SPEC, { baseUrl: fake.url, env: { OPENAI_API_KEY: "sk-test" }, retry: RETRY, ...settings });
}

/** `count` supports' calls at once, spread over `models` models of the same provider (as steps of several runs are). */
async function fanOut(fake: FakeOpenAI, count: number, models = 1, settings: Partial<ModelSettings> = {}) {
  const built = await Promise.all(Array.from({ length: models }, () => modelOn(fake, settings)));
  const started = Date.now();
  const replies = await Promise.all(
    Array.from({ length: count }, (_, i) => built[i % models]!.invoke([new SystemMessage(`You are support ${i + 1}.`), new HumanMessage(`## Your task\n\nPart ${i + 1}.`)])),
  );
  return { replies, ms: Date.now() - started };
}

/** Requests that reached the server while a 429 it had answered still told clients to wait. */
function earlyRequests(requests: ReceivedRequest[]): ReceivedRequest[] {
  const refusals = requests.filter((r) => r.status === 429);
  return requests.filter((r) => refusals.some((q) => r.start >= q.end && r.start < q.retryAt!));
}

const limiterOf = (fake: FakeOpenAI) => providerLimiters().get(`openai|${fake.url}`)!;

describe("one limiter per provider, against a server that rate-limits", () => {
  it("finishes 20 calls at once against 5 requests a second, with no more retries than the limit forces and none before Retry-After", async () => {
    // Answers take 250 ms, refusals 100: every request of the first burst is in before the first
    // 429 is out, and the 429s are out before any answer frees a slot (as with real providers).
    const limit = { requests: 5, windowMs: 1000, refuseAfterMs: 100 };
    server = await startFakeOpenAI({ delayMs: 250, rateLimit: limit });
    const calls = 20;
    const { replies, ms } = await fanOut(server, calls, 2);

    expect(replies.map((r) => r.content)).toEqual(Array.from({ length: calls }, (_, i) => `Server notes by "You are support ${i + 1}.".`));
    const refused = server.requests.filter((r) => r.status === 429);
    // No client can know the limit before the first refusal: the first burst (maxInflight calls)
    // has to pay for what is over the limit, once. Every later window is filled to the limit, no more.
    const needed = Math.min(calls, DEFAULT_MAX_INFLIGHT) - limit.requests;
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.length).toBeLessThanOrEqual(needed);
    expect(server.requests).toHaveLength(calls + refused.length);
    expect(limiterOf(server).stats).toMatchObject({ requests: calls + refused.length, retries: refused.length, rateLimited: refused.length });
    expect(earlyRequests(server.requests)).toEqual([]);
    expect(server.maxInFlight).toBeLessThanOrEqual(DEFAULT_MAX_INFLIGHT);
    // 20 calls at 5 a window take at least 4 windows; a limiter that waits no longer than it must takes little more.
    const windows = Math.ceil(calls / limit.requests);
    expect(ms).toBeGreaterThanOrEqual((windows - 1) * limit.windowMs);
    expect(ms).toBeLessThan((windows + 1.5) * limit.windowMs);
  });

  it("honours Retry-After given as an HTTP date, for every call to the provider", async () => {
    server = await startFakeOpenAI({ delayMs: 100, rateLimit: { requests: 3, windowMs: 600, retryAfter: "date", refuseAfterMs: 60 } });
    const { replies } = await fanOut(server, 8);
    expect(replies).toHaveLength(8);
    const refused = server.requests.filter((r) => r.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.length).toBeLessThanOrEqual(Math.min(8, DEFAULT_MAX_INFLIGHT) - 3);
    // The date is to the second: the calls waited for it, not for the server's shorter window.
    expect(earlyRequests(server.requests)).toEqual([]);
  });

  it("keeps at most maxInflight calls at the provider, across models built for different runs", async () => {
    server = await startFakeOpenAI({ delayMs: 50 });
    const { replies } = await fanOut(server, 12, 3, { maxInflight: 3 });
    expect(replies).toHaveLength(12);
    expect(server.maxInFlight).toBe(3);
    expect(server.requests.every((r) => r.status === 200)).toBe(true);
  });

  it("learns a concurrency limit too: refused calls wait, then no more are sent at once than got through", async () => {
    const concurrent = 3;
    server = await startFakeOpenAI({ delayMs: 200, rateLimit: { concurrent, concurrentRetryMs: 500, refuseAfterMs: 100 } });
    const calls = 10;
    const { replies } = await fanOut(server, calls);
    expect(replies).toHaveLength(calls);
    const refused = server.requests.filter((r) => r.status === 429);
    expect(refused.length).toBeLessThanOrEqual(Math.min(calls, DEFAULT_MAX_INFLIGHT) - concurrent);
    expect(earlyRequests(server.requests)).toEqual([]);
  });

  it("still fails a call the provider keeps refusing once the retries run out, with the 429", async () => {
    server = await startFakeOpenAI();
    for (let i = 0; i < 3; i++) server.failures.push({ status: 429, headers: { "retry-after": "0" } });
    const model = await modelOn(server, { retry: { retries: 2, baseMs: 1, maxMs: 5 } });
    const error = (await model.invoke([new HumanMessage("hi")]).then(
      () => undefined,
      (e: unknown) => e,
    )) as { status?: number } | undefined;
    expect(error?.status).toBe(429);
    expect(server.requests).toHaveLength(3);
  });
});
