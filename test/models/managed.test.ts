import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { HumanMessage, SystemMessage, type AIMessage, type BaseMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { isCoordError, type CoordError } from "../../src/errors.js";
import { ManagedChatModel } from "../../src/models/managed.js";
import { Recording } from "../../src/models/recording.js";
import { createModel, type ModelSettings } from "../../src/models/resolve.js";
import { DELIVERABLES_TOOL } from "../../src/models/tool-binding.js";
import { startFakeOpenAI, type FakeOpenAI } from "../helpers/openai-server.js";
import { tempDir } from "../definitions/fixtures.js";

const SPEC = "openai:gpt-4o-mini";
const FAST_RETRY = { retries: 3, baseMs: 1, maxMs: 5 };

let server: FakeOpenAI | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection, the promise resolved");
}

async function coordRejection(promise: Promise<unknown>): Promise<CoordError> {
  const error = await rejection(promise);
  if (isCoordError(error)) return error;
  throw error;
}

async function modelFor(fake: FakeOpenAI, settings: Partial<ModelSettings> = {}): Promise<ManagedChatModel> {
  return createModel(SPEC, { baseUrl: fake.url, env: { OPENAI_API_KEY: "sk-test" }, retry: FAST_RETRY, ...settings });
}

const MESSAGES: BaseMessage[] = [new SystemMessage("You are analyst, a careful specialist."), new HumanMessage("## Your task\n\nList the churn drivers.")];

const deliverables = tool(async () => "", {
  name: DELIVERABLES_TOOL,
  description: "Write the deliverables",
  schema: z.object({ churn_analysis: z.string().describe("Churn analysis"), stall_analysis: z.string().describe("Stall analysis") }),
});

/** What a reply says, as a caller would store it. */
const said = (m: AIMessage) => JSON.stringify({ content: m.content, tool_calls: m.tool_calls, usage: m.usage_metadata });

describe("ManagedChatModel over HTTP", () => {
  it("fails with MODEL_AUTH naming the key variable when the server refuses the key, without retrying", async () => {
    server = await startFakeOpenAI();
    for (const status of [401, 403]) {
      server.failures.push({ status });
      const error = await coordRejection((await modelFor(server)).invoke(MESSAGES));
      expect(error.code).toBe("MODEL_AUTH");
      expect(error.message).toBe(`openai refused the API key (HTTP ${status}) for model gpt-4o-mini`);
      expect(error.hint).toContain("OPENAI_API_KEY");
    }
    expect(server.requests.map((r) => r.status)).toEqual([401, 403]);
  });

  it("fails with MODEL_UNKNOWN naming the model when the server does not know it, without retrying", async () => {
    server = await startFakeOpenAI();
    server.failures.push({ status: 404, body: { error: { message: "The model `gpt-9` does not exist", type: "invalid_request_error" } } });
    const error = await coordRejection(createModel("openai:gpt-9", { baseUrl: server.url, env: {}, retry: FAST_RETRY }).then((m) => m.invoke(MESSAGES)));
    expect(error.code).toBe("MODEL_UNKNOWN");
    expect(error.message).toBe('openai does not know model "gpt-9" (HTTP 404)');
    expect(server.requests).toHaveLength(1);
  });

  it("retries 429 and 500, honouring Retry-After, and reports each retry", async () => {
    server = await startFakeOpenAI();
    server.failures.push({ status: 500 }, { status: 429, headers: { "retry-after": "0" } });
    const retries: string[] = [];
    const reply = await (await modelFor(server, { onRetry: (m) => retries.push(m) })).invoke(MESSAGES);
    expect(reply.content).toBe('Server notes by "You are analyst, a careful specialist.".');
    expect(server.requests.map((r) => r.status)).toEqual([500, 429, 200]);
    expect(retries).toHaveLength(2);
    expect(retries[0]).toMatch(/^openai:gpt-4o-mini: HTTP 500; retry 1 in \d+\.\ds$/);
    expect(retries[1]).toBe("openai:gpt-4o-mini: HTTP 429; retry 2 in 0.0s");
  });

  it("gives up after the policy's retries, passing on the server's last error", async () => {
    server = await startFakeOpenAI();
    server.failures.push({ status: 503 }, { status: 503 }, { status: 503 });
    const error = (await rejection((await modelFor(server, { retry: { retries: 2, baseMs: 1, maxMs: 5 } })).invoke(MESSAGES))) as { status?: number };
    expect(error.status).toBe(503);
    expect(server.requests).toHaveLength(3);
  });

  it("stops a call that takes longer than the timeout, and retries it", async () => {
    const slow = await startFakeOpenAI({ delayMs: 600 });
    const retries: string[] = [];
    const started = Date.now();
    await rejection((await modelFor(slow, { timeoutMs: 100, retry: { retries: 1, baseMs: 1, maxMs: 5 }, onRetry: (m) => retries.push(m) })).invoke(MESSAGES));
    expect(Date.now() - started).toBeLessThan(500);
    expect(slow.requests).toHaveLength(2);
    expect(retries).toHaveLength(1);
    // The aborted requests' connections linger for the server's keep-alive timeout; the test need not wait for them.
    void slow.close();
  });

  it("forces the deliverables tool when it is the only tool, and returns its arguments as a tool call", async () => {
    server = await startFakeOpenAI();
    const reply = await (await modelFor(server)).bindTools([deliverables]).invoke(MESSAGES);
    expect(server.requests[0]!.body.tool_choice).toMatchObject({ type: "function", function: { name: DELIVERABLES_TOOL } });
    expect(reply.tool_calls?.map((c) => [c.name, Object.keys(c.args).sort()])).toEqual([[DELIVERABLES_TOOL, ["churn_analysis", "stall_analysis"]]]);
  });
});

describe("ManagedChatModel with a recording", () => {
  it("records every answer to a file and replays them byte for byte with the server gone", async () => {
    server = await startFakeOpenAI();
    const file = join(tempDir("coord-managed-"), "rec.json");
    const recorder = await modelFor(server, { recording: Recording.forRecord(file) });
    const notes = await recorder.invoke(MESSAGES);
    const structured = await recorder.bindTools([deliverables]).invoke(MESSAGES);
    expect(Object.keys(JSON.parse(readFileSync(file, "utf8")).entries)).toHaveLength(2);
    await server.close();
    server = undefined;

    const replayer = await createModel(SPEC, { env: {}, replay: true, recording: Recording.forReplay(file) });
    expect(said(await replayer.invoke(MESSAGES))).toBe(said(notes));
    expect(said(await replayer.bindTools([deliverables]).invoke(MESSAGES))).toBe(said(structured));
  });

  it("keeps what was recorded before and adds to it when recording again", async () => {
    server = await startFakeOpenAI();
    const file = join(tempDir("coord-managed-"), "rec.json");
    await (await modelFor(server, { recording: Recording.forRecord(file) })).invoke(MESSAGES);
    await (await modelFor(server, { recording: Recording.forRecord(file) })).invoke([...MESSAGES.slice(0, 1), new HumanMessage("Another request.")]);
    expect(Object.keys(JSON.parse(readFileSync(file, "utf8")).entries)).toHaveLength(2);
  });

  it("fails with REPLAY_MISSING for a request the recording does not hold, without calling any provider", async () => {
    server = await startFakeOpenAI();
    const file = join(tempDir("coord-managed-"), "rec.json");
    await (await modelFor(server, { recording: Recording.forRecord(file) })).invoke(MESSAGES);
    const replayer = await createModel(SPEC, { baseUrl: server.url, env: {}, replay: true, recording: Recording.forReplay(file) });
    const error = await coordRejection(replayer.invoke([MESSAGES[0]!, new HumanMessage("## Your task\n\nList the stall causes.")]));
    expect(error.code).toBe("REPLAY_MISSING");
    expect(error.message).toBe('no recorded answer for a openai:gpt-4o-mini request ("## Your task List the stall causes.…")');
    expect(error.exitCode).toBe(1);
    // The same request with tools is another request.
    expect((await coordRejection(replayer.bindTools([deliverables]).invoke(MESSAGES))).code).toBe("REPLAY_MISSING");
    // A request for another model is another request.
    const other = await createModel("openai:gpt-4o", { env: {}, replay: true, recording: Recording.forReplay(file) });
    expect((await coordRejection(other.invoke(MESSAGES))).code).toBe("REPLAY_MISSING");
    expect(server.requests).toHaveLength(1);
  });

  it("refuses to replay from a file that does not exist or is not a recording", () => {
    const dir = tempDir("coord-managed-");
    expect(() => Recording.forReplay(join(dir, "none.json"))).toThrow(expect.objectContaining({ code: "REPLAY_MISSING" }));
    writeFileSync(join(dir, "notes.md"), "# Not JSON\n");
    expect(() => Recording.forReplay(join(dir, "notes.md"))).toThrow(expect.objectContaining({ code: "INPUT_INVALID" }));
  });
});
