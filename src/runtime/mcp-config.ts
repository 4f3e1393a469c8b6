import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { CoordError } from "../errors.js";
import type { McpServerConfig } from "../models/mcp.js";

/** `.mcp.json`, the file Claude Code projects already have: `{ "mcpServers": { name: { command, args, env } } }`. */
export const McpFileSchema = z.object({
  mcpServers: z.record(
    z.string(),
    z.object({
      type: z.enum(["stdio", "http", "sse"]).optional(),
      command: z.string().optional(),
      args: z.array(z.string()).optional(),
      env: z.record(z.string(), z.string()).optional(),
      url: z.string().optional(),
      headers: z.record(z.string(), z.string()).optional(),
    }),
  ),
});

/** The project's MCP servers, read fresh at each run and resume (the file may hold tokens, so runs don't copy it). */
export function readMcpServers(cwd: string): Record<string, McpServerConfig> {
  const file = join(cwd, ".mcp.json");
  if (!existsSync(file)) return {};
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (cause) {
    throw new CoordError("INPUT_INVALID", `.mcp.json is not valid JSON: ${(cause as Error).message}`, { file, hint: "fix the JSON syntax", cause });
  }
  const parsed = McpFileSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CoordError("INPUT_INVALID", `.mcp.json: ${issue.path.join(".") || "(root)"}: ${issue.message}`, { file, hint: 'write { "mcpServers": { "name": { "command": "...", "args": [] } } }' });
  }
  return parsed.data.mcpServers as Record<string, McpServerConfig>;
}
