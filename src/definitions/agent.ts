import { basename, extname } from "node:path";
import { diagnostic, type Diagnostic } from "../errors.js";
import { readFrontmatter, parseYamlFields, type KeyLines } from "./frontmatter.js";
import { AgentFrontmatterSchema, KNOWN_AGENT_FIELDS, type Agent, type AgentFrontmatter } from "./schemas/agent.js";
import { normalizeLines } from "./text.js";
import { isUnknownTool } from "./tool-names.js";

/** What reading one file found: an agent, a file that is not an agent, or problems. */
export interface AgentParse {
  agent?: Agent;
  /** Set when the file is not an agent at all (no frontmatter, an index file): skipped quietly. */
  notAgent?: string;
  diagnostics: Diagnostic[];
}

// Keys that mark a YAML map as an agent rather than some other document sharing the folder.
const AGENT_KEYS = ["name", "description", "systemPrompt", "tools", "capabilities", "model", "hooks"];

export function isYamlFile(file: string): boolean {
  return /\.ya?ml$/i.test(file);
}

/** Validates fields one by one so a single bad field costs a warning, not the whole agent. */
function validateFields(
  data: Record<string, unknown>,
  lineOf: KeyLines,
  file: string,
): { fields: AgentFrontmatter; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  // Only the known fields go through the schema; the rest are kept untouched in `extra`, so big
  // unknown maps (triggers, metadata...) cost nothing here.
  let input: Record<string, unknown> = {};
  for (const key of KNOWN_AGENT_FIELDS) if (Object.hasOwn(data, key)) input[key] = data[key];
  for (;;) {
    const result = AgentFrontmatterSchema.safeParse(input);
    if (result.success) return { fields: result.data, diagnostics };
    const bad = new Set(result.error.issues.map((i) => String(i.path[0] ?? "")));
    input = { ...input };
    for (const issue of result.error.issues) {
      const key = String(issue.path[0] ?? "");
      if (!bad.delete(key)) continue;
      delete input[key];
      diagnostics.push(
        diagnostic("AGENT_FIELD_INVALID", `field "${key}" ignored: ${issue.message}`, {
          file,
          line: lineOf(key) ?? 1,
          hint: `see docs/agent-format.md for the forms "${key}" accepts`,
        }),
      );
    }
  }
}

function extraFields(data: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(data).filter(([key]) => !KNOWN_AGENT_FIELDS.has(key)));
}

function nameFromFile(file: string): string {
  return basename(file, extname(file));
}

/**
 * Parses one agent file (markdown with YAML frontmatter, or a `.yaml` agent). Pure: the caller
 * reads the file; `file` is only used for names and diagnostics.
 */
export function parseAgent(raw: string, file: string): AgentParse {
  // Mojibake is repaired in the frontmatter (names, descriptions); the body, often thousands of
  // lines, goes to the model as written, which keeps loading hundreds of agents fast.
  const text = normalizeLines(raw);
  const diagnostics: Diagnostic[] = [];
  let data: Record<string, unknown>;
  let lineOf: KeyLines;
  let body = "";
  if (isYamlFile(file)) {
    const fields = parseYamlFields(text, file, 1);
    if (!fields.ok) return { diagnostics: [...diagnostics, ...fields.diagnostics] };
    ({ data, lineOf } = fields);
    diagnostics.push(...fields.diagnostics);
  } else {
    const front = readFrontmatter(text, file);
    if (front.kind === "none") return { notAgent: "no frontmatter", diagnostics: [] };
    if (front.kind === "error") return { diagnostics: [...diagnostics, ...front.diagnostics] };
    ({ data, lineOf, body } = front.frontmatter);
    diagnostics.push(...front.diagnostics);
  }
  if (!AGENT_KEYS.some((key) => data[key] !== undefined && data[key] !== null)) {
    return { notAgent: "frontmatter names no agent fields", diagnostics: [] };
  }

  const { fields, diagnostics: fieldProblems } = validateFields(data, lineOf, file);
  diagnostics.push(...fieldProblems);
  let name = fields.name;
  if (!name) {
    name = nameFromFile(file);
    diagnostics.push(
      diagnostic("AGENT_NAME_MISSING", `agent has no name; using the file name "${name}"`, {
        file,
        line: 2,
        hint: `add "name: ${name}" to the frontmatter`,
      }),
    );
  }
  const description = fields.description ?? "";
  if (!description) {
    diagnostics.push(
      diagnostic("AGENT_DESCRIPTION_MISSING", `agent "${name}" has no description`, {
        file,
        line: 2,
        hint: "add a one-line description: what the agent is expert in and when to use it",
      }),
    );
  }
  const unknownTools = (fields.tools ?? []).filter(isUnknownTool);
  if (unknownTools.length > 0) {
    diagnostics.push(
      diagnostic("AGENT_TOOL_UNKNOWN", `agent "${name}" lists tools coord does not know: ${unknownTools.join(", ")}`, {
        file,
        line: lineOf("tools") ?? 1,
        hint: "coord gives agents read, ls, glob and grep, and mcp__server__tool tools from .mcp.json; other names are ignored",
      }),
    );
  }
  const agent: Agent = {
    name,
    type: fields.type || "general",
    description,
    capabilities: fields.capabilities ?? [],
    priority: (fields.priority || "medium").toLowerCase(),
    color: fields.color ?? null,
    model: fields.model || null,
    tools: fields.tools ?? [],
    hooks: fields.hooks ?? {},
    body: (body.trim() || fields.systemPrompt || description).trim(),
    file,
    line: lineOf("name") ?? 1,
    extra: extraFields(data),
  };
  return { agent, diagnostics };
}
