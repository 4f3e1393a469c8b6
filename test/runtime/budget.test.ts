import { describe, expect, it } from "vitest";
import { DEFAULT_PRICES, costOf } from "../../src/models/prices.js";
import { BudgetExceededError, budgetTracker, type Budget } from "../../src/runtime/budget.js";
import type { CallRecord, RunStateValue } from "../../src/runtime/state.js";
import { thrown } from "../helpers/errors.js";

const cost: Budget["cost"] = (model, usage) => costOf(model, usage, DEFAULT_PRICES);

function call(agent: string, totalTokens: number, model = "openai:gpt-4o-mini"): CallRecord {
  const inputTokens = Math.round(totalTokens * 0.8);
  return { phase: 1, agent, role: "support", model, usage: { inputTokens, outputTokens: totalTokens - inputTokens, totalTokens }, attempts: 1 };
}

/** A checkpointed state holding these calls and nothing else. */
function stateOf(...calls: CallRecord[]): RunStateValue {
  return { inputs: {}, extra: [], notes: {}, deliverables: {}, reviews: {}, calls: Object.fromEntries(calls.map((c) => [`${c.phase}/${c.role}/${c.agent}`, c])) };
}

describe("budgetTracker", () => {
  it("never stops a run without a budget", () => {
    const tracker = budgetTracker(undefined);
    const state = stateOf(call("a", 10_000_000));
    expect(() => tracker.check(state)).not.toThrow();
    tracker.spend(call("b", 10_000_000));
    expect(() => tracker.check(state)).not.toThrow();
  });

  it("pauses with BUDGET_EXCEEDED (exit code 3) once the checkpointed calls reach --max-tokens", () => {
    expect(() => budgetTracker({ maxTokens: 1000, cost }).check(stateOf(call("a", 600), call("b", 399)))).not.toThrow();
    const error = thrown(() => budgetTracker({ maxTokens: 1000, cost }).check(stateOf(call("a", 600), call("b", 400))));
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect(error.code).toBe("BUDGET_EXCEEDED");
    expect(error.exitCode).toBe(3);
    expect(error.message).toBe("budget reached: 1000 tokens used of --max-tokens 1000");
    expect(error.hint).toContain("--max-tokens");
    expect(error.hints.remote).toBeDefined();
  });

  it("pauses with BUDGET_EXCEEDED once the calls' cost reaches --max-cost", () => {
    const calls = [call("a", 100_000), call("b", 100_000)];
    const spent = calls.reduce((a, c) => a + cost(c.model, c.usage)!, 0);
    expect(() => budgetTracker({ maxCostUsd: spent * 1.01, cost }).check(stateOf(...calls))).not.toThrow();
    const error = thrown(() => budgetTracker({ maxCostUsd: spent, cost }).check(stateOf(...calls)));
    expect(error.code).toBe("BUDGET_EXCEEDED");
    expect(error.message).toBe(`budget reached: $${spent.toFixed(4)} spent of --max-cost ${spent}`);
  });

  it("counts calls of a model with no price as free against --max-cost, but not against --max-tokens", () => {
    const state = stateOf(call("a", 5_000_000, "openai:my-finetune"));
    expect(() => budgetTracker({ maxCostUsd: 0.01, cost }).check(state)).not.toThrow();
    expect(thrown(() => budgetTracker({ maxTokens: 1000, maxCostUsd: 0.01, cost }).check(state)).code).toBe("BUDGET_EXCEEDED");
  });

  it("counts what steps spend live, so a step started after them sees it before any checkpoint does", () => {
    const tracker = budgetTracker({ maxTokens: 1000, cost });
    const checkpointed = stateOf(call("a", 500));
    tracker.check(checkpointed);
    tracker.spend(call("b", 300));
    expect(() => tracker.check(checkpointed)).not.toThrow();
    tracker.spend(call("c", 200));
    // The checkpoint still holds only the first call; the tracker knows about all three.
    expect(thrown(() => tracker.check(checkpointed)).message).toBe("budget reached: 1000 tokens used of --max-tokens 1000");
  });

  it("reads the checkpointed state once, so calls it already counted live are not counted twice", () => {
    const tracker = budgetTracker({ maxTokens: 1000, cost });
    tracker.check(stateOf(call("a", 500)));
    const b = call("b", 300);
    tracker.spend(b);
    // The checkpoint now holds b too: 800 spent, not 1100.
    expect(() => tracker.check(stateOf(call("a", 500), b))).not.toThrow();
  });

  it("starts a resumed run from the calls its checkpoint holds", () => {
    // A fresh process resuming a run: nothing spent live yet, 900 tokens in the checkpoint.
    const resumed = budgetTracker({ maxTokens: 1000, cost });
    const state = stateOf(call("a", 600), call("b", 300));
    resumed.check(state);
    resumed.spend(call("c", 100));
    expect(thrown(() => resumed.check(state)).code).toBe("BUDGET_EXCEEDED");
  });
});
