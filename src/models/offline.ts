import { AIMessageChunk, type BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import { messageText } from "./message-text.js";
import { SECTIONS, objectiveOf, sectionBody, withoutSection } from "./prompt-format.js";
import { rankPassages, splitPassages, type Passage } from "./passages.js";
import { DELIVERABLES_TOOL, ToolBindingChatModel } from "./tool-binding.js";
import { ASSIGN_TOOL, JUDGE_TOOL, offlineAssignments, offlineVerdicts } from "./criteria-judge.js";

/** Said at the top of everything the offline model writes, so nobody mistakes it for an LLM's work. */
export const OFFLINE_NOTICE =
  "> **Offline draft.** Assembled by coord's offline model from the mission inputs and earlier deliverables; " +
  "not written by an LLM. Configure a model (see README, \"Models\") for written drafts.";

/** A rough, deterministic token count (about four characters a token, as for English text). */
export function approxTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

function bulletList(passages: Passage[]): string {
  return passages.map((p) => `- ${p.text.replace(/\s*\n\s*/g, " ")} *(from ${p.source})*`).join("\n");
}

/** The numbered steps of the prompt's Steps section, so notes can follow them one by one. */
function stepsOf(prompt: string): string[] {
  return sectionBody(prompt, SECTIONS.steps)
    .split("\n")
    .map((l) => /^\s*\d+\.\s+(.*)$/.exec(l)?.[1]?.trim())
    .filter((s): s is string => !!s);
}

/**
 * A deliverable as a working scaffold: what it answers, the evidence from the inputs with its
 * sources, and what the inputs leave open.
 */
function draftDeliverable(title: string, instructions: string, prompt: string, passages: Passage[]): string {
  const relevant = rankPassages(`${title} ${instructions}`, passages, 6);
  const objective = objectiveOf(prompt);
  const out = [`## ${title}`, "", OFFLINE_NOTICE, ""];
  if (objective) out.push(`**Purpose:** ${objective}`, "");
  out.push("**Evidence from the inputs:**", "", relevant.length ? bulletList(relevant) : "- (no input mentions this topic)", "");
  if (relevant.length < 3) out.push("**Open:** the inputs say little about this; add material on it (or configure a model) to complete it.", "");
  return out.join("\n");
}

function draftNotes(prompt: string, passages: Passage[]): string {
  const steps = stepsOf(prompt);
  if (steps.length === 0) {
    // No steps to follow: the passages closest to the whole request, else the first ones.
    const relevant = rankPassages(prompt, passages, 6);
    return [OFFLINE_NOTICE, "", bulletList(relevant.length ? relevant : passages.slice(0, 6)) || "- (no material in the request)", ""].join("\n");
  }
  const sections = steps.map((step, i) => {
    const relevant = rankPassages(step, passages, 3);
    return [`### ${i + 1}. ${step}`, "", relevant.length ? bulletList(relevant) : "- (nothing in the inputs on this)"].join("\n");
  });
  return [OFFLINE_NOTICE, "", ...sections, ""].join("\n\n").replace(/\n{3,}/g, "\n\n");
}

/**
 * The model coord uses when no provider is configured. It goes through LangChain's chat model
 * path like any provider (tool calls for structured output, usage metadata) and writes the same
 * text for the same prompt: passages of the prompt most relevant to what is asked, with sources.
 */
export class OfflineChatModel extends ToolBindingChatModel {
  static override lc_name() {
    return "OfflineChatModel";
  }

  override _llmType(): string {
    return "coord-offline";
  }


  async _generate(messages: BaseMessage[], options: this["ParsedCallOptions"]): Promise<ChatResult> {
    // The request's material: the shared context of the system prompt and the step's ask, without
    // the agent's role, whose text is expertise, not evidence.
    const prompt = withoutSection(
      messages
        .filter((m) => m.getType() === "human" || m.getType() === "system")
        .map(messageText)
        .join("\n\n"),
      SECTIONS.role,
    );
    const passages = splitPassages(prompt);
    // Only the deliverables tool is answered with a tool call; agent tools (read, grep...) are
    // left unused, since choosing files to read is beyond an offline draft.
    const tool = options.tools?.find((t) => t.function.name === DELIVERABLES_TOOL);
    const judge = options.tools?.find((t) => t.function.name === JUDGE_TOOL);
    const assign = options.tools?.find((t) => t.function.name === ASSIGN_TOOL);
    let message: AIMessageChunk;
    let output: string;
    if (assign) {
      const args = { assignments: offlineAssignments(prompt) };
      output = JSON.stringify(args);
      message = new AIMessageChunk({ content: "", tool_calls: [{ id: "offline_assign_1", name: ASSIGN_TOOL, args, type: "tool_call" }] });
    } else if (judge) {
      const args = { verdicts: offlineVerdicts(prompt) };
      output = JSON.stringify(args);
      message = new AIMessageChunk({ content: "", tool_calls: [{ id: "offline_judge_1", name: JUDGE_TOOL, args, type: "tool_call" }] });
    } else if (tool) {
      const properties = (tool.function.parameters as { properties?: Record<string, { description?: string }> }).properties ?? {};
      const args = Object.fromEntries(
        Object.entries(properties).map(([key, prop]) => {
          const [title, ...rest] = (prop.description ?? key).split("\n");
          return [key, draftDeliverable(title!, rest.join("\n"), prompt, passages)];
        }),
      );
      output = JSON.stringify(args);
      message = new AIMessageChunk({ content: "", tool_calls: [{ id: "offline_call_1", name: tool.function.name, args, type: "tool_call" }] });
    } else {
      output = draftNotes(prompt, passages);
      message = new AIMessageChunk({ content: output });
    }
    const input = approxTokens(messages.map(messageText).join("\n"));
    const out = approxTokens(output);
    message.usage_metadata = { input_tokens: input, output_tokens: out, total_tokens: input + out };
    message.response_metadata = { model_name: "coord-offline" };
    return { generations: [{ text: typeof message.content === "string" ? message.content : "", message }] };
  }
}
