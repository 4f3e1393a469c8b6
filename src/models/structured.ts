import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { AIMessage, BaseMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import type * as z from "zod";
import { fromUsageMetadata, type Usage } from "./usage.js";

/**
 * One structured-output call: the model answers through the tool `name`, whose parameters are
 * `schema`. `value` is what the reply holds, checked by the schema when it passes and as the model
 * gave it when it does not (a reply missing a field: what it did return is still worth keeping;
 * callers take what they can use from it), or undefined when it called no tool. With the call's usage.
 */
export async function askStructured<S extends z.ZodType<Record<string, unknown>>>(
  model: BaseChatModel,
  schema: S,
  name: string,
  messages: BaseMessage[],
  config?: RunnableConfig,
): Promise<{ value: Partial<z.infer<S>> | undefined; usage: Usage }> {
  const structured = model.withStructuredOutput(schema, { name, includeRaw: true });
  const { raw, parsed } = (await structured.invoke(messages, config)) as { raw: AIMessage; parsed: z.infer<S> | null };
  const value = parsed ?? (raw.tool_calls?.[0]?.args as Partial<z.infer<S>> | undefined);
  return { value, usage: fromUsageMetadata(raw.usage_metadata) };
}
