/**
 * Runs at most `max` tasks at once; the rest wait their turn in order. coord bounds agent steps
 * with this rather than LangGraph's `maxConcurrency`, which silently drops tasks when it is 1
 * (langchain-ai/langgraphjs#2656, open in 1.7.x).
 */
export function limiter(max: number | undefined): <T>(task: () => Promise<T>) => Promise<T> {
  if (!max || max < 1) return (task) => task();
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (task) => {
    if (active >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}
