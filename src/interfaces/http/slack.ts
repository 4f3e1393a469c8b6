import { createHmac, timingSafeEqual } from "node:crypto";

/** Slack rejects requests older than five minutes; so do we, against replays. */
export const MAX_AGE_SECONDS = 300;

/**
 * Verifies Slack's v0 request signature: HMAC-SHA256 of `v0:timestamp:body` with the app's
 * signing secret. Returns why it fails, or undefined when the request is genuine.
 */
export function verifySlackSignature(
  body: string,
  headers: { timestamp: string | undefined; signature: string | undefined },
  secret: string | undefined,
  now = Date.now() / 1000,
): string | undefined {
  if (!secret) return "COORD_SLACK_SIGNING_SECRET is not set on this server";
  const ts = Number(headers.timestamp);
  if (!headers.timestamp || !Number.isFinite(ts)) return "missing X-Slack-Request-Timestamp";
  if (Math.abs(now - ts) > MAX_AGE_SECONDS) return "stale request timestamp";
  if (!headers.signature?.startsWith("v0=")) return "missing X-Slack-Signature";
  const expected = Buffer.from(`v0=${createHmac("sha256", secret).update(`v0:${headers.timestamp}:${body}`).digest("hex")}`);
  const given = Buffer.from(headers.signature);
  return given.length === expected.length && timingSafeEqual(given, expected) ? undefined : "bad signature";
}

/** What a test or another tool sends as Slack would. */
export function signSlackRequest(body: string, secret: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  const signature = `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex")}`;
  return { "x-slack-request-timestamp": String(timestamp), "x-slack-signature": signature };
}

/**
 * Slack's mrkdwn is not markdown: bold is *one* star and italics are underscores. The chat
 * replies are written in markdown, so they are translated on the way out.
 */
export function toSlackMrkdwn(markdown: string): string {
  return markdown
    .replace(/(?<!\*)\*(?!\*)([^*\n]+?)(?<!\*)\*(?!\*)/g, "_$1_")
    .replace(/\*\*([^*\n]+?)\*\*/g, "*$1*");
}
