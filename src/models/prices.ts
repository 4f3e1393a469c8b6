import type { Usage } from "./usage.js";

/** USD per million tokens. */
export interface Price {
  input: number;
  output: number;
}

// Public list prices of common models (USD / 1M tokens, November 2026). Override or extend with
// "prices" in coord.config.json; a model missing here has no cost, only token counts.
export const DEFAULT_PRICES: Record<string, Price> = {
  offline: { input: 0, output: 0 },
  "openai:gpt-4o-mini": { input: 0.15, output: 0.6 },
  "openai:gpt-4o": { input: 2.5, output: 10 },
  "openai:gpt-4.1": { input: 2, output: 8 },
  "openai:gpt-4.1-mini": { input: 0.4, output: 1.6 },
  "openai:gpt-4.1-nano": { input: 0.1, output: 0.4 },
  "openai:o3-mini": { input: 1.1, output: 4.4 },
  "openai:o4-mini": { input: 1.1, output: 4.4 },
  "anthropic:claude-sonnet-4-5": { input: 3, output: 15 },
  "anthropic:claude-opus-4-1": { input: 15, output: 75 },
  "anthropic:claude-haiku-4-5": { input: 1, output: 5 },
};

/** The cost of some usage, or undefined when the model has no known price. */
export function costOf(model: string, usage: Usage, prices: Record<string, Price> = DEFAULT_PRICES): number | undefined {
  const price = prices[model] ?? (model.startsWith("ollama:") ? { input: 0, output: 0 } : undefined);
  if (!price) return undefined;
  return (usage.inputTokens * price.input + usage.outputTokens * price.output) / 1_000_000;
}
