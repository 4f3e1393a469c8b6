import { existsSync, readFileSync } from "node:fs";
import { CoordError } from "../../errors.js";
import { writeFileAtomic } from "../../files.js";
import { runOwnerFile } from "../../runtime/paths.js";
import { checkRunId } from "../../runtime/store.js";

/**
 * Who may approve or reject runs from Slack. Anyone in the workspace can type `/coord approve`,
 * so a decision is taken only from the approvers the server lists and from whoever started that
 * run from Slack (remembered next to the run's spec, in `.coord/runs/RUN_ID.owner`).
 */
export interface SlackDecisionRights {
  /** coord's state folder (`homeDir`). */
  home: string;
  /** Slack user ids who may decide on any run (`remote.slackApprovers`). */
  approvers: string[];
}

/** Who started a run from Slack, and where the channel waits for its news. */
export interface SlackOwner {
  slackUser?: string;
  /** The command's response_url: whichever worker stops the run posts its reply there. */
  responseUrl?: string;
}

/** Remembers that a Slack user started a run (so they may approve it) and where to answer. */
export function rememberSlackStarter(home: string, runId: string, owner: SlackOwner): void {
  checkRunId(runId);
  writeFileAtomic(runOwnerFile(home, runId), `${JSON.stringify(owner)}\n`);
}

/** Who started a run from Slack, if someone did. */
export function slackOwner(home: string, runId: string): SlackOwner {
  checkRunId(runId);
  const file = runOwnerFile(home, runId);
  if (!existsSync(file)) return {};
  try {
    const owner = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    return {
      ...(typeof owner.slackUser === "string" && { slackUser: owner.slackUser }),
      ...(typeof owner.responseUrl === "string" && { responseUrl: owner.responseUrl }),
    };
  } catch {
    return {};
  }
}

/** The Slack user who started a run from Slack, if one did. */
export function slackStarter(home: string, runId: string): string | undefined {
  return slackOwner(home, runId).slackUser;
}

/** The one decision: may this Slack user approve or reject this run? */
export function maySlackUserDecide(slackUser: string | undefined, runId: string, rights: SlackDecisionRights): boolean {
  if (!slackUser) return false;
  return rights.approvers.includes(slackUser) || slackStarter(rights.home, runId) === slackUser;
}

/** Throws a friendly APPROVAL_NOT_ALLOWED when the user may not decide on the run. */
export function requireSlackDecisionRight(slackUser: string | undefined, runId: string, rights: SlackDecisionRights): void {
  if (maySlackUserDecide(slackUser, runId, rights)) return;
  const starter = slackStarter(rights.home, runId);
  throw new CoordError("APPROVAL_NOT_ALLOWED", `sorry, only the person who started run \`${runId}\` or a coord approver can approve or reject it`, {
    hint: `${starter ? `ask <@${starter}>, who started it, or an approver` : "ask an approver"}; the server's admin lists approvers' Slack ids in COORD_SLACK_APPROVERS`,
  });
}
