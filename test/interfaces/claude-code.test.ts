import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterEach, describe, expect, it } from "vitest";
import { runCli, tempProject } from "../helpers/cli.js";
import { missionMarkdown, runProject } from "../helpers/project.js";
import { callText, connectMcp } from "./mcp-client.js";

const MISSION = missionMarkdown("Claude Plan", ["Brief", "Notes"], [{ title: "Plan", lead: "planner", deliverables: ["Plan outline"] }]);
const COMMAND_FILE = join(".claude", "commands", "coord.md");

let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
});

/**
 * What Claude Code does with a command file: the frontmatter is settings, $ARGUMENTS becomes what
 * the user typed after /coord, and every !`...` span is run by bash before Claude reads the text.
 */
function expandCommandFile(file: string, args: string): { prompt: string; bashSpans: string[] } {
  const body = file.replace(/^---\n[\s\S]*?\n---\n/, "");
  const prompt = body.replaceAll("$ARGUMENTS", args);
  return { prompt, bashSpans: [...prompt.matchAll(/!`([^`]*)`/g)].map((m) => m[1]!) };
}

/** Runs the spans as Claude Code would, in the project. */
function runBashSpans(spans: string[], cwd: string): void {
  for (const span of spans) spawnSync("bash", ["-c", span], { cwd, timeout: 10_000 });
}

const pwned = (cwd: string) => readdirSync(cwd).filter((f) => f.startsWith("PWNED"));

describe("coord install claude-code", () => {
  it("writes a /coord command that runs no shell, and registers coord mcp in .mcp.json next to existing servers", async () => {
    const cwd = tempProject({ ".mcp.json": JSON.stringify({ mcpServers: { docs: { command: "docs-server", args: ["--stdio"] } } }) });
    const r = await runCli(["install", "claude-code"], { cwd });
    expect(r.code, r.stderr).toBe(0);
    const command = readFileSync(join(cwd, COMMAND_FILE), "utf8");
    expect(command).toMatch(/^---\ndescription: /);
    expect(command).toContain("allowed-tools: mcp__coord__slash\n");
    expect(command).not.toMatch(/!`/);
    expect(command).toContain("/coord $ARGUMENTS");
    const mcp = JSON.parse(readFileSync(join(cwd, ".mcp.json"), "utf8")) as { mcpServers: Record<string, { command: string; args: string[] }> };
    expect(mcp.mcpServers.docs).toEqual({ command: "docs-server", args: ["--stdio"] });
    // npx must be told the package: `npx coord` alone fetches an unrelated package named coord.
    expect(mcp.mcpServers.coord!.command).toBe("npx");
    expect(mcp.mcpServers.coord!.args.join(" ")).toMatch(/-p coord-missions coord mcp$/);

    // Idempotent: a second install changes nothing.
    const again = await runCli(["install", "claude-code"], { cwd });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("already installed");
    expect(readFileSync(join(cwd, ".mcp.json"), "utf8")).toBe(`${JSON.stringify(mcp, null, 2)}\n`);
  });

  it("keeps a different command file or coord server unless --force, and installs into nothing else", async () => {
    const cwd = tempProject({ [COMMAND_FILE]: "my own /coord\n" });
    const refused = await runCli(["install", "claude-code"], { cwd });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("exists and differs");
    expect(refused.stderr).toContain("--force");
    // Nothing is written when either file is refused.
    expect(existsSync(join(cwd, ".mcp.json"))).toBe(false);
    expect((await runCli(["install", "claude-code", "--force"], { cwd })).code).toBe(0);
    expect(readFileSync(join(cwd, COMMAND_FILE), "utf8")).not.toBe("my own /coord\n");

    writeFileSync(join(cwd, ".mcp.json"), JSON.stringify({ mcpServers: { coord: { command: "node", args: ["bin/coord.js", "mcp"] } } }));
    const server = await runCli(["install", "claude-code"], { cwd });
    expect(server.code).toBe(2);
    expect(server.stderr).toContain('already has a different "coord" server');
    expect((await runCli(["install", "claude-code"], { cwd: tempProject({ ".mcp.json": "{ not json" }) })).code).toBe(2);
    expect((await runCli(["install", "vscode"], { cwd })).code).toBe(2);
  });

  it("passes hostile arguments verbatim, as Claude Code would, to the real coord mcp's slash tool: nothing runs in a shell", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: { pre: "touch PWNED-HOOK" } }, inputs: {} });
    expect((await runCli(["install", "claude-code"], { cwd })).code).toBe(0);
    const commandFile = readFileSync(join(cwd, COMMAND_FILE), "utf8");
    const c = (client = await connectMcp(cwd));

    // The arguments of the issue: the old `!` line broke on the quotes and ran $(...).
    const hostile = 'sales-marketing-alignment marketing-framework="Webinars and SEO" x=$(touch PWNED) y=`touch PWNED2`; touch PWNED3 | cat';
    const first = expandCommandFile(commandFile, hostile);
    expect(first.bashSpans).toEqual([]);
    runBashSpans(first.bashSpans, cwd);
    expect(first.prompt).toContain(`/coord ${hostile}\n`);
    const malformed = await callText(c, "slash", { text: `/coord ${hostile}` });
    // The text arrived as typed: $(touch is a word of it, not a command's output.
    expect(malformed.text).toContain('"PWNED)" is not key=value');
    expect(pwned(cwd)).toEqual([]);

    // The same tricks inside quoted values reach the mission as text, each value whole.
    const quoted = 'test-mission brief="Webinars and SEO" notes="$(touch PWNED) `touch PWNED2`; touch PWNED3 | cat"';
    const second = expandCommandFile(commandFile, quoted);
    expect(second.bashSpans).toEqual([]);
    expect(second.prompt).toContain(`/coord ${quoted}\n`);
    const run = await callText(c, "slash", { text: `/coord ${quoted}` });
    expect(run.text).toContain("✅ completed");
    const runId = /run `([^`]+)`/.exec(run.text)![1]!;
    const spec = JSON.parse(readFileSync(join(cwd, ".coord", "runs", `${runId}.json`), "utf8")) as { inputs: Record<string, string> };
    expect(spec.inputs).toEqual({ brief: "Webinars and SEO", notes: "$(touch PWNED) `touch PWNED2`; touch PWNED3 | cat" });
    // Nor did an agent hook run: the MCP surface is not trusted.
    expect(pwned(cwd)).toEqual([]);
  });
});
