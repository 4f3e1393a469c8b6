import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO, STACK_LINE, runCoord, tempProject } from "../helpers/cli.js";

const agentFile = (name: string, description: string) =>
  `---\nname: ${name}\ndescription: ${description}\ntype: tester\n---\n\nYou are ${name}.\n`;

describe("coord agents", () => {
  it("lists the shipped agents as JSON from an empty folder", () => {
    const r = runCoord(["agents", "list", "--json"], { cwd: tempProject() });
    expect(r.code).toBe(0);
    const agents = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    const names = agents.map((a) => a.name);
    expect(names).toEqual(expect.arrayContaining(["chassis-intelligence", "customer-journey-orchestration-agent"]));
    for (const agent of agents) {
      for (const key of ["name", "type", "description", "capabilities", "priority", "color", "file"]) expect(agent).toHaveProperty(key);
      expect(Array.isArray(agent.capabilities)).toBe(true);
    }
  });

  it("prefers --agents over ./agents over ./.claude/agents over the shipped agents", () => {
    const cwd = tempProject({
      "mine/chassis-intelligence.md": agentFile("chassis-intelligence", "from the flag folder"),
      "agents/chassis-intelligence.md": agentFile("chassis-intelligence", "from ./agents"),
      "agents/local-only.md": agentFile("local-only", "from ./agents"),
      ".claude/agents/local-only.md": agentFile("local-only", "from .claude"),
      ".claude/agents/claude-only.md": agentFile("claude-only", "from .claude"),
    });
    const r = runCoord(["--agents", "mine", "agents", "list", "--json"], { cwd });
    expect(r.code).toBe(0);
    const byName = new Map((JSON.parse(r.stdout) as Array<{ name: string; description: string }>).map((a) => [a.name, a]));
    expect(byName.get("chassis-intelligence")?.description).toBe("from the flag folder");
    expect(byName.get("local-only")?.description).toBe("from ./agents");
    expect(byName.get("claude-only")?.description).toBe("from .claude");
    expect(r.stderr).toMatch(/warning/);
  });

  it("shows one agent with its body", () => {
    const r = runCoord(["agents", "show", "pipeline-management", "--json"], { cwd: tempProject() });
    expect(r.code).toBe(0);
    const agent = JSON.parse(r.stdout) as { name: string; body: string; file: string };
    expect(agent.name).toBe("pipeline-management");
    expect(readFileSync(join(REPO, "agents", "pipeline-management.md"), "utf8")).toContain(agent.body.split("\n")[0]);
  });

  it("suggests the closest name for an unknown agent, exits 2 and prints no stack", () => {
    const r = runCoord(["agents", "show", "chasis-intelligence"], { cwd: tempProject() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("did you mean chassis-intelligence");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it("validates files, one line per problem with file:line, and exits 2 on errors", () => {
    const cwd = tempProject({
      "a/broken.md": "---\nname: broken\nhooks:\n  pre: |\n    echo one\npython3 -c 'x'\n---\nbody\n",
      "a/colon.md": "---\nname: colon\ndescription: Triggers on: growth loops\n---\nbody\n",
      "a/README.md": "# Agents\n\nNothing to see.\n",
    });
    const r = runCoord(["agents", "validate", "a"], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^a\/broken\.md:6: invalid YAML/m);
    expect(r.stderr).toMatch(/^a\/colon\.md:3: warning: .*\(fix: wrap the value in double quotes/m);
    expect(r.stderr).not.toContain("README");
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it("exits 0 when validation finds only warnings, and --json reports them", () => {
    const cwd = tempProject({ "a/colon.md": "---\nname: colon\ndescription: Triggers on: growth loops\n---\nbody\n" });
    const r = runCoord(["agents", "validate", "a", "--json"], { cwd });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { ok: boolean; diagnostics: Array<{ code: string; line: number }> };
    expect(report.ok).toBe(true);
    expect(report.diagnostics.map((d) => [d.code, d.line])).toEqual([["AGENT_YAML_RECOVERED", 3]]);
  });
});

describe("coord missions", () => {
  it("shows the seed mission as JSON with 3 phases and 15 deliverables, warning about its title's encoding", () => {
    const r = runCoord(["missions", "show", "sales-marketing-alignment", "--json"], { cwd: tempProject() });
    expect(r.code).toBe(0);
    const mission = JSON.parse(r.stdout) as {
      id: string;
      title: string;
      inputs: Array<{ id: string; required: boolean }>;
      phases: Array<{ lead: string; support: string[]; deliverables: string[]; steps: string[] }>;
      successCriteria: string[];
    };
    expect(mission.id).toBe("sales-marketing-alignment");
    expect(mission.title).toContain("🤝");
    expect(mission.inputs.map((i) => i.id)).toContain("marketing-framework");
    expect(mission.phases.map((p) => p.lead)).toEqual(["chassis-intelligence", "pipeline-management", "campaign-execution"]);
    expect(mission.phases.flatMap((p) => p.deliverables)).toHaveLength(15);
    expect(mission.successCriteria.length).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/sales-marketing-alignment\.mission\.md:1: warning: mis-encoded text/);
  });

  it("prints the phase/agent flow as Mermaid with --graph", () => {
    const r = runCoord(["missions", "show", "sales-marketing-alignment", "--graph"], { cwd: tempProject() });
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith("flowchart TD")).toBe(true);
    expect(r.stdout.match(/^\s*subgraph /gm)).toHaveLength(3);
  });

  it("shows a mission whose agents are missing, with warnings, and validate fails on them", () => {
    const mission = [
      "# Mission: Ship It",
      "",
      "## Mission Phases",
      "",
      "### Phase 1: Review (10 minutes)",
      "",
      "**Lead**: @reviewr  ",
      "**Support**: @writer",
      "",
      "**Deliverables**:",
      "- Review notes",
      "",
      "## Success Criteria",
      "- [ ] Reviewed",
      "",
    ].join("\n");
    const cwd = tempProject({
      "missions/ship.md": mission,
      "agents/reviewer.md": agentFile("reviewer", "Reviews things"),
      "agents/writer.md": agentFile("writer", "Writes things"),
    });
    const show = runCoord(["missions", "show", "ship"], { cwd });
    expect(show.code).toBe(0);
    expect(show.stderr).toMatch(/missions\/ship\.md:5: warning: lead of phase 1 uses agent "reviewr" \(not found\)/);
    const validate = runCoord(["missions", "validate"], { cwd });
    expect(validate.code).toBe(2);
    expect(validate.stderr).toMatch(/^missions\/ship\.md:5: lead of phase 1 uses agent "reviewr" \(not found\) \(fix: did you mean reviewer\?/m);
  });

  it("names a mission by path as well as by id", () => {
    const r = runCoord(["missions", "show", "missions/cross-channel-message-sync.prompt.md", "--json"]);
    expect(r.code).toBe(0);
    const mission = JSON.parse(r.stdout) as { id: string; inputs: unknown[]; phases: Array<{ deliverables: string[] }> };
    expect(mission.id).toBe("cross-channel-message-sync");
    expect(mission.inputs).toHaveLength(28);
    expect(mission.phases[0]?.deliverables).toHaveLength(8);
  });

  it("answers an unknown mission with suggestions and exit 2", () => {
    const r = runCoord(["missions", "show", "sales-marketing-alignmnt"], { cwd: tempProject() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("did you mean sales-marketing-alignment");
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it("lists missions and validates the shipped ones cleanly", () => {
    const list = runCoord(["missions", "list", "--json"], { cwd: tempProject() });
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as Array<{ id: string }>).map((m) => m.id).sort()).toEqual([
      "cross-channel-message-sync",
      "sales-marketing-alignment",
    ]);
    const validate = runCoord(["missions", "validate"], { cwd: tempProject() });
    expect(validate.code).toBe(0);
  });
});

describe("coord command line", () => {
  it("exits 2 on an unknown option", () => {
    const r = runCoord(["agents", "list", "--frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option");
  });

  it("exits 0 for --help", () => {
    const r = runCoord(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("missions");
  });
});
