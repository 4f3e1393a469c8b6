import type { BaseMessage } from "@langchain/core/messages";

/** The text of a message, whether its content is a string or a list of content blocks. */
export function messageText(message: BaseMessage): string {
  const { content } = message;
  if (typeof content === "string") return content;
  return content.map((part) => ("text" in part && typeof part.text === "string" ? part.text : "")).join("");
}
