import { existsSync, readFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SLASH_USAGE, parseSlash, tokenize } from "../../src/interfaces/slash/parse.js";
import { handleSlash, type SlashContext } from "../../src/interfaces/slash/handle.js";
import { SettingsSchema } from "../../src/definitions/schemas/settings.js";
import { getRun, runMission } from "../../src/runtime/run.js";
import { actor, type Actor, type ReviewDecision } from "../../src/runtime/state.js";
import { STACK_LINE, runCli, tempProject } from "../helpers/cli.js";
import { missionMarkdown, runProject } from "../helpers/project.js";

describe("parseSlash", () => {
  it("reads key=value, key=\"quoted value\" (straight or curly quotes) and key=@file", () => {
    expect(parseSlash('/coord launch goal="grow ARR 30%" region=EMEA notes=@docs/notes.md tone=“plain words”')).toEqual({
      kind: "run",
      mission: "launch",
      inputs: { goal: "grow ARR 30%", region: "EMEA", tone: "plain words" },
      files: { notes: "docs/notes.md" },
      approve: false,
    });
  });

  it("reads --approve anywhere after the mission, also as the dash chat apps make of --", () => {
    expect(parseSlash("/coord launch --approve goal=grow")).toMatchObject({ kind: "run", mission: "launch", inputs: { goal: "grow" }, approve: true });
    expect(parseSlash("/coord launch goal=grow —approve")).toMatchObject({ approve: true });
    expect(() => parseSlash("/coord launch --fast goal=grow")).toThrow(/unknown option --fast: the only option of a run is --approve/);
    expect(() => parseSlash("/coord --approve launch")).toThrow(/name the mission first/);
    // A note is free text: --approve in it is not an option.
    expect(parseSlash("/coord reject r1 drop --approve")).toEqual({ kind: "reject", runId: "r1", note: "drop --approve" });
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

  it("says in the usage every surface shows that runs can pause for approval", () => {
    expect(SLASH_USAGE).toContain("--approve");
  });
});

const MISSION = missionMarkdown("Chat Plan", ["Brief"], [{ title: "Plan", lead: "planner", deliverables: ["Plan outline"] }]);

describe("coord slash", () => {
  it("runs a mission from slash text and replies with status, deliverables and the report path", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: {} }, inputs: { brief: "Grow onboarding completion to 60%." } });
    const r = await runCli(["slash", '/coord test-mission brief="Grow onboarding completion to 60%."'], { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\*\*Chat Plan\*\* · run `test-mission-[\w-]+` · ✅ completed/);
    expect(r.stdout).toContain("• Plan outline");
    const report = /Report: `(.+)`/.exec(r.stdout)![1]!;
    expect(existsSync(join(cwd, report))).toBe(true);
  });

  it("pauses a run started with --approve and says how to approve it", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: {} }, inputs: {} });
    const r = await runCli(["slash", "/coord test-mission --approve brief=Grow"], { cwd });
    expect(r.stdout).toContain("⏸️ paused (approval)");
    const runId = /run `([^`]+)`/.exec(r.stdout)![1]!;
    expect(r.stdout).toContain(`/coord approve ${runId}`);
    const approved = await runCli(["slash", `/coord approve ${runId}`], { cwd });
    expect(approved.stdout).toContain("✅ completed");
  });

  it("answers help and list, and a malformed command with usage and exit 2, never a stack", async () => {
    const cwd = tempProject();
    const help = await runCli(["slash", "/coord help"], { cwd });
    expect(help.stdout).toContain("/coord status RUN_ID");
    expect(help.stdout).toContain("--approve");
    const list = await runCli(["slash", "/coord list"], { cwd });
    expect(list.stdout).toContain("`sales-marketing-alignment`");
    const bad = await runCli(["slash", "/coord sales-marketing-alignment oops"], { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stdout).toContain('"oops" is not key=value');
    expect(bad.stdout).toContain("/coord help");
    const missing = await runCli(["slash", "/coord sales-marketing-alignment"], { cwd });
    expect(missing.code).toBe(2);
    expect(missing.stdout).toContain("missing required inputs: marketing-framework");
    expect(missing.stdout + missing.stderr).not.toMatch(STACK_LINE);
  });
});

describe("who asked, through slash commands", () => {
  const trailOf = (cwd: string, runId: string) =>
    JSON.parse(readFileSync(join(cwd, "runs", runId, "run.json"), "utf8")) as { startedBy?: Actor; approvals: Array<{ action: string; note?: string; by: Actor; at: string }> };
  const contextFor = (cwd: string, user?: Actor): SlashContext => ({ cwd, settings: SettingsSchema.parse({}), env: {}, trusted: false, ...(user && { user }) });

  it("coord slash starts runs and takes decisions as the CLI's OS user", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: {} }, inputs: {} });
    const started = await runCli(["slash", "/coord test-mission --approve brief=Grow"], { cwd });
    const runId = /run `([^`]+)`/.exec(started.stdout)![1]!;
    await runCli(["slash", `/coord reject ${runId} name an owner`], { cwd });
    const cli = { surface: "cli", user: userInfo().username };
    const trail = trailOf(cwd, runId);
    expect(trail.startedBy).toEqual(cli);
    expect(trail.approvals).toEqual([{ phase: 1, action: "reject", note: "name an owner", by: cli, at: expect.any(String) }]);
  });

  it("records the context's user as the starter and the decider (a Slack user id), and the library when there is none", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: {} }, inputs: {} });
    const slack = actor("slack", "U012ABCDEF");
    const started = await handleSlash("/coord test-mission --approve brief=Grow", contextFor(cwd, slack));
    expect(started.status, started.text).toBe("paused");
    await handleSlash(`/coord reject ${started.runId} shorter`, contextFor(cwd, slack));
    await handleSlash(`/coord approve ${started.runId}`, contextFor(cwd));
    const trail = trailOf(cwd, started.runId!);
    expect(trail.startedBy).toEqual({ surface: "slack", user: "U012ABCDEF" });
    expect(trail.approvals.map((a) => [a.action, a.by])).toEqual([
      ["reject", { surface: "slack", user: "U012ABCDEF" }],
      ["approve", { surface: "library" }],
    ]);
  });

  it("hands a server's dispatch a decision already stamped with who took it and when, and the run its starter", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: {} }, inputs: {} });
    const mcp = actor("mcp");
    const handed: { decision?: ReviewDecision; startedBy?: Actor } = {};
    const dispatch: NonNullable<SlashContext["dispatch"]> = {
      run: async (options) => {
        handed.startedBy = options.startedBy;
        return (await runMission(options)).record;
      },
      decide: async (runId, decision) => {
        handed.decision = decision;
        return getRun(runId, { cwd });
      },
    };
    const started = await handleSlash("/coord test-mission --approve brief=Grow", { ...contextFor(cwd, mcp), dispatch });
    expect(handed.startedBy).toEqual({ surface: "mcp" });
    const before = new Date().toISOString();
    await handleSlash(`/coord approve ${started.runId} fine`, { ...contextFor(cwd, mcp), dispatch });
    expect(handed.decision).toEqual({ action: "approve", note: "fine", by: { surface: "mcp" }, at: expect.any(String) });
    expect(handed.decision!.at! >= before).toBe(true);
  });
});
