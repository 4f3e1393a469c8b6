import { BaseChatModel, type BaseChatModelCallOptions, type BindToolsInput } from "@langchain/core/language_models/chat_models";
import type { BaseLanguageModelInput } from "@langchain/core/language_models/base";
import type { AIMessageChunk } from "@langchain/core/messages";
import type { Runnable } from "@langchain/core/runnables";
import { convertToOpenAITool } from "@langchain/core/utils/function_calling";

/** The tool a lead's structured output goes through; it is always forced. */
export const DELIVERABLES_TOOL = "write_deliverables";

export type OpenAITool = ReturnType<typeof convertToOpenAITool>;

export interface ToolCallOptions extends BaseChatModelCallOptions {
  tools?: OpenAITool[];
}

/**
 * coord's own chat models take tools as LangChain expects (structured output and agent tools
 * both bind through here): converted once to OpenAI's function format, carried in call options.
 */
export abstract class ToolBindingChatModel extends BaseChatModel<ToolCallOptions> {
  override bindTools(tools: BindToolsInput[], kwargs?: Partial<ToolCallOptions>): Runnable<BaseLanguageModelInput, AIMessageChunk, ToolCallOptions> {
    return this.withConfig({ tools: tools.map((t) => convertToOpenAITool(t as never)), ...kwargs } as Partial<ToolCallOptions>);
  }
}
