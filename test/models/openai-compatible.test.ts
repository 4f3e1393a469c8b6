import { existsSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseAgent } from "../../src/definitions/agent.js";
import { spawn } from "node:child_process";
import { BIN, REPO, STACK_LINE, cliEnv, killWhileHookStalls, runCli, waitUntil } from "../helpers/cli.js";
import { startFakeOpenAI, type FakeOpenAI } from "../helpers/openai-server.js";
import { GROWTH_INPUTS, GROWTH_PLAN, agentMarkdown, agentOfRequest, missionMarkdown, runProject } from "../helpers/project.js";

const AGENTS = { analyst: {}, researcher: {}, seller: {}, planner: {} };

let server: FakeOpenAI | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Env for a child coord that talks to the fake server and nothing else. */
function providerEnv(fake: FakeOpenAI, key = "sk-test"): Record<string, string | undefined> {
  return { OPENAI_API_KEY: key, COORD_BASE_URL: fake.url, COORD_MODEL: "openai:gpt-4o-mini", ANTHROPIC_API_KEY: undefined };
}

function agentBody(cwd: string, name: string): string {
  const file = join(cwd, "agents", `${name}.md`);
  return parseAgent(readFileSync(file, "utf8"), file).agent!.body;
}

describe("a run against an OpenAI-compatible server on loopback", () => {
  it("sends the run's shared context then each agent's role as the system prompt, supports at once, deliverables side by side, earlier deliverables later, and records the server's usage", async () => {
    server = await startFakeOpenAI({ delayMs: 250 });
    const cwd = runProject({ mission: GROWTH_PLAN, agents: AGENTS, inputs: GROWTH_INPUTS });
    const r = await runCli(["run", "test-mission", "--inputs", "inputs", "--run-id", "live", "--json"], { cwd, env: providerEnv(server) });
    expect(r.code, r.stderr).toBe(0);
    const record = JSON.parse(r.stdout) as {
      model: string;
      phases: Array<{ deliverables: Array<{ title: string; file: string }>; calls: Array<{ model: string }> }>;
      usage: { inputTokens: number; outputTokens: number; totalTokens: number; costUsd: number | null };
    };
    expect(record.model).toBe("openai:gpt-4o-mini");
    expect(server.requests.every((q) => q.authorization === "Bearer sk-test" && q.body.model === "gpt-4o-mini")).toBe(true);

    // Every agent's request's system prompt starts with the mission and ends with one agent's body,
    // as its role; the last request is the judge's check of the success criteria.
    const bodies = Object.keys(AGENTS).map((name) => agentBody(cwd, name));
    expect(server.requests.at(-1)!.body.tools?.[0]?.function.name).toBe("judge_criteria");
    for (const q of server.requests.slice(0, -1)) {
      const system = q.body.messages[0]!;
      expect(system.role).toBe("system");
      expect(system.content!.startsWith("# Mission: Growth Plan\n")).toBe(true);
      expect(bodies.some((body) => system.content!.endsWith(`## Your role\n\n${body}\n`))).toBe(true);
    }

    // Phase 1's two supports were at the server at the same time.
    const [a, b] = server.requests.slice(0, 2);
    expect(Math.max(a!.start, b!.start)).toBeLessThan(Math.min(a!.end, b!.end));

    // The lead wrote through structured output, one call per deliverable, phase 1's two at the
    // same time after its plan: the deliverable files hold what the server returned.
    const leadAnswers = server.requests.filter((q) => q.body.tools?.some((t) => t.function.name === "write_deliverables"));
    expect(leadAnswers).toHaveLength(3);
    expect(leadAnswers.map((q) => Object.keys(q.body.tools![0]!.function.parameters.properties ?? {}))).toEqual([["deliverable_1"], ["deliverable_1"], ["deliverable_1"]]);
    expect(Math.max(leadAnswers[0]!.start, leadAnswers[1]!.start)).toBeLessThan(Math.min(leadAnswers[0]!.end, leadAnswers[1]!.end));
    expect(leadAnswers[0]!.body.tool_choice).toMatchObject({ function: { name: "write_deliverables" } });
    const churn = readFileSync(join(cwd, "runs", "live", record.phases[0]!.deliverables[0]!.file), "utf8");
    expect(churn).toContain("Server draft of Churn analysis");

    // Phase 2's prompts carry phase 1's deliverables as the server wrote them.
    const phase2 = server.requests.filter((q) => q.start >= Math.max(leadAnswers[0]!.end, leadAnswers[1]!.end));
    expect(phase2.length).toBeGreaterThan(0);
    for (const q of phase2) expect(JSON.stringify(q.body.messages)).toContain("Server draft of Stall analysis");

    // Usage in run.json is what the server reported, summed; gpt-4o-mini has a price.
    const served = server.requests.reduce((s, q) => ({ input: s.input + q.usage!.prompt_tokens, output: s.output + q.usage!.completion_tokens }), { input: 0, output: 0 });
    expect([record.usage.inputTokens, record.usage.outputTokens]).toEqual([served.input, served.output]);
    expect(record.usage.totalTokens).toBe(served.input + served.output);
    expect(record.usage.costUsd).toBeGreaterThan(0);
  });

  it("retries 500 and 429 (honouring Retry-After) and completes", async () => {
    server = await startFakeOpenAI();
    server.failures.push({ status: 500 }, { status: 429, headers: { "retry-after": "0" } });
    const mission = missionMarkdown("Solo", ["Market Brief"], [{ title: "Write", lead: "analyst", deliverables: ["Summary"] }]);
    const cwd = runProject({ mission, agents: { analyst: {} }, inputs: { "market-brief": GROWTH_INPUTS["market-brief"] } });
    const r = await runCli(["run", "test-mission", "--inputs", "inputs", "--run-id", "retry", "--json"], { cwd, env: providerEnv(server) });
    expect(r.code, r.stderr).toBe(0);
    // The lead's call, tried three times; then the judge's check of the criteria.
    expect(server.requests.map((q) => q.status)).toEqual([500, 429, 200, 200]);
    expect(r.stderr).toMatch(/HTTP 500; retry 1/);
    expect(r.stderr).toMatch(/HTTP 429; retry 2 in 0\.0s/);
  });

  it("answers a refused key with one line naming OPENAI_API_KEY, and resumes once the key is fixed", async () => {
    server = await startFakeOpenAI();
    server.failures.push({ status: 401, body: { error: { message: "Incorrect API key provided", type: "invalid_request_error", code: "invalid_api_key" } } });
    const mission = missionMarkdown("Solo", ["Market Brief"], [{ title: "Write", lead: "analyst", deliverables: ["Summary"] }]);
    const cwd = runProject({ mission, agents: { analyst: {} }, inputs: { "market-brief": GROWTH_INPUTS["market-brief"] } });
    const r = await runCli(["run", "test-mission", "--inputs", "inputs", "--run-id", "auth"], { cwd, env: providerEnv(server, "sk-wrong") });
    expect(r.code).toBe(2);
    const errorLines = r.stderr.split("\n").filter((l) => l.startsWith("coord:"));
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toContain("refused the API key (HTTP 401)");
    expect(errorLines[0]).toContain("set OPENAI_API_KEY");
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(server.requests).toHaveLength(1);
    const resumed = await runCli(["resume", "auth", "--json"], { cwd, env: providerEnv(server) });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout).status).toBe("completed");
  });

  it("names the model and provider when the server does not know the model (404)", async () => {
    server = await startFakeOpenAI();
    server.failures.push({ status: 404, body: { error: { message: "The model `gpt-9` does not exist", type: "invalid_request_error", code: "model_not_found" } } });
    const mission = missionMarkdown("Solo", ["Market Brief"], [{ title: "Write", lead: "analyst", deliverables: ["Summary"] }]);
    const cwd = runProject({ mission, agents: { analyst: {} }, inputs: { "market-brief": GROWTH_INPUTS["market-brief"] } });
    const r = await runCli(["run", "test-mission", "--inputs", "inputs", "--model", "openai:gpt-9", "--run-id", "unknown"], { cwd, env: providerEnv(server) });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('openai does not know model "gpt-9" (HTTP 404)');
    expect(server.requests).toHaveLength(1);
  });

  it("fails before any step when the provider's key is not set", async () => {
    const cwd = runProject({ mission: GROWTH_PLAN, agents: AGENTS, inputs: GROWTH_INPUTS });
    const r = await runCli(["run", "test-mission", "--inputs", "inputs", "--model", "anthropic:claude-haiku-4-5", "--run-id", "nokey"], { cwd, env: { ANTHROPIC_API_KEY: undefined } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("needs ANTHROPIC_API_KEY");
    expect(existsSync(join(cwd, "runs", "nokey"))).toBe(false);
  });

  it("gives agents with tools a file reader confined to the project and inputs", async () => {
    server = await startFakeOpenAI();
    // The researcher reads an input, then tries to leave the project twice: by ../ and by a symlink.
    server.toolCalls = (body) =>
      body.messages.some((m) => m.role === "tool")
        ? undefined
        : [
            { name: "read", args: { path: "inputs/market-brief.md" } },
            { name: "read", args: { path: "../../../../etc/hostname" } },
            { name: "read", args: { path: "escape/hostname" } },
          ];
    const mission = missionMarkdown("Tools", ["Market Brief"], [{ title: "Look", lead: "analyst", support: ["researcher"], deliverables: ["Findings"] }]);
    const cwd = runProject({ mission, agents: { analyst: {}, researcher: {} }, inputs: { "market-brief": GROWTH_INPUTS["market-brief"] } });
    writeFileSync(join(cwd, "agents", "researcher.md"), agentMarkdown("researcher").replace("capabilities: [testing]", "capabilities: [testing]\ntools: Read, Grep"));
    symlinkSync("/etc", join(cwd, "escape"));
    const r = await runCli(["run", "test-mission", "--inputs", "inputs", "--run-id", "tools"], { cwd, env: providerEnv(server) });
    expect(r.code, r.stderr).toBe(0);
    const toolTurn = server.requests.find((q) => q.body.messages.some((m) => m.role === "tool"))!;
    const results = toolTurn.body.messages.filter((m) => m.role === "tool").map((m) => m.content ?? "");
    expect(results[0]).toContain("Onboarding takes 23 days");
    expect(results[1]).toMatch(/^Error: refused: .* is outside the folders/);
    expect(results[2]).toMatch(/^Error: refused: escape\/hostname is outside the folders/);
    const offered = server.requests[0]!.body.tools?.map((t) => t.function.name).sort();
    expect(offered).toEqual(["grep", "read"]);
    expect(readFileSync(join(cwd, "runs", "tools", "notes", "p1-researcher.md"), "utf8")).toContain("Onboarding takes 23 days");
  });

  it("gives an agent the tools of an MCP server from .mcp.json, named mcp__server__tool", async () => {
    server = await startFakeOpenAI();
    server.toolCalls = (body) => (body.messages.some((m) => m.role === "tool") ? undefined : [{ name: "mcp__glossary__define", args: { term: "MQL" } }]);
    const mission = missionMarkdown("Terms", ["Market Brief"], [{ title: "Look", lead: "analyst", support: ["researcher"], deliverables: ["Findings"] }]);
    const cwd = runProject({ mission, agents: { analyst: {}, researcher: {} }, inputs: { "market-brief": GROWTH_INPUTS["market-brief"] } });
    writeFileSync(join(cwd, "agents", "researcher.md"), agentMarkdown("researcher").replace("capabilities: [testing]", "capabilities: [testing]\ntools: mcp__glossary__define"));
    const serverScript = join(REPO, "test", "fixtures", "mcp", "glossary-server.mjs");
    writeFileSync(join(cwd, ".mcp.json"), JSON.stringify({ mcpServers: { glossary: { command: process.execPath, args: [serverScript] } } }));
    const r = await runCli(["run", "test-mission", "--inputs", "inputs", "--run-id", "mcp"], { cwd, env: providerEnv(server) });
    expect(r.code, r.stderr).toBe(0);
    expect(server.requests[0]!.body.tools?.map((t) => t.function.name)).toEqual(["mcp__glossary__define"]);
    const toolTurn = server.requests.find((q) => q.body.messages.some((m) => m.role === "tool"))!;
    expect(toolTurn.body.messages.find((m) => m.role === "tool")?.content).toContain("Marketing Qualified Lead");
  });

  it("records a run and replays it with the server stopped, byte for byte", async () => {
    server = await startFakeOpenAI();
    const cwd = runProject({ mission: GROWTH_PLAN, agents: AGENTS, inputs: GROWTH_INPUTS });
    const recorded = await runCli(["run", "test-mission", "--inputs", "inputs", "--run-id", "rec", "--record", "rec.json"], { cwd, env: providerEnv(server) });
    expect(recorded.code, recorded.stderr).toBe(0);
    const served = server.requests.length;
    await server.close();
    server = undefined;
    const env = { OPENAI_API_KEY: undefined, COORD_BASE_URL: undefined, COORD_MODEL: "openai:gpt-4o-mini" };
    const replayed = await runCli(["run", "test-mission", "--inputs", "inputs", "--run-id", "rep", "--replay", "rec.json"], { cwd, env });
    expect(replayed.code, replayed.stderr).toBe(0);
    const files = (id: string) => {
      const dir = join(cwd, "runs", id, "deliverables");
      return Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), "utf8")]));
    };
    expect(files("rep")).toEqual(files("rec"));
    expect(Object.keys(JSON.parse(readFileSync(join(cwd, "rec.json"), "utf8")).entries)).toHaveLength(served);

    // A changed input is a request the recording never saw: a clear failure, not a provider call.
    writeFileSync(join(cwd, "inputs", "sales-notes.md"), "Deals now close in 30 days.\n");
    const changed = await runCli(["run", "test-mission", "--inputs", "inputs", "--run-id", "rep2", "--replay", "rec.json"], { cwd, env });
    expect(changed.code).toBe(1);
    expect(changed.stderr, changed.stderr).toContain("no recorded answer for a openai:gpt-4o-mini request");
  });
});

describe("the crash window after a paid call", () => {
  it("resumes a run killed in a step's post hook by redoing only the hook, never the answered model call", async () => {
    server = await startFakeOpenAI();
    const block = 'if [ "$COORD_PHASE" = 1 ] && [ ! -f go ]; then echo $$ > blocked; sleep 30; fi';
    const cwd = runProject({ mission: GROWTH_PLAN, agents: { analyst: {}, researcher: { post: block }, seller: {}, planner: {} }, inputs: GROWTH_INPUTS });
    // The researcher's model call was answered before its post hook started, and is saved.
    await killWhileHookStalls(cwd, ["run", "test-mission", "--inputs", "inputs", "--run-id", "window"], providerEnv(server));
    const resumed = await runCli(["resume", "window", "--json"], { cwd, env: providerEnv(server) });
    expect(resumed.code, resumed.stderr).toBe(0);
    const crashedCalls = server.requests.length;

    const clean = await runCli(["run", "test-mission", "--inputs", "inputs", "--run-id", "clean", "--json"], { cwd, env: providerEnv(server) });
    expect(clean.code, clean.stderr).toBe(0);
    expect(crashedCalls).toBe(server.requests.length - crashedCalls);
    const researcherCalls = server.requests.slice(0, crashedCalls).filter((q) => agentOfRequest(q.body, Object.keys(AGENTS)) === "researcher");
    expect(researcherCalls).toHaveLength(2);
  }, 120_000);
});

describe("prompt caching, as a provider reports it", () => {
  it("records the input the provider read from its cache, prices it at the cached rate, and says what that saved", async () => {
    server = await startFakeOpenAI({ promptCache: true });
    const cwd = runProject({ mission: GROWTH_PLAN, agents: AGENTS, inputs: GROWTH_INPUTS });
    const r = await runCli(["run", "test-mission", "--inputs", "inputs", "--run-id", "cached", "--json"], { cwd, env: providerEnv(server) });
    expect(r.code, r.stderr).toBe(0);
    const record = JSON.parse(r.stdout) as { usage: { inputTokens: number; cacheReadTokens?: number; costUsd: number; cacheSavedUsd?: number } };
    const cached = server.requests.reduce((n, q) => n + (q.usage?.prompt_tokens_details?.cached_tokens ?? 0), 0);
    const input = server.requests.reduce((n, q) => n + q.usage!.prompt_tokens, 0);
    expect(cached).toBeGreaterThan(0);
    expect(record.usage.cacheReadTokens).toBe(cached);
    expect(record.usage.inputTokens).toBe(input);
    // gpt-4o-mini bills cached input at half price: what was saved is half the cached input's full price.
    expect(record.usage.cacheSavedUsd).toBeCloseTo((cached * (0.15 - 0.075)) / 1e6, 12);
    const report = readFileSync(join(cwd, "runs", "cached", "report.md"), "utf8");
    expect(report).toMatch(new RegExp(`Prompt cache: ${cached} input tokens read from the provider's cache \\(\\d+% of input\\); caching saved \\$0\\.\\d{4}`));
  });
});

describe("success criteria judged over HTTP", () => {
  it("keeps a judge's true quotes, drops the invented ones (not_met, no evidence found), and coord check judges again", async () => {
    server = await startFakeOpenAI();
    // A judge that backs criterion 1 with a sentence the lead really wrote, and criterion 2 with one it did not.
    server.toolCalls = (req) =>
      req.tools?.some((t) => t.function.name === "judge_criteria")
        ? [{ name: "judge_criteria", args: { verdicts: [
            { criterion: 1, verdict: "met", evidence: [{ phase: 1, deliverable: "Summary", quote: "Server draft of Summary" }], missing: "" },
            { criterion: 2, verdict: "met", evidence: [{ phase: 1, deliverable: "Summary", quote: "Revenue tripled in a quarter." }], missing: "" },
          ] } }]
        : undefined;
    const mission = missionMarkdown("Solo", ["Market Brief"], [{ title: "Write", lead: "analyst", deliverables: ["Summary"] }]).replace("- [ ] Everything delivered", "- [ ] A summary is written\n- [ ] Revenue growth is proven");
    const cwd = runProject({ mission, agents: { analyst: {} }, inputs: { "market-brief": GROWTH_INPUTS["market-brief"] } });
    const r = await runCli(["run", "test-mission", "--inputs", "inputs", "--run-id", "judged", "--json"], { cwd, env: providerEnv(server) });
    expect(r.code, r.stderr).toBe(0);
    const record = JSON.parse(r.stdout) as { criteria: Array<{ text: string; verdict: string; evidence: unknown[]; missing: string }>; criteriaJudge: string; criteriaCalls: unknown[] };
    expect(record.criteriaJudge).toBe("openai:gpt-4o-mini");
    expect(record.criteria).toEqual([
      { text: "A summary is written", verdict: "met", phase: null, evidence: [{ phase: 1, deliverable: "Summary", quote: "Server draft of Summary" }], missing: "" },
      { text: "Revenue growth is proven", verdict: "not_met", phase: null, evidence: [], missing: "no evidence found" },
    ]);
    expect(record.criteriaCalls).toHaveLength(1);
    const report = readFileSync(join(cwd, "runs", "judged", "report.md"), "utf8");
    expect(report).toContain('- [x] A summary is written\n  - Phase 1, Summary: "Server draft of Summary"');
    expect(report).toContain("- [ ] Revenue growth is proven\n  - Missing: no evidence found");
    const shown = await runCli(["runs", "show", "judged"], { cwd });
    expect(shown.stdout.trim().split("\n").at(-1)).toBe("criteria: 1 met, 0 partly, 1 not met");

    // Judged again offline, no agent runs: the server sees nothing more, and the record says who judged.
    const before = server.requests.length;
    const checked = await runCli(["check", "judged", "--judge-model", "offline", "--json"], { cwd, env: providerEnv(server) });
    expect(checked.code, checked.stderr).toBe(0);
    expect(server.requests).toHaveLength(before);
    const rechecked = JSON.parse(checked.stdout) as { criteriaJudge: string; criteriaCalls: unknown[]; criteria: Array<{ verdict: string }> };
    expect(rechecked.criteriaJudge).toBe("offline");
    expect(rechecked.criteriaCalls).toHaveLength(2);
    expect(readFileSync(join(cwd, "runs", "judged", "report.md"), "utf8")).toContain("checked by coord's offline check (term overlap with the deliverables, not an LLM's judgement)");
    // A run that did not complete is not checked.
    const missing = await runCli(["check", "no-such-run"], { cwd });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no run "no-such-run"');
  });

  it("coord check sends the judge the very request the run's own check sent: the run's inputs and deliverables, then the criteria", async () => {
    server = await startFakeOpenAI();
    const mission = missionMarkdown("Solo", ["Market Brief"], [{ title: "Write", lead: "analyst", deliverables: ["Summary"] }]);
    const cwd = runProject({ mission, agents: { analyst: {} }, inputs: { "market-brief": GROWTH_INPUTS["market-brief"] } });
    const judgeRequests = () => server!.requests.filter((q) => q.body.tools?.some((t) => t.function.name === "judge_criteria")).map((q) => q.body.messages);
    const r = await runCli(["run", "test-mission", "--inputs", "inputs", "--run-id", "again", "--quiet"], { cwd, env: providerEnv(server) });
    expect(r.code, r.stderr).toBe(0);
    const checked = await runCli(["check", "again", "--json"], { cwd, env: providerEnv(server) });
    expect(checked.code, checked.stderr).toBe(0);
    const [inRun, inCheck] = judgeRequests();
    expect(JSON.stringify(inRun)).toContain(GROWTH_INPUTS["market-brief"]!.split("\n")[0]);
    expect(inCheck).toEqual(inRun);
  });
});
