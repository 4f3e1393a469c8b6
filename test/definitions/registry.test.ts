import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isCoordError } from "../../src/errors.js";
import { loadAgentFiles, loadAgents } from "../../src/definitions/load.js";
import { REPO, agentText, tempDir, tempTree } from "./fixtures.js";

describe("agent discovery", () => {
  it("searches --agents folders in order and recursively, then ./agents, then ./.claude/agents", () => {
    const cwd = tempTree({
      "first/deep/er/alpha.md": agentText("alpha"),
      "second/alpha.md": agentText("alpha"),
      "second/beta.md": agentText("beta"),
      "agents/beta.md": agentText("beta"),
      "agents/gamma.md": agentText("gamma"),
      ".claude/agents/gamma.md": agentText("gamma"),
      ".claude/agents/delta.md": agentText("delta"),
    });
    const registry = loadAgents({ agentDirs: [join(cwd, "first"), join(cwd, "second")], cwd, builtin: false });
    const fileOf = (name: string) => registry.get(name)?.file;
    expect(fileOf("alpha")).toBe(join(cwd, "first/deep/er/alpha.md"));
    expect(fileOf("beta")).toBe(join(cwd, "second/beta.md"));
    expect(fileOf("gamma")).toBe(join(cwd, "agents/gamma.md"));
    expect(fileOf("delta")).toBe(join(cwd, ".claude/agents/delta.md"));
    expect(registry.names().sort()).toEqual(["alpha", "beta", "delta", "gamma"]);
  });

  it("resolves relative --agents folders against cwd", () => {
    const cwd = tempTree({ "team/agents/lead.md": agentText("lead") });
    const registry = loadAgents({ agentDirs: ["team/agents"], cwd, builtin: false });
    expect(registry.get("lead")?.file).toBe(join(cwd, "team/agents/lead.md"));
  });

  it("finds the shipped agents from an empty folder", () => {
    const registry = loadAgents({ cwd: tempDir() });
    expect(registry.get("chassis-intelligence")?.file).toBe(join(REPO, "agents", "chassis-intelligence.md"));
  });

  it("leaves the shipped agents out with builtin: false", () => {
    const registry = loadAgents({ cwd: tempDir(), builtin: false });
    expect(registry.agents).toEqual([]);
    expect(registry.get("chassis-intelligence")).toBeUndefined();
  });

  it("lets a project agent shadow the shipped agent of the same name", () => {
    const cwd = tempTree({ "agents/chassis-intelligence.md": agentText("chassis-intelligence", "the project's copy") });
    const registry = loadAgents({ cwd });
    const projectFile = join(cwd, "agents", "chassis-intelligence.md");
    expect(registry.get("chassis-intelligence")?.file).toBe(projectFile);
    const duplicate = registry.diagnostics.find((d) => d.code === "AGENT_DUPLICATE");
    expect(duplicate?.file).toBe(join(REPO, "agents", "chassis-intelligence.md"));
    expect(duplicate?.message).toContain(projectFile);
  });
});

describe("duplicate agent names", () => {
  it("keeps the earlier agent and warns with AGENT_DUPLICATE naming both files", () => {
    const cwd = tempTree({
      "one/reviewer.md": agentText("reviewer", "first"),
      "two/nested/reviewer-copy.md": agentText("reviewer", "second"),
    });
    const earlier = join(cwd, "one", "reviewer.md");
    const later = join(cwd, "two", "nested", "reviewer-copy.md");
    const registry = loadAgents({ agentDirs: [join(cwd, "one"), join(cwd, "two")], cwd, builtin: false });
    expect(registry.agents).toHaveLength(1);
    expect(registry.get("reviewer")?.file).toBe(earlier);
    expect(registry.diagnostics).toEqual([
      expect.objectContaining({ code: "AGENT_DUPLICATE", severity: "warning", file: later }),
    ]);
    expect(registry.diagnostics[0]?.message).toContain(earlier);
    expect(registry.diagnostics[0]?.message).toContain("reviewer");
  });
});

describe("files that are not agents", () => {
  it("skips README.md and markdown without frontmatter quietly", () => {
    const dir = tempTree({
      "README.md": "# Our agents\n\nSee the files in this folder.\n",
      "notes/ideas.md": "Some notes, no frontmatter.\n",
      "notes/plan.yaml": "steps:\n  - one\n  - two\n",
      "writer.md": agentText("writer"),
    });
    const registry = loadAgents({ agentDirs: [dir], cwd: tempDir(), builtin: false });
    expect(registry.names()).toEqual(["writer"]);
    expect(registry.diagnostics).toEqual([]);
  });

  it("reports a file it cannot read as FILE_UNREADABLE and keeps loading the others", () => {
    const dir = tempTree({ "writer.md": agentText("writer") });
    const missing = join(dir, "gone.md");
    const registry = loadAgentFiles([missing, join(dir, "writer.md")]);
    expect(registry.names()).toEqual(["writer"]);
    expect(registry.diagnostics).toEqual([expect.objectContaining({ code: "FILE_UNREADABLE", file: missing })]);
  });
});

describe("agent lookup", () => {
  const dir = tempTree({
    "load-balancer.md": agentText("Load Balancing Coordinator"),
    "chassis-intelligence.md": agentText("chassis-intelligence"),
    "pipeline-management.md": agentText("pipeline-management"),
  });
  const registry = loadAgents({ agentDirs: [dir], cwd: tempDir(), builtin: false });

  it("finds an agent by the slug of its name", () => {
    expect(registry.get("load-balancing-coordinator")?.name).toBe("Load Balancing Coordinator");
    expect(registry.require("load-balancing-coordinator").file).toBe(join(dir, "load-balancer.md"));
  });

  it("finds an agent by its exact name", () => {
    expect(registry.get("Load Balancing Coordinator")?.file).toBe(join(dir, "load-balancer.md"));
  });

  it("throws AGENT_NOT_FOUND for a misspelt name and suggests the closest one", () => {
    let thrown: unknown;
    try {
      registry.require("chasis-intelligence");
    } catch (e) {
      thrown = e;
    }
    expect(isCoordError(thrown)).toBe(true);
    if (!isCoordError(thrown)) return;
    expect(thrown.code).toBe("AGENT_NOT_FOUND");
    expect(thrown.message).toContain("chasis-intelligence");
    expect(thrown.message).toMatch(/did you mean chassis-intelligence\b/);
    expect(thrown.message).not.toContain("pipeline-management");
  });
});
