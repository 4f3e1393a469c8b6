import type { RunOutcome } from "../runtime/run.js";
import { withStore } from "../runtime/store/open-store.js";
import { slackOwner } from "./http/slack-approval.js";
import { postSlackReply } from "./http/slack-reply.js";
import { recordReply } from "./slash/handle.js";
import { remoteRecord, type SurfaceContext } from "./surface.js";

/**
 * What whoever works on a run (a worker, a server) does when the run completes, pauses or fails:
 * answers the Slack channel the run was started from, and posts to COORD_NOTIFY_WEBHOOK when set.
 * Each failure is logged; none stops the others.
 */
export function runNotifier(ctx: SurfaceContext, log: (message: string) => void): (outcome: RunOutcome) => Promise<void> {
  const webhook = ctx.env.COORD_NOTIFY_WEBHOOK;
  return async ({ record }) => {
    const text = recordReply(record, ctx.cwd);
    const { responseUrl } = await withStore(ctx.cwd, ctx.settings, (store) => slackOwner(store, record.runId)).catch(() => ({ responseUrl: undefined }));
    const posts: Array<[string, Promise<unknown>]> = [];
    if (responseUrl) posts.push(["slack", postSlackReply(responseUrl, text, ctx.settings.remote.slackResponseHosts)]);
    if (webhook) posts.push(["webhook", postWebhook(webhook, text, remoteRecord(record, ctx.cwd))]);
    const results = await Promise.allSettled(posts.map(([, post]) => post));
    results.forEach((result, i) => {
      if (result.status === "rejected") log(`run ${record.runId}: ${posts[i]![0]} not told: ${(result.reason as Error).message}`);
    });
  };
}

/** `{ text, run }` to a webhook: Slack incoming webhooks read `text`, other tools the record. */
async function postWebhook(url: string, text: string, run: unknown): Promise<void> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text, run }), signal: AbortSignal.timeout(15_000) });
  if (!response.ok) throw new Error(`the webhook answered ${response.status}`);
}
