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
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
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
  close(): Promise<void>;
}

function firstLine(text: string | null | undefined): string {
  return (text ?? "").split("\n").find((l) => l.trim())?.trim().slice(0, 60) ?? "";
}

/** Deterministic completions: deliverable text names the deliverable and the agent's first line. */
function reply(req: ReceivedRequest["body"], custom: FakeOpenAI["toolCalls"]) {
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
    message = { role: "assistant", content: `Server notes by "${firstLine(system)}".${toolResults.length ? `\nTool results:\n${toolResults.join("\n---\n")}` : ""}` };
  }
  return { message, usage };
}

function sendStream(res: ServerResponse, model: string, message: Record<string, unknown>, usage: unknown): void {
  res.writeHead(200, { "content-type": "text/event-stream" });
  const chunk = (delta: unknown, extra: Record<string, unknown> = {}) =>
    res.write(`data: ${JSON.stringify({ id: "chatcmpl-1", object: "chat.completion.chunk", created: 0, model, choices: [{ index: 0, delta, finish_reason: null }], ...extra })}\n\n`);
  chunk({ role: "assistant", content: message.content ?? "" });
  res.write(`data: ${JSON.stringify({ id: "chatcmpl-1", object: "chat.completion.chunk", created: 0, model, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] })}\n\n`);
  res.write(`data: ${JSON.stringify({ id: "chatcmpl-1", object: "chat.completion.chunk", created: 0, model, choices: [], usage })}\n\n`);
  res.end("data: [DONE]\n\n");
}

/**
 * A small OpenAI-compatible server on 127.0.0.1 for tests and the bench: chat completions with usage, tool
 * calls and streaming, optional delays and canned failures, and a log of every request.
 */
export async function startFakeOpenAI(options: { delayMs?: number } = {}): Promise<FakeOpenAI> {
  let inFlight = 0;
  const state: FakeOpenAI = { url: "", requests: [], failures: [], maxInFlight: 0, close: async () => {} };
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
    try {
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      const failure = state.failures.shift();
      if (failure) {
        record.status = failure.status;
        res.writeHead(failure.status, { "content-type": "application/json", ...failure.headers }).end(JSON.stringify(failure.body ?? { error: { message: `status ${failure.status}`, type: "test" } }));
        return;
      }
      const { message, usage } = reply(body, state.toolCalls);
      record.usage = usage;
      if (body.stream) return sendStream(res, body.model, message, usage);
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
