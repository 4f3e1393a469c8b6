import { describe, expect, it } from "vitest";
import { InFlightRuns, type Progress } from "../../src/interfaces/in-flight.js";
import type { RunEvent, RunOutcome } from "../../src/runtime/run.js";

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("InFlightRuns", () => {
  it("tells a waiting caller what a step is writing as its tokens stream, and each finished step, with progress that only grows", async () => {
    const flights = new InFlightRuns();
    let finish!: (outcome: RunOutcome) => void;
    let emit!: (event: RunEvent) => void;
    const runId = await flights.start(2, (onEvent) => {
      emit = onEvent;
      onEvent({ type: "start", runId: "streamed", runDir: "/tmp/streamed" });
      return new Promise<RunOutcome>((resolve) => (finish = resolve));
    });
    const heard: Progress[] = [];
    const waited = flights.wait(runId, 10, (p) => heard.push(p));
    const token = (text: string) => emit({ type: "token", phase: 1, role: "support", agent: "researcher", text, call: 1, attempt: 1 });
    token("Churn is 14% a year");
    await pause(1_050);
    token(", mostly in the first 90 days.");
    emit({ type: "step", state: "end", phase: 1, role: "support", agent: "researcher", ms: 10 });
    token("The plan");
    finish({ record: { status: "completed" } as RunOutcome["record"], exitCode: 0 });
    await waited;

    expect(heard.map((p) => p.message)).toEqual([
      "phase 1: support researcher writing: …Churn is 14% a year",
      "phase 1: support researcher writing: …, mostly in the first 90 days.",
      "phase 1: support researcher done",
      "phase 1: support researcher writing: …The plan",
    ]);
    const progress = heard.map((p) => p.progress);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!).toBeGreaterThan(progress[i - 1]!);
    // While a step writes, progress stays below the step's end.
    expect(progress[0]!).toBeGreaterThan(0);
    expect(progress[1]!).toBeLessThan(1);
    expect(progress[2]).toBe(1);
  });
});
