import { createHash } from "node:crypto";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, AIMessageChunk, type BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import type { Runnable } from "@langchain/core/runnables";
import { concat } from "@langchain/core/utils/stream";
import { CoordError, CoordInternalError } from "../errors.js";
import type { ProviderLimiter } from "./rate-limit.js";
import type { Recording } from "./recording.js";
import { DEFAULT_RETRY, retryWaitMs, statusOf, withRetries, type RetryPolicy } from "./retry.js";
import { TokenBuffer, type StepRef, type StepToken } from "./streaming.js";
import { DELIVERABLES_TOOL, ToolBindingChatModel, type OpenAITool } from "./tool-binding.js";

export interface ManagedModelFields {
  /** `provider:model` or `offline`: recorded with every request, and part of its replay key. */
  spec: string;
  /** The provider's chat model; absent when replaying. */
  inner?: BaseChatModel;
  retry?: RetryPolicy;
  /** Per-call timeout. */
  timeoutMs?: number;
  /** Saves every request and response (`--record`), or answers from them (`--replay`). */
  recording?: Recording;
  replay?: boolean;
  /** Environment variable holding this provider's key, to name it when the key is refused. */
  keyVariable?: string;
  onRetry?: (message: string) => void;
  /**
   * Ask the provider for a stream and put the answer together from its chunks, handing the
   * text on as it comes (`onToken`); the caller still gets one whole message.
   */
  stream?: boolean;
  /**
   * A stream that ends without a finish reason was cut short, and is retried like a failed
   * call (OpenAI-compatible servers always send one; others' streams may not say).
   */
  requireFinish?: boolean;
  /** The provider's calls at once and its 429 waits, shared by every model of the process. */
  limiter?: ProviderLimiter;
  /** The step the current call is made for (from the graph's context), to label its tokens. */
  stepOf?: () => StepRef | undefined;
  /** Streamed text of calls made for a step, coalesced. */
  onToken?: (token: StepToken) => void;
  /** Numbers the calls whose tokens are handed on (shared by a run's models). */
  nextCall?: () => number;
}

/** A stream that ended before the provider said it was done: retried like a dropped connection. */
export class StreamCutError extends Error {
  override name = "StreamCutError";
}

/** The call ran out of its time (`timeoutMs`), whether waiting for the answer or reading it. */
export class ModelTimeoutError extends Error {
  override name = "TimeoutError";
}

/** The parts of a request that decide its answer: what a recording is keyed by. */
export function requestKey(spec: string, messages: BaseMessage[], tools: OpenAITool[] | undefined): string {
  const body = JSON.stringify({
    model: spec,
    messages: messages.map((m) => ({ role: m.getType(), content: m.content, ...("tool_call_id" in m && { tool_call_id: m.tool_call_id }) })),
    tools: (tools ?? []).map((t) => ({ name: t.function.name, parameters: t.function.parameters })),
  });
  return createHash("sha256").update(body).digest("hex");
}

function toChunk(message: AIMessage): AIMessageChunk {
  const chunk = new AIMessageChunk({
    content: message.content,
    tool_calls: message.tool_calls ?? [],
    response_metadata: message.response_metadata ?? {},
  });
  if (message.usage_metadata) chunk.usage_metadata = message.usage_metadata;
  return chunk;
}

/** Turns a provider's refusal into the one line a user can act on; anything else passes through. */
function explain(error: unknown, fields: ManagedModelFields): unknown {
  const status = statusOf(error);
  const [provider, model] = fields.spec.split(/:(.*)/s);
  if (status === 401 || status === 403) {
    return new CoordError("MODEL_AUTH", `${provider} refused the API key (HTTP ${status}) for model ${model}`, {
      hint: `set ${fields.keyVariable ?? "the provider's API key variable"} in the environment or .env to a valid key, then \`coord resume RUN_ID\``,
      hints: { remote: "the coord server's API key was refused: ask its operator to fix it, then resume the run" },
      cause: error,
    });
  }
  if (status === 404) {
    return new CoordError("MODEL_UNKNOWN", `${provider} does not know model "${model}" (HTTP 404)`, {
      hint: `check the model name in --model, COORD_MODEL or the agent's \`model:\`; then \`coord resume RUN_ID\``,
      hints: { remote: "the model configured on the coord server does not exist: ask its operator to fix it" },
      cause: error,
    });
  }
  return error;
}

/**
 * The chat model every agent step calls, whatever the provider: retries with backoff, a per-call
 * timeout, recording and replay, and structured output always through one forced tool call, so
 * the offline model, a local server and a hosted provider all take exactly the same path.
 */
export class ManagedChatModel extends ToolBindingChatModel {
  readonly fields: ManagedModelFields;

  constructor(fields: ManagedModelFields) {
    super({});
    this.fields = fields;
  }

  override _llmType(): string {
    return "coord-managed";
  }


  async _generate(messages: BaseMessage[], options: this["ParsedCallOptions"]): Promise<ChatResult> {
    const { fields } = this;
    const key = requestKey(fields.spec, messages, options.tools);
    if (fields.replay) {
      const recorded = fields.recording?.get(key);
      if (!recorded) {
        const last = String(messages.at(-1)?.content ?? "").replace(/\s+/g, " ").slice(0, 80);
        throw new CoordError("REPLAY_MISSING", `no recorded answer for a ${fields.spec} request ("${last}…")`, {
          hint: "the mission, agents, inputs or model changed since the recording: record it again with --record FILE",
          exitCode: 1,
        });
      }
      return { generations: [{ text: "", message: toChunk(recorded) }] };
    }
    const inner = fields.inner;
    if (!inner) throw new CoordInternalError(`no model to call for ${fields.spec}: a managed model was built without one and not for replay`);
    const tools = options.tools;
    const forced = tools?.length === 1 && tools[0]!.function.name === DELIVERABLES_TOOL ? DELIVERABLES_TOOL : undefined;
    const runnable = (tools?.length ? inner.bindTools!(tools, forced ? { tool_choice: forced } : {}) : inner) as Runnable<BaseMessage[], AIMessageChunk>;
    const policy = fields.retry ?? DEFAULT_RETRY;
    const step = fields.onToken ? fields.stepOf?.() : undefined;
    const call = step ? (fields.nextCall?.() ?? 0) : 0;
    // A 429's wait is the limiter's, for every call to the provider: the refused call waits
    // there too, ahead of calls not sent yet.
    let sharedWait: number | undefined;
    const reply = await withRetries(
      async (attempt) => {
        const slot = await fields.limiter?.acquire({ retry: attempt > 1, priority: sharedWait !== undefined });
        sharedWait = undefined;
        const tokens = step && fields.onToken ? new TokenBuffer(fields.onToken, step, call, attempt) : undefined;
        try {
          const message = await this.callOnce(runnable, messages, options.signal, tokens);
          slot?.release();
          return message;
        } catch (error) {
          tokens?.flush();
          if (slot && statusOf(error) === 429) {
            sharedWait = retryWaitMs(error, policy, attempt);
            slot.rateLimited(Date.now() + sharedWait);
          } else slot?.release();
          throw explain(error, fields);
        }
      },
      policy,
      (error, waitMs, attempt) => fields.onRetry?.(`${fields.spec}: ${describeFailure(error)}; retry ${attempt} in ${(waitMs / 1000).toFixed(1)}s`),
      // A call its caller stopped (the graph aborted) is not tried again.
      { waitedElsewhere: () => sharedWait, giveUp: () => !!options.signal?.aborted },
    );
    fields.recording?.put(key, reply);
    return { generations: [{ text: typeof reply.content === "string" ? reply.content : "", message: toChunk(reply) }] };
  }

  /** One attempt: the provider's answer, streamed or not, within the call's time. */
  private async callOnce(runnable: Runnable<BaseMessage[], AIMessageChunk>, messages: BaseMessage[], callerSignal: AbortSignal | undefined, tokens: TokenBuffer | undefined): Promise<AIMessage> {
    const { fields } = this;
    const timeout = fields.timeoutMs ? AbortSignal.timeout(fields.timeoutMs) : undefined;
    const signals = [timeout, callerSignal].filter((s): s is AbortSignal => !!s);
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    try {
      if (!fields.stream) return (await runnable.invoke(messages, signal ? { signal } : {})) as AIMessage;
      let whole: AIMessageChunk | undefined;
      for await (const chunk of await runnable.stream(messages, signal ? { signal } : {})) {
        whole = whole ? concat(whole, chunk) : chunk;
        tokens?.push(chunk);
      }
      signal?.throwIfAborted();
      if (!whole) throw new StreamCutError("the stream ended before any answer");
      if (fields.requireFinish && !finished(whole)) throw new StreamCutError("the stream was cut before the answer's end");
      tokens?.flush();
      return toMessage(whole);
    } catch (error) {
      if (timeout?.aborted && !callerSignal?.aborted) throw new ModelTimeoutError(`no whole answer within ${fields.timeoutMs} ms`, { cause: error });
      throw error;
    }
  }
}

/** A failure worth retrying, in a few words: the HTTP status, or the error and its cause. */
function describeFailure(error: unknown): string {
  const status = statusOf(error);
  if (status) return `HTTP ${status}`;
  const message = (error as Error)?.message ?? String(error);
  const cause = (error as { cause?: { message?: string } })?.cause?.message;
  return cause && !message.includes(cause) ? `${message} (${cause})` : message;
}

/** Whether a streamed answer says it is complete (OpenAI: finish_reason; others: their own). */
function finished(message: AIMessageChunk): boolean {
  const meta = message.response_metadata ?? {};
  return ["finish_reason", "stop_reason", "done_reason"].some((k) => meta[k] !== undefined && meta[k] !== null) || meta.done === true;
}

/** The streamed chunks put together, as the plain message a call returns. */
function toMessage(whole: AIMessageChunk): AIMessage {
  return new AIMessage({
    content: whole.content,
    tool_calls: whole.tool_calls ?? [],
    ...(whole.invalid_tool_calls?.length && { invalid_tool_calls: whole.invalid_tool_calls }),
    response_metadata: whole.response_metadata ?? {},
    ...(whole.usage_metadata && { usage_metadata: whole.usage_metadata }),
    ...(whole.id && { id: whole.id }),
  });
}
