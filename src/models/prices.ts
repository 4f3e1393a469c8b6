import type { Usage } from "./usage.js";

/** USD per million tokens. */
export interface Price {
  input: number;
  output: number;
  /** Input read from the provider's prompt cache (default: the input rate, no saving). */
  cachedInput?: number;
  /** Input written to the prompt cache (Anthropic; default: the input rate). */
  cacheWrite?: number;
}

// Public list prices of common models (USD / 1M tokens, November 2026). Override or extend with
// "prices" in coord.config.json; a model missing here has no cost, only token counts. OpenAI
// caches prefixes by itself and bills cached input at a discount; Anthropic bills reads at a
// tenth of input and writes at 1.25x.
export const DEFAULT_PRICES: Record<string, Price> = {
  offline: { input: 0, output: 0 },
  "openai:gpt-4o-mini": { input: 0.15, output: 0.6, cachedInput: 0.075 },
  "openai:gpt-4o": { input: 2.5, output: 10, cachedInput: 1.25 },
  "openai:gpt-4.1": { input: 2, output: 8, cachedInput: 0.5 },
  "openai:gpt-4.1-mini": { input: 0.4, output: 1.6, cachedInput: 0.1 },
  "openai:gpt-4.1-nano": { input: 0.1, output: 0.4, cachedInput: 0.025 },
  "openai:o3-mini": { input: 1.1, output: 4.4, cachedInput: 0.55 },
  "openai:o4-mini": { input: 1.1, output: 4.4, cachedInput: 0.275 },
  "anthropic:claude-sonnet-4-5": { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 },
  "anthropic:claude-opus-4-1": { input: 15, output: 75, cachedInput: 1.5, cacheWrite: 18.75 },
  "anthropic:claude-haiku-4-5": { input: 1, output: 5, cachedInput: 0.1, cacheWrite: 1.25 },
};

function priceOf(model: string, prices: Record<string, Price>): Price | undefined {
  return prices[model] ?? (model.startsWith("ollama:") ? { input: 0, output: 0 } : undefined);
}

/**
 * The cost of some usage, or undefined when the model has no known price. Input tokens count
 * cached ones too: those read from the cache are billed at the cached rate, those written to it
 * at the cache-write rate, the rest at the input rate.
 */
export function costOf(model: string, usage: Usage, prices: Record<string, Price> = DEFAULT_PRICES): number | undefined {
  const price = priceOf(model, prices);
  if (!price) return undefined;
  const read = usage.cacheReadTokens ?? 0;
  const write = usage.cacheWriteTokens ?? 0;
  const plain = Math.max(0, usage.inputTokens - read - write);
  return (plain * price.input + read * (price.cachedInput ?? price.input) + write * (price.cacheWrite ?? price.input) + usage.outputTokens * price.output) / 1_000_000;
}

/** What prompt caching saved: the cost of the same usage with no cache, less its cost. Undefined without a price. */
export function cacheSavingOf(model: string, usage: Usage, prices: Record<string, Price> = DEFAULT_PRICES): number | undefined {
  const cost = costOf(model, usage, prices);
  const uncached = costOf(model, { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, totalTokens: usage.totalTokens }, prices);
  return cost === undefined || uncached === undefined ? undefined : uncached - cost;
}
