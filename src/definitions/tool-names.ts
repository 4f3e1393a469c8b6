/** The file tools coord gives agents, by the names agent files use for them (lower-cased). */
export type FileTool = "read" | "ls" | "glob" | "grep";

export const FILE_TOOL_NAMES = new Map<string, FileTool>([
  ["read", "read"],
  ["ls", "ls"],
  ["list", "ls"],
  ["glob", "glob"],
  ["grep", "grep"],
  ["search", "grep"],
]);

/** Claude Code tools coord deliberately does not give agents: agents here read, they don't act. */
export const WITHHELD_TOOLS = new Set([
  "write",
  "edit",
  "multiedit",
  "bash",
  "webfetch",
  "websearch",
  "task",
  "todowrite",
  "notebookedit",
  "notebookread",
]);

/** A tools entry coord can neither give nor deliberately withholds (MCP tools are resolved later). */
export function isUnknownTool(name: string): boolean {
  const lower = name.toLowerCase();
  return !FILE_TOOL_NAMES.has(lower) && !WITHHELD_TOOLS.has(lower) && !lower.startsWith("mcp__");
}
