/**
 * Context windows of common models, in tokens, by the start of their `provider:model` name (the
 * longest matching start wins). A model not listed gets DEFAULT_CONTEXT_TOKENS; `--context-tokens`
 * and `models.contextTokens` override both.
 */
const CONTEXT_WINDOWS: Array<[prefix: string, tokens: number]> = [
  ["openai:gpt-4.1", 1_047_576],
  ["openai:gpt-4o", 128_000],
  ["openai:gpt-5", 400_000],
  ["openai:o3", 200_000],
  ["openai:o4", 200_000],
  ["anthropic:claude", 200_000],
  ["ollama:", 8_192],
];

export const DEFAULT_CONTEXT_TOKENS = 128_000;

export function contextWindowOf(model: string): number {
  const match = CONTEXT_WINDOWS.filter(([prefix]) => model.startsWith(prefix)).sort((a, b) => b[0].length - a[0].length)[0];
  return match?.[1] ?? DEFAULT_CONTEXT_TOKENS;
}

/** A rough token count for budgeting (about four characters a token for English text), erring high. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 3.5);
}

/** What a request may take of a model's context: the window less room for the answer. */
export function requestBudget(contextTokens: number): number {
  return contextTokens - Math.min(8_192, Math.floor(contextTokens / 4));
}
