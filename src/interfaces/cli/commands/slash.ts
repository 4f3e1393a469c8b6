import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { LoadOptions } from "../../../definitions/discover.js";
import { handleSlash } from "../../slash/handle.js";
import type { Io } from "../io.js";
import { progress } from "../progress.js";
import { projectSettings } from "../settings.js";

/** `coord slash "TEXT"`: one slash command from any bot or script; the reply goes to stdout. */
export async function slash(io: Io, text: string, load: LoadOptions): Promise<number> {
  const { settings, env } = projectSettings(io);
  const view = progress({ ...io, quiet: true });
  const reply = await handleSlash(text, { cwd: io.cwd, load, settings, env, trusted: true, onEvent: view.onEvent }).finally(view.stop);
  if (io.json) io.out(JSON.stringify(reply, null, 2));
  else io.out(reply.text);
  if (reply.malformed || !reply.ok) return 2;
  return reply.status === "failed" ? 1 : 0;
}

/** The Claude Code command file: `/coord ...` inside Claude Code runs `coord slash`. */
export const CLAUDE_COMMAND = `---
description: Run a coord mission, or list missions and manage runs (help, list, status, approve, reject)
argument-hint: MISSION [key=value ...] | help | list | status RUN_ID | approve RUN_ID [note] | reject RUN_ID note
allowed-tools: Bash(npx coord slash:*)
---

!\`npx coord slash "/coord $ARGUMENTS"\`

Show the reply above to the user as it is. If a run paused for approval, summarise the phase's
deliverables from its report and ask whether to approve or what to change.
`;

/** `coord install claude-code`: writes .claude/commands/coord.md in this project. */
export function installClaudeCode(io: Io, force: boolean): number {
  const file = join(io.cwd, ".claude", "commands", "coord.md");
  if (existsSync(file) && readFileSync(file, "utf8") !== CLAUDE_COMMAND && !force) {
    io.err(`coord: ${file} exists and differs (fix: pass --force to overwrite it)`);
    return 2;
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, CLAUDE_COMMAND);
  io.out(`wrote .claude/commands/coord.md: /coord works inside Claude Code in this project (try /coord help)`);
  return 0;
}
