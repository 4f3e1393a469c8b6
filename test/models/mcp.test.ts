import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAgent } from "../../src/definitions/agent.js";
import type { Agent } from "../../src/definitions/schemas/agent.js";
import { connectMcp, toolResultText, wantedServers, type McpServerConfig } from "../../src/models/mcp.js";
import { FIXTURES, tempDir } from "../definitions/fixtures.js";
import { rejection } from "../helpers/errors.js";

function agent(name: string, tools: string[]): Agent {
  const text = `---\nname: ${name}\ndescription: ${name} for tests\ntools: ${JSON.stringify(tools)}\n---\n\nYou are ${name}.\n`;
  return parseAgent(text, `agents/${name}.md`).agent!;
}

const GLOSSARY: McpServerConfig = { command: process.execPath, args: [join(FIXTURES, "mcp", "glossary-server.mjs")] };
const SERVERS: Record<string, McpServerConfig> = { docs: { command: "docs-server" }, my_wiki: { url: "https://wiki.example/mcp" }, glossary: GLOSSARY };

/** wantedServers as a plain object: server -> "all" or its sorted tool names. */
function wanted(tools: string[], servers = SERVERS): Record<string, string | string[]> {
  return Object.fromEntries([...wantedServers(agent("a", tools), servers)].map(([server, want]) => [server, want === "all" ? want : [...want].sort()]));
}

describe("wantedServers", () => {
  it("reads mcp__server__tool as one tool, and mcp__server or the bare server name as all of its tools", () => {
    expect(wanted(["mcp__docs__lookup", "mcp__docs__search"])).toEqual({ docs: ["lookup", "search"] });
    expect(wanted(["mcp__docs"])).toEqual({ docs: "all" });
    expect(wanted(["docs"])).toEqual({ docs: "all" });
  });

  it("lets a whole-server entry win over single tools of the same server, in either order", () => {
    expect(wanted(["mcp__docs__lookup", "mcp__docs"])).toEqual({ docs: "all" });
    expect(wanted(["docs", "mcp__docs__lookup"])).toEqual({ docs: "all" });
  });

  it("allows single underscores in server names, splitting at the first double underscore", () => {
    expect(wanted(["mcp__my_wiki__page_get"])).toEqual({ my_wiki: ["page_get"] });
  });

  it("ignores servers the project does not configure, file tools, and names that only look like object keys", () => {
    expect(wanted(["mcp__jira__create", "jira", "Read", "grep", "constructor", "mcp__constructor", "__proto__"])).toEqual({});
    expect(wanted(["mcp__docs__lookup"], {})).toEqual({});
  });
});

describe("toolResultText", () => {
  it("turns a string, a list of text parts or any other value into text", () => {
    expect(toolResultText("plain")).toBe("plain");
    expect(toolResultText([{ type: "text", text: "one" }, "two", { type: "image", data: "x" }])).toBe('one\ntwo\n{"type":"image","data":"x"}');
    expect(toolResultText({ ok: true })).toBe('{"ok":true}');
  });
});

describe("connectMcp", () => {
  it("starts nothing when no agent asks for a server, even one whose command does not exist", async () => {
    const mcp = await connectMcp([agent("writer", ["Read"])], { broken: { command: join(tempDir("coord-mcp-"), "no-such-server") } }, {});
    expect(mcp.forAgent(agent("writer", ["Read"]))).toEqual([]);
    await mcp.close();
  });

  it("fails with MCP_FAILED naming the server when its command does not exist", async () => {
    const missing = join(tempDir("coord-mcp-"), "no-such-server");
    const error = await rejection(connectMcp([agent("researcher", ["mcp__broken__lookup"])], { broken: { command: missing } }, {}));
    expect(error.code).toBe("MCP_FAILED");
    expect(error.message).toMatch(/^could not start MCP server\(s\) broken: /);
    expect(error.hint).toContain(".mcp.json");
  });

  it("gives each agent the tools it listed from a running server, named mcp__server__tool, and they answer", async () => {
    const researcher = agent("researcher", ["mcp__glossary__define"]);
    const wholeServer = agent("analyst", ["glossary"]);
    const otherTool = agent("seller", ["mcp__glossary__translate"]);
    const none = agent("writer", ["Read"]);
    const mcp = await connectMcp([researcher, wholeServer, otherTool, none], { glossary: GLOSSARY, unused: { command: "never-started" } }, { PATH: process.env.PATH });
    try {
      expect(mcp.forAgent(researcher).map((t) => t.name)).toEqual(["mcp__glossary__define"]);
      expect(mcp.forAgent(wholeServer).map((t) => t.name)).toEqual(["mcp__glossary__define"]);
      expect(mcp.forAgent(otherTool)).toEqual([]);
      expect(mcp.forAgent(none)).toEqual([]);
      const answer = toolResultText(await mcp.forAgent(researcher)[0]!.invoke({ term: "mql" }));
      expect(answer).toContain("Marketing Qualified Lead");
    } finally {
      await mcp.close();
    }
  });
});
