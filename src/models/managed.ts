import { createHash } from "node:crypto";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessageChunk, type AIMessage, type BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import { CoordError, CoordInternalError } from "../errors.js";
import type { Recording } from "./recording.js";
import { DEFAULT_RETRY, statusOf, withRetries, type RetryPolicy } from "./retry.js";
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
    const runnable = tools?.length ? inner.bindTools!(tools, forced ? { tool_choice: forced } : {}) : inner;
    const reply = await withRetries(
      async () => {
        try {
          const signal = fields.timeoutMs ? AbortSignal.timeout(fields.timeoutMs) : undefined;
          return (await runnable.invoke(messages, signal ? { signal } : {})) as AIMessage;
        } catch (error) {
          throw explain(error, fields);
        }
      },
      fields.retry ?? DEFAULT_RETRY,
      (error, waitMs, attempt) => fields.onRetry?.(`${fields.spec}: ${statusOf(error) ? `HTTP ${statusOf(error)}` : (error as Error).message}; retry ${attempt} in ${(waitMs / 1000).toFixed(1)}s`),
    );
    fields.recording?.put(key, reply);
    return { generations: [{ text: typeof reply.content === "string" ? reply.content : "", message: toChunk(reply) }] };
  }
}
