/** Token counts of model calls, as LangChain's usage metadata reports them. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
}

export function zeroUsage(): Usage {
  return { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
}

export function addUsage(a: Usage, b: Partial<Usage> | undefined): Usage {
  return {
    inputTokens: a.inputTokens + (b?.inputTokens ?? 0),
    outputTokens: a.outputTokens + (b?.outputTokens ?? 0),
    totalTokens: a.totalTokens + (b?.totalTokens ?? 0),
  };
}

/** LangChain's `usage_metadata` in coord's shape. */
export function fromUsageMetadata(u: { input_tokens?: number; output_tokens?: number; total_tokens?: number } | undefined): Usage {
  return { inputTokens: u?.input_tokens ?? 0, outputTokens: u?.output_tokens ?? 0, totalTokens: u?.total_tokens ?? 0 };
}
