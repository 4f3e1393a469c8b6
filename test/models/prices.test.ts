import { describe, expect, it } from "vitest";
import { DEFAULT_PRICES, cacheSavingOf, costOf } from "../../src/models/prices.js";
import { addUsage, fromUsageMetadata } from "../../src/models/usage.js";

describe("costOf", () => {
  it("bills input read from the prompt cache at the provider's cached rate and the rest at the input rate", () => {
    const usage = { inputTokens: 1_000_000, outputTokens: 0, totalTokens: 1_000_000, cacheReadTokens: 800_000 };
    const { input, cachedInput } = DEFAULT_PRICES["openai:gpt-4o"]!;
    expect(costOf("openai:gpt-4o", usage)).toBeCloseTo(0.2 * input + 0.8 * cachedInput!, 10);
    // The same tokens with no cache cost the full input rate, and the saving is the difference.
    expect(cacheSavingOf("openai:gpt-4o", usage)).toBeCloseTo(0.8 * (input - cachedInput!), 10);
  });

  it("bills Anthropic cache writes above the input rate, so a write-only call saves less than nothing", () => {
    const usage = { inputTokens: 1_000_000, outputTokens: 0, totalTokens: 1_000_000, cacheWriteTokens: 1_000_000 };
    const { input, cacheWrite } = DEFAULT_PRICES["anthropic:claude-sonnet-4-5"]!;
    expect(costOf("anthropic:claude-sonnet-4-5", usage)).toBeCloseTo(cacheWrite!, 10);
    expect(cacheSavingOf("anthropic:claude-sonnet-4-5", usage)).toBeCloseTo(input - cacheWrite!, 10);
  });

  it("falls back to the input rate for a price with no cached rate, and knows no price for an unknown model", () => {
    const usage = { inputTokens: 100, outputTokens: 10, totalTokens: 110, cacheReadTokens: 50 };
    expect(costOf("x:y", usage, { "x:y": { input: 1, output: 2 } })).toBeCloseTo((100 * 1 + 10 * 2) / 1e6, 12);
    expect(costOf("nobody:knows", usage)).toBeUndefined();
    expect(cacheSavingOf("nobody:knows", usage)).toBeUndefined();
  });
});

describe("usage", () => {
  it("reads LangChain's cache details and sums them only where some call had them", () => {
    const read = fromUsageMetadata({ input_tokens: 100, output_tokens: 5, total_tokens: 105, input_token_details: { cache_read: 64, cache_creation: 8 } });
    expect(read).toEqual({ inputTokens: 100, outputTokens: 5, totalTokens: 105, cacheReadTokens: 64, cacheWriteTokens: 8 });
    const plain = fromUsageMetadata({ input_tokens: 10, output_tokens: 1, total_tokens: 11 });
    expect(plain).toEqual({ inputTokens: 10, outputTokens: 1, totalTokens: 11 });
    expect(addUsage(plain, plain)).toEqual({ inputTokens: 20, outputTokens: 2, totalTokens: 22 });
    expect(addUsage(plain, read)).toEqual({ inputTokens: 110, outputTokens: 6, totalTokens: 116, cacheReadTokens: 64, cacheWriteTokens: 8 });
  });
});
