// Long answers from the tests' fake OpenAI server (test/helpers/openai-server.ts), for the bench
// sections that need drafts of a given length (bench/phase.js, bench/prompts.js).
//  - Plain text (support notes, a lead's plan, a lead's research): `replyText`, N words.
//  - A lead's deliverables: the server answers the structured-output tool (`write_deliverables`)
//    with fixed one-line arguments and offers no hook for them (`toolCalls` is skipped for that
//    tool). So as each request is logged, before the server answers it, its copy of the tool is
//    renamed; the server then asks `toolCalls`, which answers `write_deliverables` with N words
//    per deliverable. The client sees an ordinary forced tool call, streamed in the server's
//    pieces of 12 characters (one `tokenDelayMs` each). The logged request keeps the renamed
//    tool; `record.structured` holds the deliverable keys and titles.
import { createHash } from "node:crypto";

const STRUCTURED = "write_deliverables";
const RENAMED = "write_deliverables__bench_drafts";

const VOCABULARY = (
  "onboarding churn pricing pipeline buyer seller handoff quarter retention segment forecast trial demo " +
  "security review conversion margin campaign message journey account renewal expansion cohort metric " +
  "target baseline owner milestone risk budget channel content lead score cycle velocity win loss " +
  "interview survey finding evidence plan step week month team process tool playbook sequence offer"
).split(" ");

/** `count` words, deterministic for `seed`, in sentences of ~12 words and paragraphs of ~60. */
export function words(count, seed) {
  let state = createHash("sha256").update(String(seed)).digest().readUInt32LE(0) || 1;
  const next = () => {
    // xorshift32
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % VOCABULARY.length;
  };
  const out = [];
  for (let i = 0; i < count; i++) {
    let word = VOCABULARY[next()];
    if (i % 12 === 0) word = word[0].toUpperCase() + word.slice(1);
    out.push(word + (i % 12 === 11 || i === count - 1 ? "." : ""));
    if (i % 60 === 59 && i !== count - 1) out.push("\n\n");
  }
  return out.join(" ").replace(/ \n\n /g, "\n\n");
}

const userText = (body) => body.messages.filter((m) => m.role !== "system").map((m) => (typeof m.content === "string" ? m.content : "")).join("\n");

/**
 * Makes `server` answer with drafts of the given lengths (in words): `notes` for support notes
 * and research, `plan` for a lead's plan, `draft` for each deliverable.
 */
export function withDrafts(server, { notes, plan, draft }) {
  const log = [];
  log.push = function push(...records) {
    for (const record of records) {
      const tool = record.body.tools?.find((t) => t.function.name === STRUCTURED);
      if (tool) {
        const properties = tool.function.parameters.properties ?? {};
        record.structured = Object.fromEntries(Object.entries(properties).map(([key, prop]) => [key, String(prop.description ?? key).split("\n")[0]]));
        tool.function.name = RENAMED;
      }
    }
    return Array.prototype.push.apply(this, records);
  };
  server.requests = log;
  server.toolCalls = (body) => {
    const tool = body.tools?.find((t) => t.function.name === RENAMED);
    if (!tool) return undefined;
    const ask = userText(body);
    const args = Object.fromEntries(
      Object.entries(tool.function.parameters.properties ?? {}).map(([key, prop]) => {
        const title = String(prop.description ?? key).split("\n")[0];
        return [key, `## ${title}\n\n${words(draft, `${ask.length}|${title}|${ask.slice(-200)}`)}`];
      }),
    );
    return [{ name: STRUCTURED, args }];
  };
  server.replyText = (body) => {
    const ask = userText(body);
    const seed = `${ask.length}|${ask.slice(-300)}`;
    return ask.includes("First write a short plan for this phase") ? words(plan, seed) : words(notes, seed);
  };
  return server;
}

/** The kind of call a logged request is, from its ask. */
export function callKind(record) {
  const ask = userText(record.body);
  if (record.body.tools?.some((t) => t.function.name === "judge_criteria")) return "judge";
  if (record.structured) return ask.includes("Write only the deliverable") ? "deliverable" : "deliverables";
  if (ask.includes("First write a short plan for this phase")) return "plan";
  if (ask.includes("You are supporting this phase")) return "support";
  if (ask.includes("## Before you write") || record.body.messages.some((m) => m.role === "tool")) return "research";
  return "other";
}

/** The phase a logged request is for, from its ask ("Phase N of M"). */
export function callPhase(record) {
  return Number(/Phase (\d+) of \d+/.exec(userText(record.body))?.[1] ?? 0);
}
