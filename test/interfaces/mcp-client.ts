import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { BIN, cliEnv } from "../helpers/cli.js";

/** The SDK's own client, talking to `coord mcp` in a real subprocess over stdio, as Claude Code does (`bin`: another checkout's). */
export async function connectMcp(cwd: string, env: Record<string, string | undefined> = {}, bin = BIN): Promise<Client> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [bin, "mcp"], cwd, env: cliEnv(env), stderr: "pipe" });
  const client = new Client({ name: "coord-test", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

type TextContent = Array<{ type: string; text: string }>;

/** A tool's first text and whether it is an error. */
export async function callText(
  client: Client,
  name: string,
  args: Record<string, unknown>,
  onprogress?: (progress: { progress: number; total?: number; message?: string }) => void,
): Promise<{ text: string; isError: boolean }> {
  const result = await client.callTool({ name, arguments: args }, undefined, onprogress ? { onprogress } : {});
  return { text: (result.content as TextContent)[0]!.text, isError: result.isError === true };
}
