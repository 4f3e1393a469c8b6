import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { killWhileHookStalls, runCli } from "../helpers/cli.js";
import { startFakeOpenAI, type FakeOpenAI, type ReceivedRequest } from "../helpers/openai-server.js";
import { GROWTH_INPUTS, missionMarkdown, runProject } from "../helpers/project.js";

// Two phases; the first criterion is about the analysis, the second is one no draft will meet.
const MISSION = missionMarkdown("Gated Plan", ["Market Brief", "Sales Notes"], [
  { title: "Analysis", lead: "analyst", support: ["researcher"], deliverables: ["Churn analysis"] },
  { title: "Plan", lead: "planner", deliverables: ["Onboarding plan"] },
]).replace("- [ ] Everything delivered", "- [ ] Churn analysis of the first 90 days\n- [ ] Quantum pricing hedges for zebras");
const AGENTS = { analyst: {}, researcher: {}, planner: {} };

interface Record {
  status: string;
  reason?: string;
  phases: Array<{ status: string; calls: Array<{ role: string; agent: string }> }>;
  criteria?: Array<{ text: string; verdict: string; phase: number | null }>;
  approvals: Array<{ phase: number; action: string; note?: string }>;
}

let server: FakeOpenAI | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("gates (offline judge)", () => {
  it("sends a phase back once with what is missing, then pauses (reason criteria); reject tries again, approve goes on", async () => {
    const cwd = runProject({ mission: MISSION, agents: AGENTS, inputs: GROWTH_INPUTS });
    const started = await runCli(["run", "test-mission", "--inputs", "inputs", "--run-id", "gated", "--gate", "--json"], { cwd });
    expect(started.code, started.stderr).toBe(3);
    const paused = JSON.parse(started.stdout) as Record;
    expect([paused.status, paused.reason]).toEqual(["paused", "criteria"]);
    // The unmet criterion was assigned to a phase whose lead wrote twice: the draft and the redo.
    const phase = paused.phases.findIndex((p) => p.status === "awaiting-approval") + 1;
    expect(phase).toBeGreaterThan(0);
    const leads = paused.phases[phase - 1]!.calls.filter((c) => c.role === "lead");
    expect(leads).toHaveLength(2);
    const redo = readFileSync(join(cwd, "runs", "gated", "run.log"), "utf8");
    expect(redo).toContain("paused: criteria still unmet");

    // A person asks for another try: the lead writes again, the gate checks again, and pauses again.
    const again = await runCli(["reject", "gated", "--note", "Price the zebra hedges", "--json"], { cwd });
    expect(again.code, again.stderr).toBe(3);
    const second = JSON.parse(again.stdout) as Record;
    expect(second.reason).toBe("criteria");
    expect(second.phases[phase - 1]!.calls.filter((c) => c.role === "lead")).toHaveLength(3);

    // Approving goes on anyway; the verdicts in run.json are the gates' last ones, with their phases.
    const done = await runCli(["approve", "gated", "--note", "good enough", "--json"], { cwd });
    expect(done.code, done.stderr).toBe(0);
    const record = JSON.parse(done.stdout) as Record;
    expect(record.status).toBe("completed");
    expect(record.approvals.map((a) => [a.phase, a.action])).toEqual([[phase, "reject"], [phase, "approve"]]);
    expect(record.criteria!.map((c) => c.verdict)).toContain("not_met");
    expect(record.criteria!.every((c) => typeof c.phase === "number")).toBe(true);
    const report = readFileSync(join(cwd, "runs", "gated", "report.md"), "utf8");
    expect(report).toContain("- [ ] Quantum pricing hedges for zebras");
  });

  it("gates a mission that asks for it in its header (**Gate:** on), without the flag", async () => {
    const gatedMission = MISSION.replace("**Duration:** 1 hour", "**Duration:** 1 hour\n**Gate:** on");
    const cwd = runProject({ mission: gatedMission, agents: AGENTS, inputs: GROWTH_INPUTS });
    const r = await runCli(["run", "test-mission", "--inputs", "inputs", "--run-id", "self-gated", "--json"], { cwd });
    expect(r.code, r.stderr).toBe(3);
    expect((JSON.parse(r.stdout) as Record).reason).toBe("criteria");
  });

  it("never blocks without --gate: every criterion is checked once, at the end", async () => {
    const cwd = runProject({ mission: MISSION, agents: AGENTS, inputs: GROWTH_INPUTS });
    const r = await runCli(["run", "test-mission", "--inputs", "inputs", "--run-id", "ungated", "--json"], { cwd });
    expect(r.code, r.stderr).toBe(0);
    const record = JSON.parse(r.stdout) as Record;
    expect(record.criteria!.map((c) => c.phase)).toEqual([null, null]);
    expect(r.stdout).not.toContain("criteria still unmet");
  });
});

describe("gates over HTTP", () => {
  const isTool = (q: ReceivedRequest, name: string) => !!q.body.tools?.some((t) => t.function.name === name);

  it("redoes a phase whose criterion is unmet, passes it on the redo, and resumes after a crash between the phase and its check without redoing the phase", async () => {
    server = await startFakeOpenAI();
    let checks = 0;
    // The judge assigns both criteria to phase 1; the first check finds one unmet, every later one finds both met.
    server.toolCalls = (req) => {
      if (req.tools?.some((t) => t.function.name === "assign_criteria")) return [{ name: "assign_criteria", args: { assignments: [{ criterion: 1, phase: 1 }, { criterion: 2, phase: 1 }] } }];
      if (!req.tools?.some((t) => t.function.name === "judge_criteria")) return undefined;
      checks++;
      const quote = { phase: 1, deliverable: "Churn analysis", quote: "Server draft of Churn analysis" };
      return [{ name: "judge_criteria", args: { verdicts: [
        { criterion: 1, verdict: "met", evidence: [quote], missing: "" },
        { criterion: 2, verdict: checks === 1 ? "not_met" : "met", evidence: checks === 1 ? [] : [quote], missing: checks === 1 ? "no zebra pricing" : "" },
      ] } }];
    };
    // The lead's post hook stalls on its first redo, once: the process is killed there, after
    // the redo's model call was answered and before the gate checks it.
    const block = 'if [ "$COORD_ROLE" = lead ] && [ "$COORD_PHASE" = 1 ] && [ -f first-done ] && [ ! -f go ]; then echo $$ > blocked; sleep 30; fi; touch first-done';
    const cwd = runProject({ mission: MISSION, agents: { analyst: { post: block }, researcher: {}, planner: {} }, inputs: GROWTH_INPUTS });
    const env = { OPENAI_API_KEY: "sk-test", COORD_BASE_URL: server.url, COORD_MODEL: "openai:gpt-4o-mini" };
    await killWhileHookStalls(cwd, ["run", "test-mission", "--inputs", "inputs", "--run-id", "crash", "--gate"], env);
    const leadCallsAtCrash = server.requests.filter((q) => isTool(q, "write_deliverables")).length;
    expect(checks).toBe(1);

    const resumed = await runCli(["resume", "crash", "--json"], { cwd, env });
    expect(resumed.code, resumed.stderr).toBe(0);
    const record = JSON.parse(resumed.stdout) as Record;
    expect(record.status).toBe("completed");
    // The redo's answer was saved before the crash: the resume went on to the check, not the lead.
    const phase1Leads = server.requests.filter((q) => isTool(q, "write_deliverables") && /Phase 1 of/.test(JSON.stringify(q.body.messages)));
    expect(phase1Leads).toHaveLength(2);
    expect(server.requests.filter((q) => isTool(q, "write_deliverables")).length).toBe(leadCallsAtCrash + 1);
    expect(checks).toBe(2);
    expect(server.requests.filter((q) => isTool(q, "assign_criteria"))).toHaveLength(1);
    expect(record.criteria!.map((c) => [c.verdict, c.phase])).toEqual([["met", 1], ["met", 1]]);
    // The redo was asked with what was missing.
    const redoAsk = JSON.stringify(phase1Leads[1]!.body.messages);
    expect(redoAsk).toContain("These success criteria are not met yet");
    expect(redoAsk).toContain("no zebra pricing");
  }, 90_000);
});
