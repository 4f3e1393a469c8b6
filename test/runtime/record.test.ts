import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAgent } from "../../src/definitions/agent.js";
import { parseMission } from "../../src/definitions/mission.js";
import type { Mission } from "../../src/definitions/schemas/mission.js";
import { SettingsSchema, type SettingsInput } from "../../src/definitions/schemas/settings.js";
import { DEFAULT_PRICES } from "../../src/models/prices.js";
import { RUN_FILES } from "../../src/runtime/paths.js";
import { buildRecord, initialState, readRecord, renderReport } from "../../src/runtime/record.js";
import type { ApprovalRecord, CallRecord, RunStateValue } from "../../src/runtime/state.js";
import type { RunSpec } from "../../src/runtime/store.js";
import { agentText, readFixture, tempDir } from "../definitions/fixtures.js";

function missionOf(name: string): Mission {
  const { file, text } = readFixture("units", name);
  return parseMission(text, file).mission!;
}

const GROWTH = missionOf("growth-plan.md");
const TEMPLATE = missionOf("one-pager.prompt.md");

function specOf(mission: Mission, settings: SettingsInput = {}, more: Partial<RunSpec> = {}): RunSpec {
  const cwd = tempDir("coord-record-");
  const runId = `${mission.id}-20260101-000000-ab12`;
  const names = [...new Set(mission.phases.flatMap((p) => [p.lead, ...p.support]).filter((n): n is string => !!n))];
  return {
    runId,
    mission,
    agents: names.map((name) => parseAgent(agentText(name), join(cwd, "agents", `${name}.md`)).agent!),
    inputs: {},
    inputSources: {},
    extra: [],
    notProvided: [],
    runDir: join(cwd, "runs", runId),
    inputsDir: null,
    cwd,
    model: "openai:gpt-4o-mini",
    settings: SettingsSchema.parse(settings),
    startedAt: "2026-01-01T00:00:00.000Z",
    ...more,
  };
}

function call(phase: number, role: "lead" | "support", agent: string, model = "openai:gpt-4o-mini", inputTokens = 10_000, outputTokens = 5_000): [string, CallRecord] {
  return [`${phase}/${role}/${agent}`, { phase, agent, role, model, usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens }, attempts: 1 }];
}

function stateWith(spec: RunSpec, parts: Partial<Pick<RunStateValue, "deliverables" | "reviews">> & { calls?: Array<[string, CallRecord]> }): RunStateValue {
  const base = initialState(spec);
  return { ...base, deliverables: parts.deliverables ?? {}, reviews: parts.reviews ?? {}, calls: Object.fromEntries(parts.calls ?? []) };
}

const PHASE_1_WRITTEN = { "1": { "Churn analysis": "## Churn analysis\n\nChurn is 14% a year.\n", "Stall analysis": "Deals stall at security review.\n" } };

describe("initialState", () => {
  it("starts a run with its inputs and extra context and nothing written yet", () => {
    const spec = specOf(GROWTH, {}, { inputs: { "market-brief": "Churn is 14%." }, extra: [{ name: "pricing.csv", text: "plan,price" }] });
    expect(initialState(spec)).toEqual({ inputs: spec.inputs, extra: spec.extra, notes: {}, deliverables: {}, calls: {}, reviews: {} });
  });
});

describe("buildRecord", () => {
  it("marks a phase pending before any step, running once one of its steps is recorded, completed once its deliverables are written", () => {
    const spec = specOf(GROWTH);
    const state = stateWith(spec, { deliverables: PHASE_1_WRITTEN, calls: [call(1, "lead", "analyst"), call(2, "support", "researcher")] });
    const record = buildRecord(spec, state, { status: "running" });
    expect(record.phases.map((p) => [p.index, p.status])).toEqual([
      [1, "completed"],
      [2, "running"],
      [3, "pending"],
    ]);
  });

  it("with approval on, completes a phase only once its review approves it, and marks the paused phase awaiting-approval", () => {
    const spec = specOf(GROWTH, { approve: true });
    const deliverables = { ...PHASE_1_WRITTEN, "2": { "Onboarding plan": "Shorten onboarding." } };
    const approved = stateWith(spec, { deliverables, reviews: { "1": { action: "approve" } }, calls: [call(1, "lead", "analyst"), call(2, "lead", "planner")] });
    expect(buildRecord(spec, approved, { status: "paused", reason: "approval", pausedPhase: 2 }).phases.map((p) => p.status)).toEqual(["completed", "awaiting-approval", "pending"]);

    // A rejected phase is being redone: written, but not finished.
    const rejected = stateWith(spec, { deliverables, reviews: { "1": { action: "approve" }, "2": { action: "reject", note: "add owners" } }, calls: [call(1, "lead", "analyst"), call(2, "lead", "planner")] });
    expect(buildRecord(spec, rejected, { status: "running" }).phases.map((p) => p.status)).toEqual(["completed", "running", "pending"]);
  });

  it("fails the first unfinished phase of a failed run, started or not, and leaves the later ones pending", () => {
    const spec = specOf(GROWTH);
    const started = stateWith(spec, { deliverables: PHASE_1_WRITTEN, calls: [call(1, "lead", "analyst"), call(2, "support", "researcher")] });
    const record = buildRecord(spec, started, { status: "failed", error: "pre hook of planner failed", finishedAt: "2026-01-01T00:05:00.000Z" });
    expect(record.phases.map((p) => p.status)).toEqual(["completed", "failed", "pending"]);
    expect(record).toMatchObject({ status: "failed", error: "pre hook of planner failed", finishedAt: "2026-01-01T00:05:00.000Z" });

    // Failing before phase 2's first step still names phase 2 as the one that failed.
    const notStarted = stateWith(spec, { deliverables: PHASE_1_WRITTEN, calls: [call(1, "lead", "analyst")] });
    expect(buildRecord(spec, notStarted, { status: "failed" }).phases.map((p) => p.status)).toEqual(["completed", "failed", "pending"]);
  });

  it("describes the run: its id, mission, model, start, and no finish or reason unless given", () => {
    const spec = specOf(GROWTH);
    const record = buildRecord(spec, initialState(spec), { status: "running" });
    expect(record).toMatchObject({ runId: spec.runId, mission: "growth-plan", title: "Growth Plan", status: "running", model: "openai:gpt-4o-mini", startedAt: spec.startedAt, finishedAt: null, runDir: spec.runDir });
    expect(record).not.toHaveProperty("reason");
    expect(record).not.toHaveProperty("error");
    expect(record.phases.map((p) => [p.lead, p.support])).toEqual([
      ["analyst", ["researcher", "seller"]],
      ["planner", ["researcher"]],
      ["reviewer", []],
    ]);
  });

  it("lists only the deliverables written, in the phase's order, each with a stable file under deliverables/", () => {
    const spec = specOf(GROWTH);
    const onlySecond = stateWith(spec, { deliverables: { "1": { "Stall analysis": "Deals stall." } } });
    expect(buildRecord(spec, onlySecond, { status: "running" }).phases[0]!.deliverables).toEqual([{ title: "Stall analysis", file: "deliverables/p1-02-stall-analysis.md" }]);

    const both = stateWith(spec, { deliverables: PHASE_1_WRITTEN });
    const files = buildRecord(spec, both, { status: "running" }).phases[0]!.deliverables;
    expect(files).toEqual([
      { title: "Churn analysis", file: "deliverables/p1-01-churn-analysis.md" },
      { title: "Stall analysis", file: "deliverables/p1-02-stall-analysis.md" },
    ]);
    // Writing the first one later does not move the second one's file.
    expect(files[1]!.file).toBe("deliverables/p1-02-stall-analysis.md");
  });

  it("files the one deliverable of a phase that lists none under the phase's title", () => {
    const text = "# Mission: Quick\n\n## Mission Phases\n\n### Phase 1: Market Sizing (5 minutes)\n\n**Lead**: @analyst\n";
    const spec = specOf(parseMission(text, "quick.md").mission!);
    const state = stateWith(spec, { deliverables: { "1": { "Market Sizing": "About 4,000 buyers." } } });
    expect(buildRecord(spec, state, { status: "completed" }).phases[0]).toMatchObject({ status: "completed", deliverables: [{ title: "Market Sizing", file: "deliverables/p1-01-market-sizing.md" }] });
  });

  it("lists each phase's calls supports first, then by agent name", () => {
    const spec = specOf(GROWTH);
    const state = stateWith(spec, { calls: [call(1, "lead", "analyst"), call(1, "support", "seller"), call(1, "support", "researcher"), call(2, "support", "researcher")] });
    const phases = buildRecord(spec, state, { status: "running" }).phases;
    expect(phases[0]!.calls.map((c) => `${c.role}:${c.agent}`)).toEqual(["support:researcher", "support:seller", "lead:analyst"]);
    expect(phases[1]!.calls.map((c) => `${c.role}:${c.agent}`)).toEqual(["support:researcher"]);
  });

  it("prices each call from the built-in table, sums tokens and cost over the run, and counts a local ollama model as free", () => {
    const spec = specOf(GROWTH);
    const state = stateWith(spec, { calls: [call(1, "support", "researcher", "ollama:llama3.1", 2_000, 1_000), call(1, "lead", "analyst", "openai:gpt-4o-mini", 10_000, 5_000)] });
    const record = buildRecord(spec, state, { status: "running" });
    const mini = DEFAULT_PRICES["openai:gpt-4o-mini"]!;
    const expected = (10_000 * mini.input + 5_000 * mini.output) / 1_000_000;
    expect(record.phases[0]!.calls.map((c) => c.costUsd)).toEqual([0, expect.closeTo(expected, 10)]);
    expect(record.usage).toEqual({ inputTokens: 12_000, outputTokens: 6_000, totalTokens: 18_000, costUsd: expect.closeTo(expected, 10) });
  });

  it("gives a null cost to a call whose model has no price, and to the run's total, while still counting its tokens", () => {
    const spec = specOf(GROWTH);
    const state = stateWith(spec, { calls: [call(1, "support", "researcher", "openai:my-finetune"), call(1, "lead", "analyst")] });
    const record = buildRecord(spec, state, { status: "running" });
    expect(record.phases[0]!.calls.map((c) => [c.model, c.costUsd === null])).toEqual([
      ["openai:my-finetune", true],
      ["openai:gpt-4o-mini", false],
    ]);
    expect(record.usage).toMatchObject({ totalTokens: 30_000, costUsd: null });
  });

  it("prices a model the built-in table lacks from the settings' prices", () => {
    const spec = specOf(GROWTH, { models: { prices: { "openai:my-finetune": { input: 1, output: 2 } } } });
    const state = stateWith(spec, { calls: [call(1, "support", "researcher", "openai:my-finetune", 1_000_000, 1_000_000)] });
    expect(buildRecord(spec, state, { status: "running" }).usage.costUsd).toBeCloseTo(3, 10);
  });
});

describe("renderReport", () => {
  function report(spec: RunSpec, state: RunStateValue, status: Parameters<typeof buildRecord>[2] = { status: "completed" }): string {
    return renderReport(spec, buildRecord(spec, state, status), state);
  }
  const lines = (text: string) => text.split("\n");

  it("lists a mission's inputs with where each came from, 'not provided' for a missing one, and every extra context file", () => {
    const spec = specOf(GROWTH, {}, {
      inputSources: { "market-brief": "inputs/market-brief.md", "sales-notes": "--input" },
      notProvided: ["brand-voice"],
      extra: [{ name: "pricing.csv", text: "plan,price" }],
    });
    const text = report(spec, initialState(spec), { status: "running" });
    const inputs = text.slice(text.indexOf("## Inputs used"), text.indexOf("## Phase 1"));
    expect(lines(inputs).filter((l) => l.startsWith("- "))).toEqual([
      "- **market-brief**: inputs/market-brief.md",
      "- **sales-notes**: --input",
      "- **brand-voice**: not provided",
      "- extra context: pricing.csv",
    ]);
  });

  it("lists a template's given placeholders by name and the rest on one 'not provided' line", () => {
    const spec = specOf(TEMPLATE, {}, { model: "offline", inputSources: { "product-name": "given" }, notProvided: ["target-audience"] });
    const text = report(spec, initialState(spec), { status: "running" });
    const inputs = text.slice(text.indexOf("## Inputs used"), text.indexOf("## Phase 1"));
    expect(lines(inputs).filter((l) => l.startsWith("- "))).toEqual(["- **product-name**: given", "- not provided: target-audience"]);
  });

  it("puts each deliverable under its phase as a ### heading, without the deliverable's own ## title", () => {
    const spec = specOf(GROWTH);
    const state = stateWith(spec, { deliverables: PHASE_1_WRITTEN, calls: [call(1, "lead", "analyst")] });
    const text = report(spec, state, { status: "running" });
    expect(lines(text)).not.toContain("## Churn analysis");
    const order = ["## Phase 1: Analysis", "Lead: analyst · Support: researcher, seller · completed", "### Churn analysis", "Churn is 14% a year.", "### Stall analysis", "Deals stall at security review.", "## Phase 2: Plan", "## Phase 3: Review"];
    const at = order.map((line) => lines(text).indexOf(line));
    expect(at.every((i) => i >= 0), `missing: ${order.filter((_, i) => at[i] === -1).join(" | ")}`).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(lines(text)).toContain("Lead: planner · Support: researcher · pending");
    expect(lines(text)).toContain("Lead: reviewer · pending");
  });

  it("ends with the success criteria as an unticked checklist, and leaves the section out when the mission has none", () => {
    const growth = specOf(GROWTH);
    const text = report(growth, initialState(growth));
    const criteria = text.slice(text.indexOf("## Success criteria"), text.indexOf("## Usage"));
    expect(lines(criteria).filter((l) => l.startsWith("- "))).toEqual(GROWTH.successCriteria.map((c) => `- [ ] ${c}`));
    expect(GROWTH.successCriteria).toHaveLength(2);

    const template = specOf(TEMPLATE, {}, { model: "offline" });
    expect(report(template, initialState(template))).not.toContain("## Success criteria");
  });

  it("tabulates usage per call with its cost, 'n/a' where a model has no price, and a total row", () => {
    const spec = specOf(GROWTH);
    const state = stateWith(spec, { calls: [call(1, "lead", "analyst"), call(1, "support", "researcher", "openai:my-finetune", 100, 50)] });
    const table = lines(report(spec, state, { status: "running" })).filter((l) => l.startsWith("|"));
    expect(table).toEqual([
      "| Phase | Agent | Role | Model | Input tokens | Output tokens | Total | Cost |",
      "|---|---|---|---|---:|---:|---:|---:|",
      "| 1 | researcher | support | openai:my-finetune | 100 | 50 | 150 | n/a |",
      "| 1 | analyst | lead | openai:gpt-4o-mini | 10000 | 5000 | 15000 | $0.0045 |",
      "| | **Total** | | | 10100 | 5050 | 15150 | n/a |",
    ]);
  });

  it("shows the run's status, why it paused, and why it failed under the title", () => {
    const spec = specOf(GROWTH);
    const paused = report(spec, initialState(spec), { status: "paused", reason: "budget" });
    expect(lines(paused).slice(0, 3)).toEqual(["# Growth Plan", "", `Run \`${spec.runId}\` · **paused** (budget) · model \`openai:gpt-4o-mini\` · started 2026-01-01T00:00:00.000Z`]);
    const failed = report(spec, initialState(spec), { status: "failed", error: "no key", finishedAt: "2026-01-01T00:01:00.000Z" });
    expect(lines(failed)[2]).toMatch(/· \*\*failed\*\* · .* · finished 2026-01-01T00:01:00\.000Z$/);
    expect(lines(failed)).toContain("> **Failed:** no key");
  });
});

describe("readRecord", () => {
  it("returns nothing for a run folder that does not exist or has no run.json yet", () => {
    const root = tempDir("coord-record-");
    expect(readRecord(join(root, "runs", "never-started"))).toBeUndefined();
    mkdirSync(join(root, "runs", "killed-early"), { recursive: true });
    expect(readRecord(join(root, "runs", "killed-early"))).toBeUndefined();
  });

  it("reads back the record a run wrote", () => {
    const spec = specOf(GROWTH);
    const record = buildRecord(spec, stateWith(spec, { deliverables: PHASE_1_WRITTEN, calls: [call(1, "lead", "analyst")] }), { status: "running" });
    mkdirSync(spec.runDir, { recursive: true });
    writeFileSync(join(spec.runDir, RUN_FILES.record), `${JSON.stringify(record, null, 2)}\n`);
    expect(readRecord(spec.runDir)).toEqual(record);
  });
});

describe("the decision trail in run.json and report.md", () => {
  const ANA = { surface: "cli" as const, user: "ana" };
  const decision = (phase: number, action: "approve" | "reject", at: string, note?: string): ApprovalRecord => ({ phase, action, ...(note && { note }), by: ANA, at });

  it("buildRecord lists every decision in the order taken: by phase, then by number (as numbers, 1#10 after 1#2)", () => {
    const spec = specOf(GROWTH, { approve: true });
    // Keys in any order, and clocks that disagree (decisions taken on two machines): the keys decide.
    const approvals = {
      "2#1": decision(2, "approve", "2026-01-01T00:00:01.000Z"),
      "1#10": decision(1, "approve", "2026-01-01T00:09:00.000Z"),
      "1#2": decision(1, "reject", "2026-01-01T00:02:00.000Z", "second try"),
      "1#1": decision(1, "reject", "2026-01-01T00:01:00.000Z", "first try"),
    };
    const record = buildRecord(spec, { ...stateWith(spec, {}), approvals }, { status: "running" });
    expect(record.approvals.map((a) => `${a.phase}:${a.action}:${a.note ?? ""}`)).toEqual(["1:reject:first try", "1:reject:second try", "1:approve:", "2:approve:"]);
    expect(record.approvals[0]).toEqual({ phase: 1, action: "reject", note: "first try", by: ANA, at: "2026-01-01T00:01:00.000Z" });
  });

  it("has an empty trail for a run without decisions, also for a state checkpointed before coord kept one", () => {
    const spec = specOf(GROWTH);
    const state = initialState(spec);
    expect(state).not.toHaveProperty("approvals");
    expect(buildRecord(spec, state, { status: "running" }).approvals).toEqual([]);
  });

  it("copies who started the run from its spec, and leaves startedBy out for a spec saved without one", () => {
    const started = specOf(GROWTH, {}, { startedBy: { surface: "slack", user: "U012ABCDEF" } });
    expect(buildRecord(started, initialState(started), { status: "running" }).startedBy).toEqual({ surface: "slack", user: "U012ABCDEF" });
    const old = specOf(GROWTH);
    expect(buildRecord(old, initialState(old), { status: "running" })).not.toHaveProperty("startedBy");
  });

  it("renderReport lists the decisions, one line each with who, when and the note on one line; no section without any", () => {
    const spec = specOf(GROWTH, { approve: true });
    const approvals = { "1#1": decision(1, "reject", "2026-01-01T00:01:00.000Z", "Quantify the churn\nin dollars"), "1#2": { ...decision(1, "approve", "2026-01-01T00:02:00.000Z"), by: { surface: "library" as const } } };
    const state = { ...stateWith(spec, {}), approvals };
    const text = renderReport(spec, buildRecord(spec, state, { status: "running" }), state);
    const section = text.slice(text.indexOf("## Decisions"), text.indexOf("## Success criteria"));
    expect(section.trim().split("\n")).toEqual([
      "## Decisions",
      "",
      '- phase 1: rejected by cli:ana at 2026-01-01T00:01:00.000Z — "Quantify the churn in dollars"',
      "- phase 1: approved by library at 2026-01-01T00:02:00.000Z",
    ]);
    const none = stateWith(spec, {});
    expect(renderReport(spec, buildRecord(spec, none, { status: "running" }), none)).not.toContain("## Decisions");
  });
});
