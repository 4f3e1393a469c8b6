import { z } from "zod";
import { AgentFrontmatterSchema } from "./schemas/agent.js";

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
