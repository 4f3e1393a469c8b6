import { Hono } from "hono";
import { CoordError } from "../../errors.js";
import { createRun } from "../../runtime/run.js";
import { readRun } from "../../runtime/run-records.js";
import { actor } from "../../runtime/state.js";
import { chatErrorText } from "../error-voice.js";
import { handleSlashCommand, slashErrorReply, type SlashContext } from "../slash/handle.js";
import { parseSlash, type SlashCommand } from "../slash/parse.js";
import type { ServerContext } from "./context.js";
import { toSlackMrkdwn, verifySlackSignature } from "./slack.js";
import { decideOnPause, requireAwaitingApproval } from "./api.js";
import type { RunStore } from "../../runtime/store/run-store.js";
import { rememberSlackStarter, requireSlackDecisionRight, slackStarter } from "./slack-approval.js";

/** What Slack posts for a slash command, the fields coord reads. */
interface SlackCommandForm {
  text: string;
  userId: string | undefined;
  responseUrl: string | null;
}

/** A body Slack shows: only to the user who typed the command, or to the whole channel. */
type SlackMessage = { response_type: "ephemeral" | "in_channel"; text: string };

const onlyToUser = (markdown: string): SlackMessage => ({ response_type: "ephemeral", text: toSlackMrkdwn(markdown) });
const toChannel = (markdown: string): SlackMessage => ({ response_type: "in_channel", text: toSlackMrkdwn(markdown) });

type QuickCommand = Extract<SlashCommand, { kind: "help" | "list" | "status" }>;

/** Commands that answer within Slack's three seconds; the others are acknowledged first. */
function isQuick(command: SlashCommand): command is QuickCommand {
  return command.kind === "help" || command.kind === "list" || command.kind === "status";
}

function acknowledgement(command: Exclude<SlashCommand, QuickCommand>): string {
  if (command.kind === "run") return `⏳ Running \`${command.mission}\`${command.approve ? " (pausing for approval after each phase)" : ""}…`;
  return `⏳ ${command.kind === "approve" ? "Approving" : "Redoing"} \`${command.runId}\`…`;
}

function requireSlackSignature(body: string, headers: { timestamp: string | undefined; signature: string | undefined }, secret: string | undefined): void {
  const problem = verifySlackSignature(body, headers, secret);
  if (problem) throw new CoordError("HTTP_UNAUTHORIZED", problem, { hint: "Slack signs each request with the app's signing secret: the server needs it in COORD_SLACK_SIGNING_SECRET" });
}

/**
 * Answers one slash command from Slack. Quick ones are answered in the body; runs, approvals and
 * redos outlast Slack's three-second limit, so they are acknowledged and answered on the
 * command's response_url. Approvals and redos are taken only from those allowed to decide.
 */
export async function answerSlackCommand(form: SlackCommandForm, ctx: ServerContext): Promise<SlackMessage> {
  const slash: SlashContext = { ...ctx, trusted: false, user: actor("slack", form.userId) };
  let command: SlashCommand;
  try {
    command = parseSlash(form.text);
  } catch (error) {
    return onlyToUser(slashErrorReply(error, ctx.cwd).text);
  }
  if (isQuick(command)) return onlyToUser((await handleSlashCommand(command, slash)).text);
  const store = await ctx.store();
  if (command.kind !== "run") {
    try {
      await requireSlackDecisionRight(form.userId, command.runId, { store, approvers: ctx.settings.remote.slackApprovers });
    } catch (error) {
      return onlyToUser(chatErrorText(error, ctx.cwd));
    }
  }
  // Runs and decisions are checked here and queued; whichever worker carries them out answers
  // on the response_url when the run completes, pauses or fails.
  const reply = await handleSlashCommand(command, { ...slash, dispatch: slackDispatch(ctx, form, store) });
  if (!reply.ok) return onlyToUser(reply.text);
  return toChannel(acknowledgement(command));
}

/** Runs and decisions from Slack go to the queue, remembering who asked and where to answer. */
function slackDispatch(ctx: ServerContext, form: SlackCommandForm, store: RunStore): NonNullable<SlashContext["dispatch"]> {
  const answerTo = (runId: string, starter: string | undefined) =>
    rememberSlackStarter(store, runId, { ...(starter && { slackUser: starter }), ...(form.responseUrl && { responseUrl: form.responseUrl }) });
  return {
    async run(options) {
      const spec = await createRun(options);
      await answerTo(spec.runId, form.userId);
      await store.queue.enqueue(spec.runId);
      return readRun(store, spec.runId);
    },
    async decide(runId, decision) {
      const record = await readRun(store, runId);
      requireAwaitingApproval(record, store.home);
      // The run keeps its starter; the answer goes to whoever decided.
      await answerTo(runId, await slackStarter(store, runId));
      await decideOnPause(ctx, runId, decision);
      return record;
    },
  };
}

/** `POST /slack/commands`: Slack's slash commands, signed with the app's signing secret. */
export function slackRoutes(ctx: ServerContext): Hono {
  const slack = new Hono();
  slack.post("/commands", async (c) => {
    const body = await c.req.text();
    requireSlackSignature(body, { timestamp: c.req.header("x-slack-request-timestamp"), signature: c.req.header("x-slack-signature") }, ctx.env.COORD_SLACK_SIGNING_SECRET);
    const form = new URLSearchParams(body);
    return c.json(await answerSlackCommand({ text: form.get("text") ?? "", userId: form.get("user_id") || undefined, responseUrl: form.get("response_url") }, ctx));
  });
  return slack;
}
