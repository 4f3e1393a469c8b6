import * as z from "zod";

// Real agent folders write the same field many ways (see the corpus README): these helpers
// normalise each to one shape so the runner never has to care which collection a file came from.

const DENY_KEYS = /^(restricted|denied|disallowed|forbidden|blocked)/i;

/** A list field as a list, a comma string, or a map of lists (`tools: {primary: [...]}`). */
function toStringList(value: unknown): string[] {
  if (value === null || value === undefined) return [];
  if (typeof value === "string") return value.split(/[,\n]/).map((s) => s.trim()).filter(Boolean);
  if (Array.isArray(value)) return value.flatMap(listItem);
  if (typeof value === "object") {
    return Object.entries(value).flatMap(([key, v]) => {
      if (DENY_KEYS.test(key)) return [];
      if (v === true) return [key];
      return Array.isArray(v) || typeof v === "string" ? toStringList(v) : [];
    });
  }
  return [String(value)];
}

function listItem(item: unknown): string[] {
  if (typeof item === "string") return item.trim() ? [item.trim()] : [];
  if (typeof item === "number" || typeof item === "boolean") return [String(item)];
  if (item && typeof item === "object") {
    const named = (item as { name?: unknown }).name;
    return typeof named === "string" ? [named] : Object.keys(item).slice(0, 1);
  }
  return [];
}

const stringList = z
  .union([z.string(), z.array(z.unknown()), z.record(z.string(), z.unknown()), z.null()])
  .transform(toStringList);

const scalarText = z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v).trim());

// claude-flow v2 templates call hooks pre_execution/post_execution, others pre_task/post_task.
const HOOK_ALIASES = new Map([
  ["pre_execution", "pre"],
  ["pre_task", "pre"],
  ["post_execution", "post"],
  ["post_task", "post"],
]);

/** A hook as a shell script, whether written as a block string or a YAML list of commands. */
const hookScript = z
  .union([z.string(), z.array(z.union([z.string(), z.number()])), z.null()])
  .transform((v) => (Array.isArray(v) ? v.map(String).join("\n") : (v ?? "")).trim());

const hooks = z
  .union([z.record(z.string(), hookScript), z.null()])
  .transform((map) => {
    const out: Record<string, string> = {};
    for (const [key, script] of Object.entries(map ?? {})) {
      const event = HOOK_ALIASES.get(key) ?? key;
      if (script && !(event in out && key !== event)) out[event] = script;
    }
    return out;
  });

const color = z
  .union([z.string(), z.null()])
  .transform((v) => v?.trim() || null)
  .refine((v) => v === null || /^#[0-9a-fA-F]{3,8}$/.test(v) || /^[a-zA-Z][a-zA-Z -]*$/.test(v), {
    message: "a color is a name (blue) or a quoted hex value (\"#2196F3\")",
  });

/**
 * The agent file format: YAML frontmatter of a markdown agent, or a whole `.yaml` agent.
 * Every field is optional and tolerant; unknown fields pass through untouched.
 */
export const AgentFrontmatterSchema = z.looseObject({
  name: scalarText.optional().describe("Unique agent name, referenced by missions as @name."),
  type: scalarText.optional().describe("Free-form kind of agent: coordinator, analyst, tester..."),
  color: color.optional().describe("Display color: a name or a quoted hex value."),
  description: scalarText.optional().describe("What the agent is expert in and when to use it."),
  capabilities: stringList.optional().describe("Capabilities as a list, a comma string or a map."),
  priority: scalarText.optional().describe("low | medium | high | critical, or any word."),
  hooks: hooks.optional().describe("Shell run around each step: pre and post (aliases pre_execution, pre_task...)."),
  model: scalarText.optional().describe("provider:model, or a Claude Code alias (sonnet, opus, haiku, inherit)."),
  tools: stringList.optional().describe("Tools the agent may use, as a list, a comma string or a map of lists."),
  systemPrompt: scalarText.optional().describe("For .yaml agents: the expertise, when there is no markdown body."),
});
export type AgentFrontmatter = z.output<typeof AgentFrontmatterSchema>;

export const KNOWN_AGENT_FIELDS = new Set(Object.keys(AgentFrontmatterSchema.shape));

/** An agent as coord uses it, whichever way its file spelled it. */
export const AgentSchema = z.object({
  name: z.string().min(1),
  type: z.string(),
  description: z.string(),
  capabilities: z.array(z.string()),
  priority: z.string(),
  color: z.string().nullable(),
  model: z.string().nullable(),
  tools: z.array(z.string()),
  hooks: z.record(z.string(), z.string()),
  /** The expertise: the markdown body, used as the system prompt. */
  body: z.string(),
  file: z.string(),
  /** 1-based line of the `name` field (or 1), for pointing at the definition. */
  line: z.number().int(),
  /** Fields coord does not know, kept for the runner and for tools built on coord. */
  extra: z.record(z.string(), z.unknown()),
});
export type Agent = z.infer<typeof AgentSchema>;
