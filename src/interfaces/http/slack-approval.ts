import { CoordError } from "../../errors.js";
import { checkRunId } from "../../runtime/store.js";
import type { RunOwner, RunStore } from "../../runtime/store/run-store.js";

/**
 * Who may approve or reject runs from Slack. Anyone in the workspace can type `/coord approve`,
 * so a decision is taken only from the approvers the server lists and from whoever started that
 * run from Slack (remembered with the run in its store).
 */
export interface SlackDecisionRights {
  /** Where the project's runs live. */
  store: RunStore;
  /** Slack user ids who may decide on any run (`remote.slackApprovers`). */
  approvers: string[];
}

/** Who started a run from Slack, and where the channel waits for its news. */
export type SlackOwner = RunOwner;

/** Remembers that a Slack user started a run (so they may approve it) and where to answer. */
export async function rememberSlackStarter(store: RunStore, runId: string, owner: SlackOwner): Promise<void> {
  checkRunId(runId);
  await store.saveOwner(runId, owner);
}

/** Who started a run from Slack, if someone did: only well-formed fields count. */
export async function slackOwner(store: RunStore, runId: string): Promise<SlackOwner> {
  checkRunId(runId);
  const owner = (await store.readOwner(runId)) as Record<string, unknown>;
  return {
    ...(typeof owner.slackUser === "string" && { slackUser: owner.slackUser }),
    ...(typeof owner.responseUrl === "string" && { responseUrl: owner.responseUrl }),
  };
}

/** The Slack user who started a run from Slack, if one did. */
export async function slackStarter(store: RunStore, runId: string): Promise<string | undefined> {
  return (await slackOwner(store, runId)).slackUser;
}

/** The one decision: may this Slack user approve or reject this run? */
export async function maySlackUserDecide(slackUser: string | undefined, runId: string, rights: SlackDecisionRights): Promise<boolean> {
  if (!slackUser) return false;
  return rights.approvers.includes(slackUser) || (await slackStarter(rights.store, runId)) === slackUser;
}

/** Throws a friendly APPROVAL_NOT_ALLOWED when the user may not decide on the run. */
export async function requireSlackDecisionRight(slackUser: string | undefined, runId: string, rights: SlackDecisionRights): Promise<void> {
  if (await maySlackUserDecide(slackUser, runId, rights)) return;
  const starter = await slackStarter(rights.store, runId);
  throw new CoordError("APPROVAL_NOT_ALLOWED", `sorry, only the person who started run \`${runId}\` or a coord approver can approve or reject it`, {
    hint: `${starter ? `ask <@${starter}>, who started it, or an approver` : "ask an approver"}; the server's admin lists approvers' Slack ids in COORD_SLACK_APPROVERS`,
  });
}
