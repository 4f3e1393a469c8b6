import { isLoopback } from "./bind.js";
import { toSlackMrkdwn } from "./slack.js";

/**
 * Why a reply may not be posted to this response_url, or undefined when it may. Slack's
 * response_urls are https on hooks.slack.com; posting anywhere a request names would let whoever
 * holds the signing secret make this server call any address it can reach. Plain http is allowed
 * only to this machine (a local relay, or a test standing in for Slack), and its host must be
 * listed all the same.
 */
export function responseUrlProblem(url: string | null | undefined, allowedHosts: string[]): string | undefined {
  if (!url) return "the command carried no response_url";
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "the response_url is not a URL";
  }
  const host = parsed.hostname.toLowerCase();
  if (parsed.protocol === "http:" && !isLoopback(host)) return `the response_url is plain http to ${host}; only https is allowed beyond this machine`;
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return `the response_url's scheme ${parsed.protocol} is not https`;
  const allowed = allowedHosts.map((h) => h.toLowerCase().replace(/^\[|\]$/g, ""));
  if (!allowed.includes(host.replace(/^\[|\]$/g, ""))) return `the response_url's host ${host} is not in remote.slackResponseHosts (COORD_SLACK_RESPONSE_HOSTS)`;
  return undefined;
}

/** Posts a reply to a slash command's response_url, if its host is allowed; throws why not. */
export async function postSlackReply(url: string | null | undefined, markdown: string, allowedHosts: string[]): Promise<void> {
  const problem = responseUrlProblem(url, allowedHosts);
  if (problem) throw new Error(`reply not posted: ${problem}`);
  const response = await fetch(url!, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ response_type: "in_channel", text: toSlackMrkdwn(markdown) }),
    // A redirect would lead the post to a host nobody allowed.
    redirect: "error",
    signal: AbortSignal.timeout(15_000),
  });
  if (!response.ok) throw new Error(`response_url answered ${response.status}`);
}
