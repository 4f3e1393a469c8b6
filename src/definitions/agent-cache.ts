import type { AgentParse } from "./agent.js";
import { isParseOf, isPlainObject, isString, isStringList, isStringMap, type CacheKind } from "./parse-cache.js";

/** Every field of an Agent with the right type (schemas/agent.ts's AgentSchema, checked cheaply: a thousand are read at once). */
function isAgent(v: unknown, file: string): boolean {
  if (!isPlainObject(v) || v.file !== file) return false;
  return (
    isString(v.name) &&
    v.name.length > 0 &&
    isString(v.type) &&
    isString(v.description) &&
    isStringList(v.capabilities) &&
    isString(v.priority) &&
    (v.color === null || isString(v.color)) &&
    (v.model === null || isString(v.model)) &&
    isStringList(v.tools) &&
    isStringMap(v.hooks) &&
    isString(v.body) &&
    Number.isInteger(v.line) &&
    isPlainObject(v.extra)
  );
}

/** Parsed agent files (parseAgent's answers), in `agents.json` of the cache folder. */
export const AGENT_PARSES: CacheKind<AgentParse> = {
  file: "agents.json",
  // parseAgent and every module it runs (a test keeps the list complete), and this check.
  modules: ["./agent", "./agent-cache", "./frontmatter", "./text", "./tool-names", "./schemas/agent", "../errors"],
  packages: ["js-yaml/package.json", "zod/package.json"],
  valid: (file, value): value is AgentParse =>
    isParseOf(value, ({ agent, notAgent }) => (notAgent === undefined || isString(notAgent)) && (agent === undefined || isAgent(agent, file))),
};
