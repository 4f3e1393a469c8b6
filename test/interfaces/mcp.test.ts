import { existsSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterEach, describe, expect, it } from "vitest";
import { BIN, runCoord } from "../helpers/cli.js";
import { missionMarkdown, runProject } from "../helpers/project.js";

const MISSION = missionMarkdown("Mcp Plan", ["Brief", "Market Notes"], [{ title: "Plan", lead: "planner", deliverables: ["Plan outline"] }]);

let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
});

/** The SDK's own client, talking to `coord mcp` in a real subprocess over stdio. */
async function connect(cwd: string): Promise<Client> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, "mcp"], cwd, env: { ...(process.env as Record<string, string>), NO_COLOR: "1" }, stderr: "pipe" });
  client = new Client({ name: "coord-test", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

type TextContent = Array<{ type: string; text: string }>;

describe("coord mcp", () => {
  it("offers every mission as a prompt with its inputs as arguments", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: {} }, inputs: {} });
    const c = await connect(cwd);
    const { prompts } = await c.listPrompts();
    const mine = prompts.find((p) => p.name === "test-mission")!;
    expect(mine.arguments?.map((a) => [a.name, a.required])).toEqual([
      ["brief", true],
      ["market-notes", true],
    ]);
    expect(prompts.map((p) => p.name)).toEqual(expect.arrayContaining(["sales-marketing-alignment", "cross-channel-message-sync"]));
    const prompt = await c.getPrompt({ name: "test-mission", arguments: { brief: "Grow onboarding", "market-notes": "Churn 14%" } });
    const text = (prompt.messages[0]!.content as { text: string }).text;
    expect(text).toContain("run_mission");
    expect(text).toContain("Grow onboarding");
  });

  it("lists missions, runs one, reads its record and approves a paused run through tools", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: { pre: "touch hook-ran" } }, inputs: {} });
    const c = await connect(cwd);
    expect((await c.listTools()).tools.map((t) => t.name).sort()).toEqual(["approve_run", "get_run", "list_missions", "run_mission"]);
    const listed = JSON.parse(((await c.callTool({ name: "list_missions", arguments: {} })).content as TextContent)[0]!.text) as Array<{ id: string }>;
    expect(listed.map((m) => m.id)).toContain("test-mission");

    const run = await c.callTool({ name: "run_mission", arguments: { mission: "test-mission", inputs: { brief: "Grow onboarding", "market-notes": "Churn 14%" } } });
    const report = (run.content as TextContent)[0]!.text;
    expect(run.isError).toBeFalsy();
    expect(report).toMatch(/^run (test-mission-[\w-]+): completed/);
    expect(report).toContain("### Plan outline");
    expect(existsSync(`${cwd}/hook-ran`)).toBe(false);
    const runId = /^run (\S+):/.exec(report)![1]!;
    const record = JSON.parse(((await c.callTool({ name: "get_run", arguments: { runId } })).content as TextContent)[0]!.text) as { status: string };
    expect(record.status).toBe("completed");

    const missing = await c.callTool({ name: "run_mission", arguments: { mission: "test-mission", inputs: {} } });
    expect(missing.isError).toBe(true);
    expect((missing.content as TextContent)[0]!.text).toContain("missing required inputs: brief, market-notes");
    const notPaused = await c.callTool({ name: "approve_run", arguments: { runId } });
    expect(notPaused.isError).toBe(true);
    expect((notPaused.content as TextContent)[0]!.text).toContain("not waiting for approval");

    // A run paused for approval elsewhere (the CLI's --approve) is approved from the chat client.
    const paused = runCoord(["run", "test-mission", "--input", "brief=Grow", "--input", "market-notes=Churn", "--approve", "--run-id", "gated", "--no-hooks"], { cwd });
    expect(paused.code).toBe(3);
    const approved = await c.callTool({ name: "approve_run", arguments: { runId: "gated", note: "fine" } });
    expect((approved.content as TextContent)[0]!.text).toMatch(/^run gated: completed/);
  });
});
