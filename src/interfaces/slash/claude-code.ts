import { CoordError } from "../../errors.js";
import { PACKAGE_NAME } from "../../package.js";

/**
 * `/coord` inside Claude Code. Claude Code pastes the user's arguments into a command file where
 * it says $ARGUMENTS; in a `!` shell line quotes would break and `$(...)` would run. So the file
 * runs nothing: it asks Claude to hand the text, verbatim, to the `slash` tool of coord's own MCP
 * server (registered in the project's `.mcp.json`), which parses it as every chat surface does.
 */
export const CLAUDE_COMMAND_PATH = ".claude/commands/coord.md";
export const MCP_JSON_PATH = ".mcp.json";

/** How Claude Code starts `coord mcp`: no shell, the arguments as a list. */
// `npx coord` alone would fetch an unrelated package named coord where coord-missions is not
// installed; naming the package makes npx use the local install, or the right one.
export const COORD_MCP_SERVER = { command: "npx", args: ["-y", "-p", PACKAGE_NAME, "coord", "mcp"] } as const;

export const CLAUDE_COMMAND = `---
description: Run a coord mission, or list missions and manage runs (help, list, status, approve, reject)
argument-hint: MISSION [--approve] [key=value ...] | help | list | status RUN_ID | approve RUN_ID [note] | reject RUN_ID note
allowed-tools: mcp__coord__slash
---

Call the \`slash\` tool of the \`coord\` MCP server (mcp__coord__slash) once, with its \`text\` set to
the line between <coord-command> and </coord-command> below, verbatim: keep every character as
written, quotes, backticks, dollar signs and semicolons included. Do not run it in a shell, and do
not quote, escape, complete or correct it.

<coord-command>
/coord $ARGUMENTS
</coord-command>

Show the tool's reply to the user as it is. If a run paused for approval, summarise the phase's
deliverables from its report and ask whether to approve it (/coord approve RUN_ID) or what to
change (/coord reject RUN_ID note).
`;

type McpJson = { mcpServers?: Record<string, unknown> } & Record<string, unknown>;

function sameServer(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The project's `.mcp.json` with coord's server in it, every other server and key kept; or
 * undefined when it is there already. A different `coord` entry is replaced only with `force`.
 */
export function withCoordServer(current: string | undefined, force: boolean): string | undefined {
  let json: McpJson = {};
  if (current !== undefined && current.trim()) {
    try {
      json = JSON.parse(current) as McpJson;
    } catch (cause) {
      throw new CoordError("CONFIG_INVALID", `not valid JSON: ${(cause as Error).message}`, { file: MCP_JSON_PATH, hint: "fix its JSON syntax, then install again", cause });
    }
    if (!json || typeof json !== "object" || Array.isArray(json) || (json.mcpServers !== undefined && (typeof json.mcpServers !== "object" || Array.isArray(json.mcpServers)))) {
      throw new CoordError("CONFIG_INVALID", 'is not { "mcpServers": { ... } }', { file: MCP_JSON_PATH, hint: "fix the file, then install again" });
    }
  }
  const existing = json.mcpServers?.coord;
  if (sameServer(existing, COORD_MCP_SERVER)) return undefined;
  if (existing !== undefined && !force) {
    throw new CoordError("USAGE", 'already has a different "coord" server', { file: MCP_JSON_PATH, hint: "pass --force to replace it" });
  }
  return `${JSON.stringify({ ...json, mcpServers: { ...json.mcpServers, coord: COORD_MCP_SERVER } }, null, 2)}\n`;
}

/** The command file to write, or undefined when it is there already; a different one only with `force`. */
export function claudeCommandUpdate(current: string | undefined, force: boolean): string | undefined {
  if (current === CLAUDE_COMMAND) return undefined;
  if (current !== undefined && !force) {
    throw new CoordError("USAGE", "exists and differs from the one coord installs", { file: CLAUDE_COMMAND_PATH, hint: "pass --force to overwrite it" });
  }
  return CLAUDE_COMMAND;
}
