/** Token counts of model calls, as LangChain's usage metadata reports them. */
export interface Usage {
  /** Every input token, cached ones included (as providers count them). */
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  /** Input tokens the provider read from its prompt cache (billed at its cached rate). */
  cacheReadTokens?: number;
  /** Input tokens the provider wrote to its prompt cache (Anthropic bills these above the input rate). */
  cacheWriteTokens?: number;
}

export function zeroUsage(): Usage {
  return { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
}

/** The sum of two usages; the cache counts appear once either side has them. */
export function addUsage(a: Usage, b: Partial<Usage> | undefined): Usage {
  const sum: Usage = {
    inputTokens: a.inputTokens + (b?.inputTokens ?? 0),
    outputTokens: a.outputTokens + (b?.outputTokens ?? 0),
    totalTokens: a.totalTokens + (b?.totalTokens ?? 0),
  };
  const read = (a.cacheReadTokens ?? 0) + (b?.cacheReadTokens ?? 0);
  const write = (a.cacheWriteTokens ?? 0) + (b?.cacheWriteTokens ?? 0);
  if (a.cacheReadTokens !== undefined || b?.cacheReadTokens !== undefined) sum.cacheReadTokens = read;
  if (a.cacheWriteTokens !== undefined || b?.cacheWriteTokens !== undefined) sum.cacheWriteTokens = write;
  return sum;
}

/** LangChain's `usage_metadata` as providers fill it, cache details included where they give them. */
export interface UsageMetadata {
  input_tokens?: number;
  output_tokens?: number;
  total_tokens?: number;
  input_token_details?: { cache_read?: number; cache_creation?: number };
}

/** LangChain's `usage_metadata` in coord's shape. */
export function fromUsageMetadata(u: UsageMetadata | undefined): Usage {
  const usage: Usage = { inputTokens: u?.input_tokens ?? 0, outputTokens: u?.output_tokens ?? 0, totalTokens: u?.total_tokens ?? 0 };
  const details = u?.input_token_details;
  if (details?.cache_read) usage.cacheReadTokens = details.cache_read;
  if (details?.cache_creation) usage.cacheWriteTokens = details.cache_creation;
  return usage;
}
