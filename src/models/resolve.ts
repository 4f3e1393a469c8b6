import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { Agent } from "../definitions/schemas/agent.js";
import { OfflineChatModel } from "./offline.js";

/** The name run.json records for the offline model. */
export const OFFLINE_MODEL = "offline";

/**
 * Chooses each agent's chat model. Only the offline model exists so far; provider strings
 * (`openai:gpt-4o-mini`...) arrive with the models work and resolve here, in one place.
 */
export function modelChooser(_spec: string): { name: string; forAgent(agent: Agent): BaseChatModel } {
  const offline = new OfflineChatModel({});
  return { name: OFFLINE_MODEL, forAgent: () => offline };
}
