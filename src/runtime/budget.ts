import { CoordError } from "../errors.js";
import type { CallRecord, RunStateValue, Usage } from "./state.js";

export interface Budget {
  maxTokens?: number;
  maxCostUsd?: number;
  /** The cost of a call, when its model has a price. */
  cost(model: string, usage: Usage): number | undefined;
}

/** Thrown at a step boundary when the budget is spent: the run pauses, resumable with more. */
export class BudgetExceededError extends CoordError {
  constructor(what: string) {
    super("BUDGET_EXCEEDED", `budget reached: ${what}`, {
      hint: "resume with a higher --max-tokens / --max-cost: coord resume RUN_ID --max-tokens N",
      hints: { remote: "the run paused on its budget; someone with the CLI can resume it with a higher one" },
      exitCode: 3,
    });
  }
}

/**
 * What a run has spent, checked before each step. It starts from the checkpointed calls when
 * this process first steps in, then counts live, so steps running side by side see each other's
 * spending.
 */
export function budgetTracker(budget: Budget | undefined): { check(state: RunStateValue): void; spend(call: CallRecord): void } {
  let spent: { tokens: number; cost: number } | undefined;
  const costOf = (call: CallRecord) => budget?.cost(call.model, call.usage) ?? 0;
  return {
    check(state) {
      if (!budget) return;
      spent ??= Object.values(state.calls).reduce((a, c) => ({ tokens: a.tokens + c.usage.totalTokens, cost: a.cost + costOf(c) }), { tokens: 0, cost: 0 });
      if (budget.maxTokens !== undefined && spent.tokens >= budget.maxTokens) throw new BudgetExceededError(`${spent.tokens} tokens used of --max-tokens ${budget.maxTokens}`);
      if (budget.maxCostUsd !== undefined && spent.cost >= budget.maxCostUsd) throw new BudgetExceededError(`$${spent.cost.toFixed(4)} spent of --max-cost ${budget.maxCostUsd}`);
    },
    spend(call) {
      if (spent) spent = { tokens: spent.tokens + call.usage.totalTokens, cost: spent.cost + costOf(call) };
    },
  };
}
