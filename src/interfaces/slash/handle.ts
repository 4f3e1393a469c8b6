import { criteriaSummary } from "../../runtime/verdicts.js";
import { confine, readRegularFile } from "../../files.js";
import { MAX_INPUT_BYTES } from "../../runtime/inputs.js";
import { checkRunId } from "../../runtime/store.js";
import { remoteRunSettings, requireMissionId, type SurfaceContext } from "../surface.js";
import { chatErrorText, scrubPaths } from "../error-voice.js";
import { CoordError } from "../../errors.js";
import type { RunRecord } from "../../runtime/record.js";
import type { RunEvent, RunOptions } from "../../runtime/run.js";
import { stampDecision, type Actor, type ReviewDecision } from "../../runtime/decisions.js";
import { SLASH_USAGE, SlashSyntaxError, parseSlash, type SlashCommand } from "./parse.js";

// Each command imports what it uses when it runs: help needs nothing, list the mission parser,
// status the store; only the commands that run or continue a run load the graph runtime (and
// LangChain with it), so the replies that read start fast (test/interfaces/cli/startup.test.ts).
const runtime = () => import("../../runtime/run.js");

export interface SlashContext extends SurfaceContext {
  /**
   * The local CLI is trusted; chat surfaces reached over HTTP or MCP are not: their runs run no
   * hooks and read no files, unless the project allows `@file` inputs (inside the project only).
   */
  trusted: boolean;
  /** Who is asking: run.json's `startedBy` for runs started here, `by` for decisions (default: the library). */
  user?: Actor;
  onEvent?: (event: RunEvent) => void;
  /**
   * Where runs and decisions go instead of this process, when a server hands them to its
   * workers: the reply then says the run is queued, and the worker answers when it stops.
   */
  dispatch?: {
    run(options: RunOptions): Promise<RunRecord>;
    decide(runId: string, decision: ReviewDecision): Promise<RunRecord>;
  };
}

export interface SlashReply {
  /** The command did what was asked (a run may still have failed: see status). */
  ok: boolean;
  /** The command could not be understood: reply with usage. */
  malformed?: boolean;
  /** Chat-sized markdown. */
  text: string;
  runId?: string;
  status?: RunRecord["status"];
}

const STATUS_MARK: Record<RunRecord["status"], string> = { queued: "🕒", completed: "✅", paused: "⏸️", failed: "❌", running: "⏳" };

/** The chat reply for a run: what ran, its status, the deliverables by phase, where the report is. */
export function recordReply(record: RunRecord, cwd: string): string {
  const lines = [`**${record.title}** · run \`${record.runId}\` · ${STATUS_MARK[record.status]} ${record.status}${record.reason ? ` (${record.reason})` : ""}`];
  for (const phase of record.phases) {
    if (phase.deliverables.length === 0) continue;
    lines.push(`*Phase ${phase.index}: ${phase.title}* (${phase.status})`, ...phase.deliverables.map((d) => `• ${d.title}`));
  }
  if (record.error) lines.push(`⚠️ ${scrubPaths(record.error, cwd)}`);
  if (record.status === "paused" && record.reason === "criteria") lines.push(`Success criteria still unmet after a redo: go on with \`/coord approve ${record.runId}\` · try again with \`/coord reject ${record.runId} what to change\``);
  if (record.status === "paused" && record.reason === "approval") lines.push(`Approve: \`/coord approve ${record.runId}\` · Redo: \`/coord reject ${record.runId} what to change\``);
  if (record.status === "paused" && record.reason === "budget") lines.push(`Stopped at its budget: whoever runs coord can resume it with a higher one (\`coord resume ${record.runId} --max-tokens N\`)`);
  const criteria = criteriaSummary(record.criteria);
  if (criteria) lines.push(`Success ${criteria}${record.criteriaJudge === "offline" ? " (offline check)" : ""}`);
  lines.push(`Report: \`${scrubPaths(`${record.runDir}/report.md`, cwd)}\``);
  return lines.join("\n");
}

function helpReply(): string {
  return `**coord** runs multi-agent missions.\n${SLASH_USAGE}`;
}

/** The reply to a command that failed: usage for one that could not be understood. */
export function slashErrorReply(error: unknown, cwd: string): SlashReply {
  if (error instanceof SlashSyntaxError) return { ok: false, malformed: true, text: `⚠️ ${error.message}\n${SLASH_USAGE}` };
  return { ok: false, text: chatErrorText(error, cwd) };
}

/** `key=@file` inputs: only inside the project, and only where the surface may read files. */
function readFileInputs(files: Record<string, string>, ctx: SlashContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, path] of Object.entries(files)) {
    if (!ctx.trusted && !ctx.settings.remote.allowFileInputs) {
      throw new CoordError("INPUT_INVALID", `${key}=@${path}: this chat surface may not read files`, { hint: 'paste the text (key="...") or set "remote": { "allowFileInputs": true } in coord.config.json' });
    }
    let real: string;
    try {
      // The same confinement as agents' file tools: inside the project, never its secrets.
      real = confine(path, [ctx.cwd]);
    } catch (error) {
      throw new CoordError("INPUT_INVALID", `${key}=@${path}: ${(error as Error).message.replace(/^refused: /, "")}`, { hint: "use a file inside the project folder" });
    }
    try {
      out[key] = readRegularFile(real, { maxBytes: MAX_INPUT_BYTES }).text;
    } catch (error) {
      throw new CoordError("INPUT_INVALID", `${key}=@${path}: ${(error as Error).message}`, { hint: "name a regular file inside the project folder" });
    }
  }
  return out;
}

/**
 * A slash approve or reject as a decision, stamped now: a server may queue it for a worker, and
 * the trail keeps when the person decided, not when the worker got to it.
 */
function decisionOf(command: Extract<SlashCommand, { kind: "approve" | "reject" }>, user: Actor | undefined): ReviewDecision {
  const decision: ReviewDecision = command.kind === "approve" ? { action: "approve", ...(command.note && { note: command.note }) } : { action: "reject", note: command.note };
  return stampDecision({ ...decision, ...(user && { by: user }) });
}

/** Runs one parsed slash command and answers it; never throws. */
export async function handleSlashCommand(command: SlashCommand, ctx: SlashContext): Promise<SlashReply> {
  try {
    switch (command.kind) {
      case "help":
        return { ok: true, text: helpReply() };
      case "list": {
        const { loadMissions } = await import("../../definitions/mission-catalog.js");
        const missions = loadMissions({ ...ctx.load, cwd: ctx.cwd }).missions;
        const lines = missions.map((m) => `• \`${m.id}\` ${m.title} (${m.phases.length} phase${m.phases.length === 1 ? "" : "s"}; inputs: ${m.inputs.filter((i) => i.required).map((i) => i.id).join(", ") || "none required"})`);
        return { ok: true, text: [`**${missions.length} missions**`, ...lines, "Run one: `/coord MISSION key=value ...`"].join("\n") };
      }
      case "status": {
        const { getRun } = await import("../../runtime/run-records.js");
        const record = await getRun(command.runId, ctx);
        return { ok: true, text: recordReply(record, ctx.cwd), runId: record.runId, status: record.status };
      }
      case "approve":
      case "reject": {
        const decision = decisionOf(command, ctx.user);
        checkRunId(command.runId);
        if (!ctx.dispatch) {
          const [{ withStore }, { requireNotWithWorker }] = await Promise.all([import("../../runtime/store/open-store.js"), import("../../service/busy.js")]);
          await withStore(ctx.cwd, ctx.settings, (store) => requireNotWithWorker(store, command.runId));
        }
        const record = ctx.dispatch
          ? await ctx.dispatch.decide(command.runId, decision)
          : (await (await runtime()).resumeRun(command.runId, { cwd: ctx.cwd, settings: ctx.settings, env: ctx.env, decision, ...(ctx.onEvent && { onEvent: ctx.onEvent }) })).record;
        return { ok: true, text: recordReply(record, ctx.cwd), runId: record.runId, status: record.status };
      }
      case "run": {
        if (!ctx.trusted) requireMissionId(command.mission);
        const inputs = { ...command.inputs, ...readFileInputs(command.files, ctx) };
        const settings = ctx.trusted ? ctx.settings : remoteRunSettings(ctx.settings);
        const options: RunOptions = {
          ...ctx.load,
          cwd: ctx.cwd,
          mission: command.mission,
          inputValues: inputs,
          settings: command.approve ? { ...settings, approve: true } : settings,
          env: ctx.env,
          ...(ctx.user && { startedBy: ctx.user }),
          ...(ctx.onEvent && { onEvent: ctx.onEvent }),
        };
        const record = ctx.dispatch ? await ctx.dispatch.run(options) : (await (await runtime()).runMission(options)).record;
        return { ok: true, text: recordReply(record, ctx.cwd), runId: record.runId, status: record.status };
      }
    }
  } catch (error) {
    return slashErrorReply(error, ctx.cwd);
  }
}

/** Parses and runs slash text: the one entry every chat surface uses. */
export async function handleSlash(text: string, ctx: SlashContext): Promise<SlashReply> {
  let command: SlashCommand;
  try {
    command = parseSlash(text);
  } catch (error) {
    return slashErrorReply(error, ctx.cwd);
  }
  return handleSlashCommand(command, ctx);
}
