import { join } from "node:path";
import { z } from "zod";
import { readJsonConfig } from "../files.js";
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
  const file = readJsonConfig(join(cwd, ".mcp.json"), McpFileSchema, '{ "mcpServers": { "name": { "command": "...", "args": [] } } }');
  return (file?.mcpServers ?? {}) as Record<string, McpServerConfig>;
}
