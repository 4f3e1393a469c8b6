import { Hono } from "hono";
import { CoordError } from "../../errors.js";
import type { RunEvent } from "../../runtime/run.js";
import { homeDir } from "../../runtime/store.js";
import { chatErrorText } from "../error-voice.js";
import { handleSlashCommand, slashErrorReply, type SlashContext } from "../slash/handle.js";
import { parseSlash, type SlashCommand } from "../slash/parse.js";
import type { ServerContext } from "./context.js";
import { toSlackMrkdwn, verifySlackSignature } from "./slack.js";
import { rememberSlackStarter, requireSlackDecisionRight } from "./slack-approval.js";
import { postSlackReply } from "./slack-reply.js";

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
  const slash: SlashContext = { ...ctx, trusted: false };
  let command: SlashCommand;
  try {
    command = parseSlash(form.text);
  } catch (error) {
    return onlyToUser(slashErrorReply(error, ctx.cwd).text);
  }
  if (isQuick(command)) return onlyToUser((await handleSlashCommand(command, slash)).text);
  const home = homeDir(ctx.cwd, ctx.settings);
  if (command.kind !== "run") {
    try {
      requireSlackDecisionRight(form.userId, command.runId, { home, approvers: ctx.settings.remote.slackApprovers });
    } catch (error) {
      return onlyToUser(chatErrorText(error, ctx.cwd));
    }
  }
  const rememberStarter = (event: RunEvent) => {
    if (event.type === "start" && form.userId) rememberSlackStarter(home, event.runId, form.userId);
  };
  const work = handleSlashCommand(command, { ...slash, ...(command.kind === "run" && { onEvent: rememberStarter }) });
  ctx.background(
    work.then((reply) => postSlackReply(form.responseUrl, reply.text, ctx.settings.remote.slackResponseHosts)),
    "slack command",
  );
  return toChannel(acknowledgement(command));
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
