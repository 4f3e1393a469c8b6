import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { tool } from "@langchain/core/tools";
import type { BaseCheckpointSaver } from "@langchain/langgraph";
import type { Agent } from "../definitions/schemas/agent.js";
import type { Mission } from "../definitions/schemas/mission.js";
import { compileMission, recursionLimitFor } from "./compile.js";
import { missionInputSchema } from "./input-schema.js";
import { stripOwnHeading } from "../models/prompt-format.js";

export interface MissionToolOptions {
  agents: { get(name: string): Agent | undefined } | Agent[];
  model: BaseChatModel | ((agent: Agent) => BaseChatModel);
  checkpointer?: BaseCheckpointSaver;
  /** Tool name; default the mission id with `_` for `-` (tool names must be identifiers for most providers). */
  name?: string;
  description?: string;
}

/** Every deliverable as markdown under its phase: what a calling agent reads back. */
export function deliverablesMarkdown(mission: Mission, deliverables: Record<string, Record<string, string>>): string {
  return mission.phases
    .flatMap((phase) => Object.entries(deliverables[phase.index] ?? {}).map(([title, text]) => `## Phase ${phase.index}: ${title}\n\n${stripOwnHeading(text).trim()}`))
    .join("\n\n");
}

/**
 * A mission as a LangChain tool, for `createAgent`, a supervisor or a ToolNode: its arguments are
 * the mission's inputs and it returns the deliverables as markdown.
 *
 * @example
 * const tool = missionTool(mission, { agents, model: new OfflineChatModel({}) });
 * const agent = createAgent({ model, tools: [tool] });
 */
export function missionTool(mission: Mission, options: MissionToolOptions) {
  const graph = compileMission(mission, {
    agents: options.agents,
    model: options.model,
    ...(options.checkpointer && { checkpointer: options.checkpointer }),
  });
  return tool(
    async (inputs: Record<string, string | undefined>, config) => {
      const values = Object.fromEntries(Object.entries(inputs).filter((e): e is [string, string] => typeof e[1] === "string"));
      const state = await graph.invoke({ inputs: values }, { ...config, recursionLimit: recursionLimitFor(mission) });
      return deliverablesMarkdown(mission, state.deliverables);
    },
    {
      name: options.name ?? mission.id.replace(/[^A-Za-z0-9_]+/g, "_"),
      description: options.description ?? `Run the "${mission.title}" mission (${mission.phases.length} phases) and return its deliverables. ${mission.objective}`.slice(0, 1000),
      schema: missionInputSchema(mission),
    },
  );
}
