import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/interfaces/cli/main.js";
import { REPO, STACK_LINE, runBin, runCli, tempProject } from "../helpers/cli.js";

const agentFile = (name: string, description: string) =>
  `---\nname: ${name}\ndescription: ${description}\ntype: tester\n---\n\nYou are ${name}.\n`;

describe("coord agents", () => {
  it("lists the shipped agents as JSON from an empty folder", async () => {
    const r = await runCli(["agents", "list", "--json"], { cwd: tempProject() });
    expect(r.code).toBe(0);
    const agents = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    const names = agents.map((a) => a.name);
    expect(names).toEqual(expect.arrayContaining(["chassis-intelligence", "customer-journey-orchestration-agent"]));
    for (const agent of agents) {
      for (const key of ["name", "type", "description", "capabilities", "priority", "color", "file"]) expect(agent).toHaveProperty(key);
      expect(Array.isArray(agent.capabilities)).toBe(true);
    }
  });

  it("prefers --agents over ./agents over ./.claude/agents over the shipped agents", async () => {
    const cwd = tempProject({
      "mine/chassis-intelligence.md": agentFile("chassis-intelligence", "from the flag folder"),
      "agents/chassis-intelligence.md": agentFile("chassis-intelligence", "from ./agents"),
      "agents/local-only.md": agentFile("local-only", "from ./agents"),
      ".claude/agents/local-only.md": agentFile("local-only", "from .claude"),
      ".claude/agents/claude-only.md": agentFile("claude-only", "from .claude"),
    });
    const r = await runCli(["--agents", "mine", "agents", "list", "--json"], { cwd });
    expect(r.code).toBe(0);
    const byName = new Map((JSON.parse(r.stdout) as Array<{ name: string; description: string }>).map((a) => [a.name, a]));
    expect(byName.get("chassis-intelligence")?.description).toBe("from the flag folder");
    expect(byName.get("local-only")?.description).toBe("from ./agents");
    expect(byName.get("claude-only")?.description).toBe("from .claude");
    expect(r.stderr).toMatch(/warning/);
  });

  it("shows one agent with its body", async () => {
    const r = await runCli(["agents", "show", "pipeline-management", "--json"], { cwd: tempProject() });
    expect(r.code).toBe(0);
    const agent = JSON.parse(r.stdout) as { name: string; body: string; file: string };
    expect(agent.name).toBe("pipeline-management");
    expect(readFileSync(join(REPO, "agents", "pipeline-management.md"), "utf8")).toContain(agent.body.split("\n")[0]);
  });

  it("answers an unknown agent with one line naming the closest agent and the fix, and exits 2", async () => {
    // In process, against src: edit this message in src and this test fails, with no build in between.
    const r = await runCli(["agents", "show", "chasis-intelligence"], { cwd: tempProject() });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'coord: no agent named "chasis-intelligence" (did you mean chassis-intelligence?) (fix: run `coord agents list` to see every agent, or add a folder with --agents DIR)\n',
    );
    expect(r.stdout).toBe("");
  });

  it("validates files, one line per problem with file:line, and exits 2 on errors", async () => {
    const cwd = tempProject({
      "a/broken.md": "---\nname: broken\nhooks:\n  pre: |\n    echo one\npython3 -c 'x'\n---\nbody\n",
      "a/colon.md": "---\nname: colon\ndescription: Triggers on: growth loops\n---\nbody\n",
      "a/README.md": "# Agents\n\nNothing to see.\n",
    });
    const r = await runCli(["agents", "validate", "a"], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^a\/broken\.md:6: invalid YAML/m);
    expect(r.stderr).toMatch(/^a\/colon\.md:3: warning: .*\(fix: wrap the value in double quotes/m);
    expect(r.stderr).not.toContain("README");
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it("exits 0 when validation finds only warnings, and --json reports them", async () => {
    const cwd = tempProject({ "a/colon.md": "---\nname: colon\ndescription: Triggers on: growth loops\n---\nbody\n" });
    const r = await runCli(["agents", "validate", "a", "--json"], { cwd });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { ok: boolean; diagnostics: Array<{ code: string; line: number }> };
    expect(report.ok).toBe(true);
    expect(report.diagnostics.map((d) => [d.code, d.line])).toEqual([["AGENT_YAML_RECOVERED", 3]]);
  });
});

describe("coord missions", () => {
  it("shows the seed mission as JSON with 3 phases and 15 deliverables, warning about its title's encoding", async () => {
    const r = await runCli(["missions", "show", "sales-marketing-alignment", "--json"], { cwd: tempProject() });
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

  it("prints the phase/agent flow as Mermaid with --graph", async () => {
    const r = await runCli(["missions", "show", "sales-marketing-alignment", "--graph"], { cwd: tempProject() });
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith("flowchart TD")).toBe(true);
    expect(r.stdout.match(/^\s*subgraph /gm)).toHaveLength(3);
  });

  it("shows a mission whose agents are missing, with warnings, and validate fails on them", async () => {
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
    const show = await runCli(["missions", "show", "ship"], { cwd });
    expect(show.code).toBe(0);
    expect(show.stderr).toMatch(/missions\/ship\.md:5: warning: lead of phase 1 uses agent "reviewr" \(not found\)/);
    const validate = await runCli(["missions", "validate"], { cwd });
    expect(validate.code).toBe(2);
    expect(validate.stderr).toMatch(/^missions\/ship\.md:5: lead of phase 1 uses agent "reviewr" \(not found\) \(fix: did you mean reviewer\?/m);
  });

  it("names a mission by path as well as by id", async () => {
    const r = await runCli(["missions", "show", "missions/cross-channel-message-sync.prompt.md", "--json"]);
    expect(r.code).toBe(0);
    const mission = JSON.parse(r.stdout) as { id: string; inputs: unknown[]; phases: Array<{ deliverables: string[] }> };
    expect(mission.id).toBe("cross-channel-message-sync");
    expect(mission.inputs).toHaveLength(28);
    expect(mission.phases[0]?.deliverables).toHaveLength(8);
  });

  it("answers an unknown mission with suggestions and exit 2", async () => {
    const r = await runCli(["missions", "show", "sales-marketing-alignmnt"], { cwd: tempProject() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("did you mean sales-marketing-alignment");
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it("lists missions and validates the shipped ones cleanly", async () => {
    const list = await runCli(["missions", "list", "--json"], { cwd: tempProject() });
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as Array<{ id: string }>).map((m) => m.id).sort()).toEqual([
      "cross-channel-message-sync",
      "sales-marketing-alignment",
    ]);
    const validate = await runCli(["missions", "validate"], { cwd: tempProject() });
    expect(validate.code).toBe(0);
  });
});

describe("coord command line", () => {
  it("exits 2 on an unknown option, naming it", async () => {
    const r = await runCli(["agents", "list", "--frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--frobnicate'");
  });

  it("suggests the closest command for a misspelt one", async () => {
    const r = await runCli(["misions", "list"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("(Did you mean missions?)");
  });

  it("prints every command in --help and exits 0", async () => {
    const r = await runCli(["--help"]);
    expect(r.code).toBe(0);
    for (const command of ["agents", "missions", "run", "resume", "approve", "reject", "models", "slash", "serve", "mcp", "runs"]) {
      expect(r.stdout).toMatch(new RegExp(`^  ${command}\\b`, "m"));
    }
  });

  it("reads the project's .env on top of the environment it is given, without changing that environment", async () => {
    const cwd = tempProject({ ".env": "COORD_MODEL=openai:gpt-4o-mini\nOPENAI_API_KEY=sk-from-dotenv\n" });
    const before = { ...process.env };
    const r = await runCli(["models", "--json"], { cwd });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { source: string; keys: { openai: { set: boolean }; anthropic: { set: boolean } } };
    expect(report.source).toBe("COORD_MODEL in .env");
    expect(report.keys.openai.set).toBe(true);
    expect(report.keys.anthropic.set).toBe(false);
    expect(r.stdout).not.toContain("sk-from-dotenv");
    expect(process.env).toEqual(before);
  });

  it("lets the environment it is given win over the project's .env", async () => {
    const cwd = tempProject({ ".env": "COORD_MODEL=openai:gpt-4o-mini\n" });
    const r = await runCli(["models", "--json"], { cwd, env: { COORD_MODEL: "anthropic:claude-haiku-4-5" } });
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { source: string }).source).toBe("COORD_MODEL");
  });
});

/** The real bin/coord.js in its own process, on the dist/ the global setup built from src. */
describe("coord's own failures", () => {
  // A stream that cannot be written (a closed pipe) is no mistake of the user's: coord names it
  // an internal error, asks for a report, and exits 1 without a stack unless --verbose.
  const failingStdout = { write: () => { throw new Error("stdout is gone (EPIPE)"); } };

  it("reports an error that is not the user's as an internal error, exit 1, with the stack only under --verbose", async () => {
    const stderr: string[] = [];
    const code = await main(["agents", "list", "--json"], { stdout: failingStdout, stderr: { write: (t: string) => stderr.push(t) }, cwd: tempProject(), env: {} });
    expect(code).toBe(1);
    expect(stderr[0]).toBe("coord: internal error: stdout is gone (EPIPE) (fix: this is a bug in coord; please report it with what you ran)\n");
    expect(stderr.join("")).not.toMatch(STACK_LINE);
    expect(stderr.join("")).toContain("--verbose");

    const verbose: string[] = [];
    expect(await main(["agents", "list", "--json", "--verbose"], { stdout: failingStdout, stderr: { write: (t: string) => verbose.push(t) }, cwd: tempProject(), env: {} })).toBe(1);
    expect(verbose.join("")).toMatch(STACK_LINE);
  });
});

describe("the coord executable", () => {
  it("prints the package's version", () => {
    const r = runBin(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe((JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string }).version);
  });

  it("prints help on stdout and exits 0", () => {
    const r = runBin(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: coord /m);
    expect(r.stderr).toBe("");
  });

  it("lists the shipped agents as JSON from an empty folder", () => {
    const r = runBin(["agents", "list", "--json"], { cwd: tempProject() });
    expect(r.code, r.stderr).toBe(0);
    const shipped = readdirSync(join(REPO, "agents")).filter((f) => f.endsWith(".md"));
    expect((JSON.parse(r.stdout) as unknown[]).length).toBe(shipped.length);
  });

  it("exits 2 on a mistake in the command line, with one line and no stack trace", () => {
    const r = runBin(["missions", "show", "sales-marketing-alignmnt"], { cwd: tempProject() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^coord: no mission named "sales-marketing-alignmnt" \(did you mean sales-marketing-alignment\?\)/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it("runs the seed mission offline on examples/acme and writes its 15 deliverables", () => {
    const cwd = tempProject();
    const r = runBin(["run", "sales-marketing-alignment", "--inputs", join(REPO, "examples", "acme"), "--run-id", "smoke", "--json"], { cwd });
    expect(r.code, r.stderr).toBe(0);
    const record = JSON.parse(r.stdout) as { status: string; model: string; phases: Array<{ deliverables: Array<{ file: string }> }> };
    expect(record.status).toBe("completed");
    expect(record.model).toBe("offline");
    const files = record.phases.flatMap((p) => p.deliverables.map((d) => d.file));
    expect(files).toHaveLength(15);
    for (const file of files) expect(existsSync(join(cwd, "runs", "smoke", file))).toBe(true);
  });
});
