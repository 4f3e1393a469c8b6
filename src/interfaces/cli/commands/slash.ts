import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { LoadOptions } from "../../../definitions/discover.js";
import { CLAUDE_COMMAND_PATH, MCP_JSON_PATH, claudeCommandUpdate, withCoordServer } from "../../slash/claude-code.js";
import { handleSlash } from "../../slash/handle.js";
import type { Io } from "../io.js";
import { progress } from "../progress.js";
import { projectSettings, withParseCache } from "../settings.js";
import { cliActor } from "../actor.js";

/** `coord slash "TEXT"`: one slash command from any bot or script; the reply goes to stdout. */
export async function slash(io: Io, text: string, load: LoadOptions): Promise<number> {
  const { settings, env } = projectSettings(io);
  const view = progress({ ...io, quiet: true });
  // The project's parse cache, as other commands use it: `/coord list` reads every mission.
  const cached = withParseCache(io, load, settings);
  const reply = await handleSlash(text, { cwd: io.cwd, load: cached, settings, env, trusted: true, user: cliActor(), onEvent: view.onEvent }).finally(view.stop);
  if (io.json) io.out(JSON.stringify(reply, null, 2));
  else io.out(reply.text);
  if (reply.malformed || !reply.ok) return 2;
  return reply.status === "failed" ? 1 : 0;
}

function readIfExists(file: string): string | undefined {
  return existsSync(file) ? readFileSync(file, "utf8") : undefined;
}

/**
 * `coord install claude-code`: the `/coord` command file and the coord MCP server it calls, in
 * this project. Both are checked before either is written; running it again changes nothing.
 */
export function installClaudeCode(io: Io, force: boolean): number {
  const commandFile = join(io.cwd, CLAUDE_COMMAND_PATH);
  const mcpFile = join(io.cwd, MCP_JSON_PATH);
  const command = claudeCommandUpdate(readIfExists(commandFile), force);
  const servers = withCoordServer(readIfExists(mcpFile), force);
  if (command !== undefined) {
    mkdirSync(dirname(commandFile), { recursive: true });
    writeFileSync(commandFile, command);
  }
  if (servers !== undefined) writeFileSync(mcpFile, servers);
  const wrote = [command !== undefined && CLAUDE_COMMAND_PATH, servers !== undefined && `${MCP_JSON_PATH} (server "coord")`].filter(Boolean);
  io.out(`${wrote.length ? `wrote ${wrote.join(" and ")}` : "already installed"}: /coord works inside Claude Code in this project (try /coord help; approve the coord MCP server when Claude Code asks)`);
  return 0;
}
