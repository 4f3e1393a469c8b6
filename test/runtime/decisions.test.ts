import { describe, expect, it } from "vitest";
import { nextCallKey, type CallRecord } from "../../src/runtime/decisions.js";

const call: CallRecord = { phase: 0, agent: "judge", role: "judge", model: "offline", usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 }, attempts: 1 };

describe("nextCallKey", () => {
  it("keys a call by its base, then #2, #3 beside the earlier ones", () => {
    expect(nextCallKey({}, "1/lead/analyst")).toBe("1/lead/analyst");
    expect(nextCallKey({ "1/lead/analyst": call }, "1/lead/analyst")).toBe("1/lead/analyst#2");
    expect(nextCallKey({ "1/lead/analyst": call, "1/lead/analyst#2": call }, "1/lead/analyst")).toBe("1/lead/analyst#3");
  });

  it("counts only keys of that base: a gated run's criteria assignment is not a check of the criteria", () => {
    expect(nextCallKey({ "0/judge-assign": call }, "0/judge")).toBe("0/judge");
    expect(nextCallKey({ "0/judge-assign": call, "0/judge": call }, "0/judge")).toBe("0/judge#2");
    expect(nextCallKey({ "1/gate": call, "10/gate": call }, "1/gate")).toBe("1/gate#2");
  });
});
