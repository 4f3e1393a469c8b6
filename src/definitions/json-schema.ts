import * as z from "zod";
import { AgentFrontmatterSchema } from "./schemas/agent.js";
import { SettingsSchema } from "./schemas/settings.js";

/**
 * The agent frontmatter format as JSON Schema, for editors (YAML language servers read it).
 * Generated from the zod schema, so the two cannot drift; `schemas/agent.schema.json` is this
 * output, checked by a test.
 */
export function agentFrontmatterJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(AgentFrontmatterSchema, { io: "input", unrepresentable: "any" }),
    title: "coord agent frontmatter",
    description: "YAML frontmatter of a coord agent file (claude-flow and Claude Code agents are read as they are).",
  };
}

/**
 * `coord.config.json` as JSON Schema: the settings schema as a file gives it (every field
 * optional, defaults shown). `schemas/settings.schema.json` is this output, checked by a test.
 */
export function settingsJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(SettingsSchema, { io: "input", unrepresentable: "any" }),
    title: "coord.config.json",
    description: "Project settings of coord (no secrets: keys stay in the environment or .env). Flags, the environment and .env win over this file.",
  };
}

/** Every JSON Schema coord ships, by file name under `schemas/`. */
export const JSON_SCHEMAS: Record<string, () => Record<string, unknown>> = {
  "agent.schema.json": agentFrontmatterJsonSchema,
  "settings.schema.json": settingsJsonSchema,
};
