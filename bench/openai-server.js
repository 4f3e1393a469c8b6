// A small OpenAI-compatible server on 127.0.0.1 for the bench: the JS twin of
// test/helpers/openai-server.ts (chat completions with usage, the structured `write_deliverables`
// tool call, streaming, a delay per request), plus the arrival time of every request.
import { createServer } from "node:http";
import { performance } from "node:perf_hooks";

function firstLine(text) {
  return (text ?? "").split("\n").find((l) => l.trim())?.trim().slice(0, 60) ?? "";
}

/** Deterministic completions: deliverable text names the deliverable and the agent's first line. */
function reply(body) {
  const system = body.messages.find((m) => m.role === "system")?.content ?? "";
  const prompt = body.messages.filter((m) => m.role !== "system").map((m) => m.content ?? "").join("\n");
  const usage = { prompt_tokens: 100 + (prompt.length % 997), completion_tokens: 20 + (system.length % 13), total_tokens: 0 };
  usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  const structured = body.tools?.find((t) => t.function.name === "write_deliverables");
  if (structured) {
    const args = Object.fromEntries(
      Object.entries(structured.function.parameters.properties ?? {}).map(([key, prop]) => [key, `Server draft of ${firstLine(prop.description)} by "${firstLine(system)}".`]),
    );
    const call = { id: `call_${body.messages.length}`, type: "function", function: { name: "write_deliverables", arguments: JSON.stringify(args) } };
    return { message: { role: "assistant", content: null, tool_calls: [call] }, usage };
  }
  return { message: { role: "assistant", content: `Server notes by "${firstLine(system)}".` }, usage };
}

function sendStream(res, model, message, usage) {
  const chunk = (choices, extra = {}) => res.write(`data: ${JSON.stringify({ id: "chatcmpl-1", object: "chat.completion.chunk", created: 0, model, choices, ...extra })}\n\n`);
  res.writeHead(200, { "content-type": "text/event-stream" });
  chunk([{ index: 0, delta: { role: "assistant", content: message.content ?? "" }, finish_reason: null }]);
  chunk([{ index: 0, delta: {}, finish_reason: "stop" }]);
  chunk([], { usage });
  res.end("data: [DONE]\n\n");
}

/**
 * Starts the server. `requests` holds one entry per chat completion: `arrivedAt` is
 * performance.now() in this process when the request reached the server (before its body was
 * read), so it compares directly with times the caller takes with performance.now().
 */
export async function startFakeOpenAI({ delayMs = 0 } = {}) {
  let inFlight = 0;
  const sockets = new Set();
  const state = { url: "", requests: [], maxInFlight: 0, close: async () => {} };
  const handle = async (req, res) => {
    const arrivedAt = performance.now();
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "not found" } }));
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    const record = { arrivedAt, end: 0, authorization: req.headers.authorization, model: body.model };
    state.requests.push(record);
    inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, inFlight);
    try {
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      const { message, usage } = reply(body);
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
      record.end = performance.now();
    }
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: String(error?.message ?? error) } }));
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.url = `http://127.0.0.1:${server.address().port}/v1`;
  // Keep-alive sockets of clients would hold close() open: end them too.
  state.close = () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
  return state;
}
