import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isCoordError } from "../../src/errors.js";
import { loadAgents, loadMission, loadMissions } from "../../src/definitions/load.js";
import { missionToMermaid } from "../../src/definitions/mermaid.js";
import { agentRefs, missionIdFromPath, parseInputItem, parseMission } from "../../src/definitions/mission.js";
import { planMission } from "../../src/definitions/plan.js";
import { validateMissionAgents } from "../../src/definitions/validate.js";
import { SEED_MISSIONS, fixture, lineStartingWith, readFixture, tempDir } from "./fixtures.js";

function parseFile(file: string) {
  const text = readFileSync(file, "utf8");
  return { ...parseMission(text, file), text };
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe("the seed mission sales-marketing-alignment.mission.md", () => {
  const file = join(SEED_MISSIONS, "sales-marketing-alignment.mission.md");
  const parsed = parseFile(file);
  const mission = parsed.mission!;

  it("takes its id from the file name", () => {
    expect(mission.id).toBe("sales-marketing-alignment");
    expect(mission.kind).toBe("mission");
  });

  it("repairs the mis-encoded emoji of its title and warns on line 1", () => {
    expect(mission.title).toBe("Sales-Marketing Alignment 🤝");
    expect(parsed.diagnostics).toEqual([
      expect.objectContaining({ code: "TEXT_MOJIBAKE_REPAIRED", severity: "warning", file, line: 1 }),
    ]);
  });

  it("reads the header's metadata", () => {
    expect(mission.metadata).toMatchObject({
      type: "Cross-Function Integration",
      duration: "2-3 hours",
      difficulty: "Strategic Integration",
      valueImpact: "Complete Customer Journey Optimization",
    });
  });

  it("reads its objective", () => {
    expect(mission.objective).toMatch(/^Create seamless sales-marketing alignment/);
  });

  it("reads four required inputs with ids, titles and descriptions", () => {
    expect(mission.inputs.map((i) => i.id)).toEqual(["marketing-framework", "sales-framework", "customer-journey-data", "lead-flow-analysis"]);
    expect(mission.inputs.map((i) => i.title)).toEqual(["Marketing Framework", "Sales Framework", "Customer Journey Data", "Lead Flow Analysis"]);
    for (const input of mission.inputs) {
      expect(input.required).toBe(true);
      expect(input.description.length).toBeGreaterThan(0);
      expect(input.description).not.toMatch(/^[-–—\s]|\(required\)/);
    }
    expect(mission.inputs[0]?.description).toBe("Marketing Bible, Marketing Plan, Content Calendar");
  });

  it("reads three phases with their leads, supports and durations", () => {
    expect(mission.phases.map((p) => [p.index, p.lead, p.support, p.duration])).toEqual([
      [1, "chassis-intelligence", ["pipeline-management", "campaign-execution"], "60-90 minutes"],
      [2, "pipeline-management", ["brand-strategy", "conversion-optimization"], "45-75 minutes"],
      [3, "campaign-execution", ["revenue-operations"], "15-30 minutes"],
    ]);
    expect(mission.phases[0]?.title).toBe("Customer Journey Integration Analysis");
    for (const phase of mission.phases) {
      expect(phase.line).toBe(lineStartingWith(parsed.text, `### Phase ${phase.index}:`));
      expect(phase.objective.length).toBeGreaterThan(0);
      expect(phase.qualifier).toBeNull();
    }
  });

  it("reads six steps from each phase's command block and keeps its instruction line", () => {
    for (const phase of mission.phases) {
      expect(phase.steps).toHaveLength(6);
      expect(phase.steps.every((s) => !/^\d+\./.test(s))).toBe(true);
      expect(phase.task).toMatch(new RegExp(`^@${phase.lead} `));
    }
  });

  it("reads five deliverables per phase, fifteen in all", () => {
    for (const phase of mission.phases) expect(phase.deliverables).toHaveLength(5);
    expect(mission.phases.flatMap((p) => p.deliverables)).toHaveLength(15);
    expect(mission.phases[2]?.deliverables[4]).toBe("Continuous improvement protocols with customer feedback integration");
  });

  it("reads eight success criteria without their task boxes", () => {
    expect(mission.successCriteria).toHaveLength(8);
    for (const criterion of mission.successCriteria) expect(criterion).not.toMatch(/^\[[ xX]?\]|^- /);
  });

  it("keeps the sections it does not interpret as context", () => {
    const titles = mission.context.map((c) => c.title);
    expect(titles).toEqual(expect.arrayContaining(["Business Chassis Impact", "Resource Requirements", "Quality Standards"]));
    expect(titles).not.toContain("Success Criteria");
    expect(titles).not.toContain("Mission Phases");
    const impact = mission.context.find((c) => c.title === "Business Chassis Impact");
    expect(impact?.text).toContain("Combined Framework Impact");
  });

  it("keeps a `**Label**: value` paragraph of a context section in that section, not in the header's metadata", () => {
    const impact = mission.context.find((c) => c.title === "Business Chassis Impact");
    expect(impact?.text).toContain("**Integration Impact**: Multiplies individual function effectiveness");
    expect(Object.keys(mission.metadata.extra)).not.toContain("integration impact");
  });

  it("has no error or structural warning", () => {
    expect(parsed.diagnostics.filter((d) => d.code !== "TEXT_MOJIBAKE_REPAIRED")).toEqual([]);
  });
});

describe("the seed prompt template cross-channel-message-sync.prompt.md", () => {
  const file = join(SEED_MISSIONS, "cross-channel-message-sync.prompt.md");
  const parsed = parseFile(file);
  const mission = parsed.mission!;
  const phase = mission.phases[0]!;
  // The `##` headings of the OUTPUT FORMAT section, read here without the parser.
  const outputHeadings = parsed.text
    .slice(parsed.text.indexOf("# OUTPUT FORMAT"))
    .split("\n")
    .filter((line) => /^## /.test(line))
    .map((line) => line.slice(3).trim());

  it("is a template named after its file, without diagnostics", () => {
    expect(parsed.diagnostics).toEqual([]);
    expect(mission.id).toBe("cross-channel-message-sync");
    expect(mission.kind).toBe("template");
  });

  it("turns its 28 unique placeholders into optional inputs", () => {
    expect(mission.inputs).toHaveLength(28);
    expect(new Set(mission.inputs.map((i) => i.id)).size).toBe(28);
    for (const input of mission.inputs) {
      expect(input.required).toBe(false);
      expect(input.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    }
    const website = mission.inputs.find((i) => i.title === "WEBSITE PERSONALIZATION CAPABILITIES");
    expect(website?.description).toBe("Website and landing pages");
  });

  it("makes each `##` heading of OUTPUT FORMAT a deliverable", () => {
    expect(outputHeadings).toHaveLength(8);
    expect(mission.phases).toHaveLength(1);
    expect(phase.deliverables).toEqual(outputHeadings);
    expect(phase.deliverables[0]).toBe("Cross-Channel Synchronization Strategy Overview");
  });

  it("keeps each deliverable's bracketed guidance", () => {
    expect(Object.keys(phase.guidance)).toEqual(outputHeadings);
    for (const title of outputHeadings) {
      const guidance = phase.guidance[title] ?? "";
      expect(guidance.length, title).toBeGreaterThan(0);
      expect(guidance, title).toMatch(/\[[^\]]+\]/);
      // A deliverable's guidance stops at the next deliverable's `##` heading.
      expect(guidance, title).not.toMatch(/^## /m);
    }
  });

  it("has one phase led by the agent its ROLE defines", () => {
    expect(mission.agents).toHaveLength(1);
    const agent = mission.agents[0]!;
    expect(agent.name).toBe("cross-channel-message-sync");
    expect(agent.body.startsWith("You are a cross-channel")).toBe(true);
    expect(phase.lead).toBe(agent.name);
    expect(phase.support).toEqual([]);
  });

  it("keeps the brief's sections as context and its TASK as the objective", () => {
    const titles = mission.context.map((c) => c.title);
    expect(titles.slice(0, 2)).toEqual(["CONTEXT", "TASK"]);
    expect(titles).toContain("BUSINESS CONTEXT");
    expect(titles).not.toContain("ROLE");
    expect(titles).not.toContain("OUTPUT FORMAT");
    expect(mission.objective).toMatch(/^Design a comprehensive cross-channel message synchronization strategy/);
  });
});

describe("mission problems in fixture files", () => {
  it("reports a mission without phases as MISSION_NO_PHASES", () => {
    const { file, text } = readFixture("missions", "no-phases.md");
    const parsed = parseMission(text, file);
    expect(parsed.mission?.phases).toEqual([]);
    expect(parsed.diagnostics).toEqual([expect.objectContaining({ code: "MISSION_NO_PHASES", severity: "error", file })]);
  });

  it("reports a phase without a lead at its heading line", () => {
    const { file, text } = readFixture("missions", "phase-without-lead.md");
    const parsed = parseMission(text, file);
    expect(parsed.diagnostics).toEqual([
      expect.objectContaining({
        code: "MISSION_PHASE_NO_LEAD",
        severity: "error",
        file,
        line: lineStartingWith(text, "### Phase 2:"),
      }),
    ]);
    expect(parsed.mission?.phases[0]?.lead).toBe("planner");
  });

  it("warns about a phase without deliverables and a mission without success criteria", () => {
    const { file, text } = readFixture("missions", "loose-ends.md");
    const parsed = parseMission(text, file);
    expect(parsed.diagnostics.map((d) => [d.code, d.severity, d.line])).toEqual([
      ["MISSION_NO_DELIVERABLES", "warning", lineStartingWith(text, "### Phase 1:")],
      ["MISSION_NO_SUCCESS_CRITERIA", "warning", 1],
    ]);
  });

  it("reports an unknown agent and suggests the agent it was probably meant to be", () => {
    const { file, text } = readFixture("missions", "unknown-agent.md");
    const parsed = parseMission(text, file);
    expect(parsed.diagnostics).toEqual([]);
    const registry = loadAgents({ agentDirs: [fixture("agents-small")], builtin: false, cwd: tempDir() });
    expect(registry.get("reviewer")).toBeDefined();
    const problems = validateMissionAgents(parsed.mission!, registry);
    expect(problems).toEqual([
      expect.objectContaining({ code: "MISSION_UNKNOWN_AGENT", severity: "error", file, line: lineStartingWith(text, "### Phase 1:") }),
    ]);
    expect(problems[0]?.message).toContain('"reviewr"');
    expect(problems[0]?.hint).toMatch(/did you mean reviewer\b/);
  });

  it("finds every agent of a mission whose agents all exist", () => {
    const { file, text } = readFixture("missions", "launch-review.md");
    const registry = loadAgents({ agentDirs: [fixture("agents-small")], builtin: false, cwd: tempDir() });
    expect(validateMissionAgents(parseMission(text, file).mission!, registry)).toEqual([]);
  });

  it("reports a prompt template without OUTPUT FORMAT and returns no mission", () => {
    const { file, text } = readFixture("missions", "template-no-output.prompt.md");
    const parsed = parseMission(text, file);
    expect(parsed.mission).toBeUndefined();
    expect(parsed.diagnostics).toEqual([expect.objectContaining({ code: "TEMPLATE_NO_OUTPUT_FORMAT", severity: "error", file })]);
  });

  it("warns about a prompt template without ROLE and gives its lead a generic role", () => {
    const { file, text } = readFixture("missions", "template-no-role.prompt.md");
    const parsed = parseMission(text, file);
    expect(parsed.diagnostics).toEqual([expect.objectContaining({ code: "TEMPLATE_NO_ROLE", severity: "warning", file })]);
    const mission = parsed.mission!;
    expect(mission.phases[0]?.deliverables).toEqual(["Summary", "Next Steps"]);
    expect(mission.agents[0]?.name).toBe("template-no-role");
    expect(mission.agents[0]?.body).toMatch(/^You are /);
    expect(mission.context.map((c) => c.title)).toEqual(["CONTEXT", "TASK"]);
  });
});

describe("loading missions", () => {
  const missionDirs = [fixture("missions")];

  it("loads a mission by path", () => {
    const file = fixture("missions", "launch-review.md");
    const { mission, diagnostics } = loadMission(file, { cwd: tempDir(), builtin: false });
    expect(mission.file).toBe(file);
    expect(mission.id).toBe("launch-review");
    expect(diagnostics).toEqual([]);
  });

  it("loads a mission by a path relative to cwd", () => {
    const { mission } = loadMission("missions/launch-review.md", { cwd: fixture(), builtin: false });
    expect(mission.file).toBe(fixture("missions", "launch-review.md"));
  });

  it("loads a mission by id from a --missions folder, the first file with that id winning", () => {
    const { mission } = loadMission("launch-review", { missionDirs, cwd: tempDir(), builtin: false });
    expect(mission.file).toBe(fixture("missions", "launch-review.md"));
    expect(mission.phases.map((p) => p.lead)).toEqual(["planner", "writer"]);
  });

  it("loads the shipped seed mission by id from an empty folder", () => {
    const { mission } = loadMission("sales-marketing-alignment", { cwd: tempDir() });
    expect(mission.phases).toHaveLength(3);
  });

  it("throws MISSION_NOT_FOUND for an unknown id", () => {
    const error = catchError(() => loadMission("nope", { missionDirs, cwd: tempDir(), builtin: false }));
    expect(isCoordError(error)).toBe(true);
    if (isCoordError(error)) expect(error.code).toBe("MISSION_NOT_FOUND");
  });

  it("suggests the closest id when the id is misspelt", () => {
    const error = catchError(() => loadMission("launch-reveiw", { missionDirs, cwd: tempDir(), builtin: false }));
    expect(isCoordError(error) && error.code).toBe("MISSION_NOT_FOUND");
    expect((error as Error).message).toContain("launch-review");
  });

  it("throws the template's own error for a prompt template without OUTPUT FORMAT", () => {
    const error = catchError(() => loadMission("template-no-output", { missionDirs, cwd: tempDir(), builtin: false }));
    expect(isCoordError(error) && error.code).toBe("TEMPLATE_NO_OUTPUT_FORMAT");
  });

  it("catalogues a folder, skipping files without phases and warning about a second file with the same id", () => {
    const catalog = loadMissions({ missionDirs, cwd: tempDir(), builtin: false });
    const ids = catalog.missions.map((m) => m.id);
    expect(ids).toContain("launch-review");
    expect(ids).not.toContain("no-phases");
    expect(ids).not.toContain("template-no-output");
    expect(catalog.get("launch-review")?.file).toBe(fixture("missions", "launch-review.md"));
    expect(catalog.diagnostics).toContainEqual(
      expect.objectContaining({ code: "MISSION_DUPLICATE", severity: "warning", file: fixture("missions", "variants", "launch-review.md") }),
    );
  });
});

describe("mission parts", () => {
  it("reads headings as a reader sees them: markup dropped, entities decoded, a setext heading too", () => {
    const text = "# Mission: A&nbsp;B &amp; **C**\n\n### Phase 1 &mdash; Plan `fast`\n\n**Lead**: @a\n\nPhase 2: Ship\n---\n\n**Lead**: @b\n";
    const { mission } = parseMission(text, "missions/entities.md");
    expect(mission!.title).toBe("A\u00a0B & C");
    expect(mission!.phases.map((p) => [p.title, p.line])).toEqual([
      ["Plan fast", 3],
      ["Ship", 7],
    ]);
  });

  it("names a mission after its file, without .mission.md or .prompt.md", () => {
    expect(missionIdFromPath("/m/sales-marketing-alignment.mission.md")).toBe("sales-marketing-alignment");
    expect(missionIdFromPath("/m/cross-channel-message-sync.prompt.md")).toBe("cross-channel-message-sync");
    expect(missionIdFromPath("/m/mission-fix.md")).toBe("mission-fix");
  });

  it("names a fabric pattern's system.md after its folder", () => {
    expect(missionIdFromPath("/fabric/data/patterns/create_user_story/system.md")).toBe("create_user_story");
  });

  it("names a bare system.md with no folder system", () => {
    expect(missionIdFromPath("system.md")).toBe("system");
  });

  it("reads agent names from @refs, backticks and the first cell of a table-like line", () => {
    expect(agentRefs("@pipeline-management, @campaign-execution")).toEqual(["pipeline-management", "campaign-execution"]);
    expect(agentRefs("`strategic-opportunity`")).toEqual(["strategic-opportunity"]);
    expect(agentRefs("brand-strategy | **Thinking Mode**: think harder")).toEqual(["brand-strategy"]);
    expect(agentRefs("@architect and @developer")).toEqual(["architect", "developer"]);
    expect(agentRefs("None")).toEqual([]);
  });

  it("reads an input item's title, whether it is required, and its description", () => {
    expect(parseInputItem("**Bug Report** (required) - Error description, logs, or ticket")).toEqual({
      id: "bug-report",
      title: "Bug Report",
      required: true,
      description: "Error description, logs, or ticket",
    });
    expect(parseInputItem("**System Context** (optional) - Environment details")?.required).toBe(false);
    expect(parseInputItem("Tone Guide: how the company writes")).toMatchObject({ id: "tone-guide", description: "how the company writes" });
    expect(parseInputItem("   ")).toBeUndefined();
  });

  it("does not read `### Phase 1 Resources` as a phase", () => {
    const text = "# Plan\n\n## Mission Phases\n\n### Phase 1 Resources\n\n- budget\n\n### Phase 1: Build (1 hour)\n\n**Lead**: @planner\n";
    const mission = parseMission(text, "plan.md").mission!;
    expect(mission.phases.map((p) => p.title)).toEqual(["Build"]);
  });
});

describe("missionToMermaid", () => {
  const { file, text } = readFixture("missions", "launch-review.md");
  const mission = parseMission(text, file).mission!;
  const chart = missionToMermaid(mission);
  const plan = planMission(mission);

  it("draws a flowchart with a subgraph per phase", () => {
    expect(chart.split("\n")[0]).toBe("flowchart TD");
    for (const phase of mission.phases) {
      const line = chart.split("\n").find((l) => l.trim().startsWith(`subgraph p${phase.index}[`));
      expect(line, `phase ${phase.index}`).toBeDefined();
      expect(line).toContain(phase.title);
    }
    expect(chart.match(/^\s*subgraph /gm)).toHaveLength(mission.phases.length);
  });

  it("draws an edge from each support of a phase to its lead", () => {
    expect(plan.map((p) => p.supports.map((s) => s.agent))).toEqual(mission.phases.map((p) => p.support));
    for (const { supports, lead, phase } of plan) {
      expect(lead.agent).toBe(phase.lead);
      expect(chart).toMatch(new RegExp(`^\\s*${lead.id}\\[\\[".*${phase.lead}.*"\\]\\]`, "m"));
      for (const support of supports) {
        expect(chart).toContain(`${support.id} --> ${lead.id}`);
        expect(chart).toMatch(new RegExp(`^\\s*${support.id}\\(".*${support.agent}.*"\\)`, "m"));
      }
    }
    const edges = chart.split("\n").filter((l) => / --> /.test(l) && !/\|/.test(l));
    const supportEdges = edges.filter((l) => /_support_/.test(l.split(" --> ")[0] ?? ""));
    expect(supportEdges).toHaveLength(mission.phases.reduce((n, p) => n + p.support.length, 0));
  });

  it("carries each phase into the next and ends at the report", () => {
    const [first, second] = plan;
    expect(chart).toContain(`${first!.lead.id} -->|`);
    expect(chart).toMatch(new RegExp(`${first!.lead.id} -->\\|"${first!.deliverables.length} deliverables"\\| ${second!.supports.map((s) => s.id).join(" & ")}`));
    // The last phase's deliverables are checked against the success criteria, then reported.
    expect(chart).toContain(`${plan.at(-1)!.lead.id} --> check_criteria`);
    expect(chart).toContain("check_criteria --> report");
  });

  it("adds an approval step per phase when asked to", () => {
    const approved = missionToMermaid(mission, { approve: true });
    for (const step of planMission(mission, { approve: true })) {
      expect(step.review).not.toBeNull();
      expect(approved).toContain(`${step.lead.id} --> ${step.review!.id}{`);
      expect(approved).toContain(`${step.review!.id} -->|reject| ${step.lead.id}`);
    }
  });
});
