import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A chat completions request as the server received it. */
export interface ReceivedRequest {
  body: {
    model: string;
    messages: Array<{ role: string; content: string | null; tool_calls?: unknown[]; tool_call_id?: string }>;
    tools?: Array<{ type: string; function: { name: string; parameters: { properties?: Record<string, { description?: string }> } } }>;
    tool_choice?: unknown;
    stream?: boolean;
  };
  authorization: string | undefined;
  start: number;
  end: number;
  /** What the server answered, status and usage included. */
  status: number;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number; prompt_tokens_details?: { cached_tokens: number } };
  /** A 429 from `rateLimit`: when its Retry-After told the client to come back (ms since the epoch). */
  retryAt?: number;
  /** A streamed reply that `streamCuts` cut off before its end. */
  cut?: "drop" | "end";
}

/**
 * Rate limiting as providers do it, answered with 429 and Retry-After: at most `requests` per
 * window of `windowMs` (a window opens with the first request after the last one closed), and/or
 * at most `concurrent` requests at once. Rejected requests count toward neither.
 */
export interface RateLimit {
  requests?: number;
  windowMs?: number;
  concurrent?: number;
  /** Retry-After as whole seconds (default, rounded up) or as an HTTP date (rounded up to the second). */
  retryAfter?: "seconds" | "date";
  /** What a `concurrent` rejection asks the client to wait (default 1000 ms). */
  concurrentRetryMs?: number;
  /** How long a 429 takes to come back (default 0: at once, as providers refuse; `delayMs` does not apply). */
  refuseAfterMs?: number;
}

/** A canned failure answered instead of a completion (for 401, 429, 500...). */
export interface Failure {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface FakeOpenAI {
  url: string;
  requests: ReceivedRequest[];
  /** Answered, in order, before any normal reply. */
  failures: Failure[];
  /** Most requests in flight at once. */
  maxInFlight: number;
  /** Decides a reply's tool calls (agent tools); return undefined for the default reply. */
  toolCalls?: (req: ReceivedRequest["body"]) => Array<{ name: string; args: unknown }> | undefined;
  /** Rate limiting (429 with Retry-After); may be set or changed while the server runs. */
  rateLimit?: RateLimit;
  /**
   * Streamed replies to cut, in order, half way through their tokens: `drop` destroys the
   * connection, `end` ends the response cleanly without the rest, the finish reason or [DONE].
   */
  streamCuts: Array<"drop" | "end">;
  /** Overrides the default reply's text (not tool calls), e.g. to stream a long answer. */
  replyText?: (req: ReceivedRequest["body"]) => string | undefined;
  close(): Promise<void>;
}

/** Options of `startFakeOpenAI`. */
export interface FakeOpenAIOptions {
  /** Wait this long before answering each request (canned failures included, rate-limit refusals not). */
  delayMs?: number;
  /**
   * Stream token by token (words and the spaces before them; tool call arguments in pieces of
   * a few characters), waiting this long before each token. Unset: one content chunk, as before.
   */
  tokenDelayMs?: number;
  rateLimit?: RateLimit;
  /**
   * Count prompt tokens as four characters each and cache prefixes as OpenAI does by itself: the
   * longest start a request shares with an earlier one is reported as `cached_tokens`.
   */
  promptCache?: boolean;
}

function firstLine(text: string | null | undefined): string {
  return (text ?? "").split("\n").find((l) => l.trim())?.trim().slice(0, 60) ?? "";
}

/** Deterministic completions: deliverable text names the deliverable and the agent's first line. */
function reply(req: ReceivedRequest["body"], custom: FakeOpenAI["toolCalls"], text?: FakeOpenAI["replyText"]) {
  const system = req.messages.find((m) => m.role === "system")?.content ?? "";
  const prompt = req.messages.filter((m) => m.role !== "system").map((m) => m.content ?? "").join("\n");
  const usage = { prompt_tokens: 100 + (prompt.length % 997), completion_tokens: 20 + (system.length % 13), total_tokens: 0 };
  usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  const structured = req.tools?.find((t) => t.function.name === "write_deliverables");
  const custom_calls = structured ? undefined : custom?.(req);
  let message: Record<string, unknown>;
  if (structured) {
    const args = Object.fromEntries(
      Object.entries(structured.function.parameters.properties ?? {}).map(([key, prop]) => [key, `Server draft of ${firstLine(prop.description)} by "${firstLine(system)}".`]),
    );
    message = { role: "assistant", content: null, tool_calls: [{ id: `call_${req.messages.length}`, type: "function", function: { name: "write_deliverables", arguments: JSON.stringify(args) } }] };
  } else if (custom_calls?.length) {
    message = {
      role: "assistant",
      content: null,
      tool_calls: custom_calls.map((c, i) => ({ id: `call_${i}_${req.messages.length}`, type: "function", function: { name: c.name, arguments: JSON.stringify(c.args) } })),
    };
  } else {
    const toolResults = req.messages.filter((m) => m.role === "tool").map((m) => m.content ?? "");
    message = { role: "assistant", content: text?.(req) ?? `Server notes by "${firstLine(system)}".${toolResults.length ? `\nTool results:\n${toolResults.join("\n---\n")}` : ""}` };
  }
  return { message, usage };
}

function sendStream(res: ServerResponse, model: string, message: Record<string, unknown>, usage: unknown): void {
  res.writeHead(200, { "content-type": "text/event-stream" });
  const chunk = (delta: unknown, extra: Record<string, unknown> = {}) =>
    res.write(`data: ${JSON.stringify({ id: "chatcmpl-1", object: "chat.completion.chunk", created: 0, model, choices: [{ index: 0, delta, finish_reason: null }], ...extra })}\n\n`);
  const toolCalls = message.tool_calls as StreamedToolCall[] | undefined;
  chunk({ role: "assistant", content: message.content ?? "", ...(toolCalls && { tool_calls: toolCalls.map((c, index) => ({ index, ...c })) }) });
  res.write(`data: ${JSON.stringify({ id: "chatcmpl-1", object: "chat.completion.chunk", created: 0, model, choices: [{ index: 0, delta: {}, finish_reason: toolCalls ? "tool_calls" : "stop" }] })}\n\n`);
  res.write(`data: ${JSON.stringify({ id: "chatcmpl-1", object: "chat.completion.chunk", created: 0, model, choices: [], usage })}\n\n`);
  res.end("data: [DONE]\n\n");
}

interface StreamedToolCall {
  id: string;
  type: string;
  function: { name: string; arguments: string };
}

/** Words with the whitespace before them: joined, they are the text again. */
export function streamTokens(text: string): string[] {
  return text.match(/\s*\S+|\s+$/g) ?? [];
}

function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A reply streamed token by token, as providers do: content tokens, or a tool call's name and
 * then its arguments a few characters at a time; the finish reason; usage; [DONE]. A `cut`
 * stops half way through the tokens.
 */
async function sendTokenStream(res: ServerResponse, model: string, message: Record<string, unknown>, usage: unknown, delayMs: number, cut: "drop" | "end" | undefined): Promise<void> {
  res.writeHead(200, { "content-type": "text/event-stream" });
  res.flushHeaders();
  const event = (choices: unknown[], extra: Record<string, unknown> = {}) => res.write(`data: ${JSON.stringify({ id: "chatcmpl-1", object: "chat.completion.chunk", created: 0, model, choices, ...extra })}\n\n`);
  const delta = (d: unknown) => event([{ index: 0, delta: d, finish_reason: null }]);
  const toolCalls = message.tool_calls as StreamedToolCall[] | undefined;
  const deltas: unknown[] = [];
  if (toolCalls) {
    toolCalls.forEach((c, index) => {
      deltas.push({ ...(index === 0 && { role: "assistant", content: null }), tool_calls: [{ index, id: c.id, type: "function", function: { name: c.function.name, arguments: "" } }] });
      for (const part of pieces(c.function.arguments, 12)) deltas.push({ tool_calls: [{ index, function: { arguments: part } }] });
    });
  } else {
    deltas.push({ role: "assistant", content: "" });
    for (const token of streamTokens(String(message.content ?? ""))) deltas.push({ content: token });
  }
  const stopAt = cut ? Math.max(1, Math.floor(deltas.length / 2)) : deltas.length;
  for (const d of deltas.slice(0, stopAt)) {
    if (delayMs) await pause(delayMs);
    if (res.destroyed) return;
    delta(d);
  }
  if (cut === "drop") {
    // Let the written tokens reach the client first, as when a connection drops mid-answer.
    await pause(20);
    res.socket?.destroy();
    return;
  }
  if (cut === "end") {
    res.end();
    return;
  }
  event([{ index: 0, delta: {}, finish_reason: toolCalls ? "tool_calls" : "stop" }]);
  event([], { usage });
  res.end("data: [DONE]\n\n");
}

/** The Retry-After header for a wait until `until`, and the time it actually names. */
function retryAfterHeader(until: number, style: RateLimit["retryAfter"]): { value: string; at: number } {
  const now = Date.now();
  if (style === "date") {
    const at = Math.ceil(until / 1000) * 1000;
    return { value: new Date(at).toUTCString(), at };
  }
  const seconds = Math.max(0, Math.ceil((until - now) / 1000));
  return { value: String(seconds), at: now + seconds * 1000 };
}

/** The prompt as a provider's cache sees it: every message's text, in order. */
function promptText(body: ReceivedRequest["body"]): string {
  return body.messages.map((m) => `${m.role}:${typeof m.content === "string" ? m.content : JSON.stringify(m.content)}`).join("\n");
}

/** Usage as a provider with a prefix cache reports it: four characters a token, the shared start cached. */
function cachePrompt(usage: NonNullable<ReceivedRequest["usage"]>, body: ReceivedRequest["body"], seen: string[]): void {
  const prompt = promptText(body);
  let longest = 0;
  for (const earlier of seen) {
    let i = 0;
    const end = Math.min(earlier.length, prompt.length);
    while (i < end && earlier.charCodeAt(i) === prompt.charCodeAt(i)) i++;
    longest = Math.max(longest, i);
  }
  seen.push(prompt);
  usage.prompt_tokens = Math.ceil(prompt.length / 4);
  usage.prompt_tokens_details = { cached_tokens: Math.floor(longest / 4) };
  usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
}

/**
 * A small OpenAI-compatible server on 127.0.0.1 for tests and the bench: chat completions with usage, tool
 * calls and streaming (token by token with `tokenDelayMs`), optional delays, canned failures, rate
 * limiting with Retry-After, streams cut mid-way, and a log of every request.
 */
export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  let inFlight = 0;
  // Requests at once that the rate limit let through, and the current window's count and end.
  let admitted = 0;
  let window = { count: 0, end: 0 };
  const seenPrompts: string[] = [];
  const state: FakeOpenAI = { url: "", requests: [], failures: [], maxInFlight: 0, streamCuts: [], ...(options.rateLimit && { rateLimit: options.rateLimit }), close: async () => {} };
  /** Whether the rate limit lets this request through now; if not, when to tell it to come back. */
  const limitCheck = (): { ok: true } | { ok: false; until: number } => {
    const limit = state.rateLimit;
    if (!limit) return { ok: true };
    const now = Date.now();
    if (limit.concurrent !== undefined && admitted >= limit.concurrent) return { ok: false, until: now + (limit.concurrentRetryMs ?? 1000) };
    if (limit.requests !== undefined) {
      if (now >= window.end) window = { count: 0, end: now + (limit.windowMs ?? 1000) };
      if (window.count >= limit.requests) return { ok: false, until: window.end };
      window.count++;
    }
    return { ok: true };
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "not found" } }));
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as ReceivedRequest["body"];
    const record: ReceivedRequest = { body, authorization: req.headers.authorization, start: Date.now(), end: 0, status: 200 };
    state.requests.push(record);
    inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, inFlight);
    const limited = limitCheck();
    if (limited.ok) admitted++;
    try {
      if (!limited.ok) {
        if (state.rateLimit?.refuseAfterMs) await pause(state.rateLimit.refuseAfterMs);
        const { value, at } = retryAfterHeader(limited.until, state.rateLimit?.retryAfter);
        record.status = 429;
        record.retryAt = at;
        res.writeHead(429, { "content-type": "application/json", "retry-after": value }).end(JSON.stringify({ error: { message: "Rate limit reached", type: "requests", code: "rate_limit_exceeded" } }));
        return;
      }
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      const failure = state.failures.shift();
      if (failure) {
        record.status = failure.status;
        res.writeHead(failure.status, { "content-type": "application/json", ...failure.headers }).end(JSON.stringify(failure.body ?? { error: { message: `status ${failure.status}`, type: "test" } }));
        return;
      }
      const { message, usage } = reply(body, state.toolCalls, state.replyText);
      if (options.promptCache) cachePrompt(usage, body, seenPrompts);
      record.usage = usage;
      if (body.stream && options.tokenDelayMs !== undefined) {
        const cut = state.streamCuts.shift();
        if (cut) record.cut = cut;
        return await sendTokenStream(res, body.model, message, usage, options.tokenDelayMs, cut);
      }
      if (body.stream) {
        const cut = state.streamCuts.shift();
        if (cut) {
          record.cut = cut;
          return await sendTokenStream(res, body.model, message, usage, 0, cut);
        }
        return sendStream(res, body.model, message, usage);
      }
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          id: "chatcmpl-1",
          object: "chat.completion",
          created: 0,
          model: body.model,
          choices: [{ index: 0, message, finish_reason: message.tool_calls ? "tool_calls" : "stop" }],
          usage,
        }),
      );
    } finally {
      inFlight--;
      if (limited.ok) admitted--;
      record.end = Date.now();
    }
  };
  const server: Server = createServer((req, res) =>
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: String((error as Error)?.message ?? error) } }));
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  state.url = `http://127.0.0.1:${port}/v1`;
  // Clients' keep-alive connections would hold close() open for seconds: end them too.
  state.close = () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return state;
}
