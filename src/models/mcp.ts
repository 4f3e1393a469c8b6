import type { StructuredToolInterface } from "@langchain/core/tools";
import { CoordError } from "../errors.js";
import type * as z from "zod";
import type { Agent } from "../definitions/schemas/agent.js";
import type { McpServerSchema } from "../definitions/schemas/settings.js";

/** One MCP server as Claude Code's `.mcp.json` writes it: a command over stdio, or a URL. */
export type McpServerConfig = z.infer<typeof McpServerSchema>;

/**
 * The MCP servers an agent asks for: `mcp__docs__lookup` (one tool), `mcp__docs` or `docs`
 * (every tool of server docs), for servers the project configures.
 */
export function wantedServers(agent: Agent, servers: Record<string, McpServerConfig>): Map<string, Set<string> | "all"> {
  const wanted = new Map<string, Set<string> | "all">();
  for (const name of agent.tools) {
    const match = /^mcp__([^_](?:.*?[^_])?)(?:__(.+))?$/.exec(name);
    const server = match?.[1] ?? (Object.hasOwn(servers, name) ? name : undefined);
    if (!server || !Object.hasOwn(servers, server)) continue;
    const tool = match?.[2];
    const current = wanted.get(server);
    if (!tool) wanted.set(server, "all");
    else if (current !== "all") wanted.set(server, new Set([...(current ?? []), tool]));
  }
  return wanted;
}

/** Text of a tool result, whatever shape the MCP server returned. */
export function toolResultText(result: unknown): string {
  if (typeof result === "string") return result;
  if (Array.isArray(result)) return result.map((part) => (typeof part === "string" ? part : (part as { text?: string })?.text ?? JSON.stringify(part))).join("\n");
  return JSON.stringify(result);
}

export interface McpTools {
  forAgent(agent: Agent): StructuredToolInterface[];
  close(): Promise<void>;
}

/**
 * Starts only the servers that the run's agents ask for, through @langchain/mcp-adapters, and
 * hands each agent the tools it listed. Tools are named `mcp__server__tool`, as in Claude Code.
 */
export async function connectMcp(agents: Agent[], servers: Record<string, McpServerConfig>, env: Record<string, string | undefined>): Promise<McpTools> {
  const perAgent = new Map(agents.map((a) => [a.name, wantedServers(a, servers)]));
  const needed = new Set([...perAgent.values()].flatMap((w) => [...w.keys()]));
  if (needed.size === 0) return { forAgent: () => [], close: async () => {} };
  const { MultiServerMCPClient } = await import("@langchain/mcp-adapters");
  const connections = Object.fromEntries(
    [...needed].map((name) => {
      const s = servers[name]!;
      return [name, s.url ? { transport: s.type === "sse" ? ("sse" as const) : ("http" as const), url: s.url, ...(s.headers && { headers: s.headers }) } : { transport: "stdio" as const, command: s.command ?? "", args: s.args ?? [], ...(s.env && { env: { ...(env as Record<string, string>), ...s.env } }) }];
    }),
  );
  const client = new MultiServerMCPClient({ mcpServers: connections, throwOnLoadError: true, prefixToolNameWithServerName: true, additionalToolNamePrefix: "mcp" } as never);
  let tools: StructuredToolInterface[];
  try {
    tools = (await client.getTools()) as StructuredToolInterface[];
  } catch (cause) {
    await client.close().catch(() => {});
    throw new CoordError("MCP_FAILED", `could not start MCP server(s) ${[...needed].join(", ")}: ${(cause as Error).message.split("\n")[0]}`, {
      hint: "check the server's command in .mcp.json (or coord.config.json mcpServers) runs on its own",
      cause,
    });
  }
  return {
    forAgent(agent) {
      const wanted = perAgent.get(agent.name);
      if (!wanted?.size) return [];
      return tools.filter((t) => {
        const [, server, name] = /^mcp__(.+?)__(.+)$/.exec(t.name) ?? [];
        const want = server ? wanted.get(server) : undefined;
        return want === "all" || (want instanceof Set && !!name && want.has(name));
      });
    },
    close: () => client.close(),
  };
}
