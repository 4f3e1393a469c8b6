import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseSlash, tokenize } from "../../src/interfaces/slash/parse.js";
import { STACK_LINE, runCoord, tempProject } from "../helpers/cli.js";
import { missionMarkdown, runProject } from "../helpers/project.js";

describe("parseSlash", () => {
  it("reads key=value, key=\"quoted value\" (straight or curly quotes) and key=@file", () => {
    expect(parseSlash('/coord launch goal="grow ARR 30%" region=EMEA notes=@docs/notes.md tone=“plain words”')).toEqual({
      kind: "run",
      mission: "launch",
      inputs: { goal: "grow ARR 30%", region: "EMEA", tone: "plain words" },
      files: { notes: "docs/notes.md" },
    });
  });

  it("reads status, approve with an optional note and reject with a required one", () => {
    expect(parseSlash("/coord status r1")).toEqual({ kind: "status", runId: "r1" });
    expect(parseSlash("approve r1 looks good")).toEqual({ kind: "approve", runId: "r1", note: "looks good" });
    expect(parseSlash("/coord approve r1")).toEqual({ kind: "approve", runId: "r1" });
    expect(parseSlash("/coord reject r1 add numbers")).toEqual({ kind: "reject", runId: "r1", note: "add numbers" });
    expect(() => parseSlash("/coord reject r1")).toThrow(/needs a note/);
    expect(() => parseSlash("/coord launch goal")).toThrow(/not key=value/);
    expect(() => tokenize('a="b')).toThrow(/never closed/);
    expect(parseSlash("/coord launch notes=don't tone=it's")).toMatchObject({ inputs: { notes: "don't", tone: "it's" } });
  });
});

const MISSION = missionMarkdown("Chat Plan", ["Brief"], [{ title: "Plan", lead: "planner", deliverables: ["Plan outline"] }]);

describe("coord slash", () => {
  it("runs a mission from slash text and replies with status, deliverables and the report path", () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: {} }, inputs: { brief: "Grow onboarding completion to 60%." } });
    const r = runCoord(["slash", '/coord test-mission brief="Grow onboarding completion to 60%."'], { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\*\*Chat Plan\*\* · run `test-mission-[\w-]+` · ✅ completed/);
    expect(r.stdout).toContain("• Plan outline");
    const report = /Report: `(.+)`/.exec(r.stdout)![1]!;
    expect(existsSync(join(cwd, report))).toBe(true);
  });

  it("answers help and list, and a malformed command with usage and exit 2, never a stack", () => {
    const cwd = tempProject();
    expect(runCoord(["slash", "/coord help"], { cwd }).stdout).toContain("/coord status RUN_ID");
    const list = runCoord(["slash", "/coord list"], { cwd });
    expect(list.stdout).toContain("`sales-marketing-alignment`");
    const bad = runCoord(["slash", "/coord sales-marketing-alignment oops"], { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stdout).toContain('"oops" is not key=value');
    expect(bad.stdout).toContain("/coord help");
    const missing = runCoord(["slash", "/coord sales-marketing-alignment"], { cwd });
    expect(missing.code).toBe(2);
    expect(missing.stdout).toContain("missing required inputs: marketing-framework");
    expect(missing.stdout + missing.stderr).not.toMatch(STACK_LINE);
  });

  it("installs /coord into Claude Code as .claude/commands/coord.md", () => {
    const cwd = tempProject();
    const r = runCoord(["install", "claude-code"], { cwd });
    expect(r.code).toBe(0);
    const command = readFileSync(join(cwd, ".claude", "commands", "coord.md"), "utf8");
    expect(command).toMatch(/^---\ndescription: /);
    expect(command).toContain('npx coord slash "/coord $ARGUMENTS"');
    expect(command).toContain("allowed-tools: Bash(npx coord slash:*)");
    expect(runCoord(["install", "vscode"], { cwd }).code).toBe(2);
  });
});

