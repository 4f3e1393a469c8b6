import { parseAgent, type AgentParse } from "./agent.js";
import { MAX_DEFINITION_BYTES, readText } from "./discover.js";
import { isParseOf, isPlainObject, isString, isStringList, isStringMap, sameStamp, stampOf, type CacheKind, type FileStamp } from "./parse-cache.js";
import type { Agent } from "./schemas/agent.js";
import { normalizeLines } from "./text.js";

/**
 * Bodies shorter than this are kept in the cache; longer ones (most: an agent's expertise runs to
 * thousands of words, three quarters of a cache of real agents) stay in their files as offsets
 * and are read when something reads them. A thousand agents are listed at every start, and few
 * of their bodies are ever read.
 */
const KEPT_BODY = 512;

/** Where an agent's body is in its file's text, once line endings are normalized. */
type BodyAt = [start: number, end: number];

const isBodyAt = (v: unknown): v is BodyAt => Array.isArray(v) && v.length === 2 && v.every(Number.isSafeInteger) && v[0] <= v[1];

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
    (isString(v.body) || isBodyAt(v.bodyAt)) &&
    Number.isInteger(v.line) &&
    isPlainObject(v.extra)
  );
}

/** The agent with a long body replaced by where it is in the file's text (in place, so fields keep their order). */
function packAgent(_file: string, parse: AgentParse, text: string): AgentParse {
  const agent = parse.agent;
  if (!agent || agent.body.length < KEPT_BODY) return parse;
  // The body is the file's text after the frontmatter, trimmed (else a field's, which may be too).
  const start = normalizeLines(text).indexOf(agent.body);
  if (start === -1) return parse;
  const bodyAt: BodyAt = [start, start + agent.body.length];
  const kept = Object.fromEntries(Object.entries(agent).map(([key, value]) => (key === "body" ? ["bodyAt", bodyAt] : [key, value])));
  return { ...parse, agent: kept as unknown as Agent };
}

/** The agent again, its body read from the file the first time something reads it. */
function unpackAgent(file: string, kept: AgentParse, stamp: FileStamp): AgentParse {
  const stored = kept.agent as (Agent & { bodyAt?: BodyAt }) | undefined;
  if (!stored?.bodyAt) return kept;
  const bodyAt = stored.bodyAt;
  const agent = Object.fromEntries(Object.entries(stored).map(([key, value]) => (key === "bodyAt" ? ["body", ""] : [key, value]))) as unknown as Agent;
  const settle = (body: string) => Object.defineProperty(agent, "body", { value: body, enumerable: true, writable: true, configurable: true });
  Object.defineProperty(agent, "body", {
    enumerable: true,
    configurable: true,
    get: () => {
      const body = bodyFromFile(file, bodyAt, stamp, stored.description);
      settle(body);
      return body;
    },
    set: settle,
  });
  return { ...kept, agent };
}

/**
 * The body where the cache says it is, while the file is the one it was parsed from; a file
 * changed since is parsed again for its body (its other fields are the ones this load read). A
 * file gone or unreadable since gives what parseAgent gives an agent with no body: its description.
 */
function bodyFromFile(file: string, [start, end]: BodyAt, stamp: FileStamp, description: string): string {
  const now = stampOf(file, MAX_DEFINITION_BYTES);
  const text = readText(file);
  if (typeof text !== "string") return description;
  if (now && sameStamp(now, stamp)) return normalizeLines(text).slice(start, end);
  return parseAgent(text, file).agent?.body ?? description;
}

/** Parsed agent files (parseAgent's answers), in `agents.json` of the cache folder. */
export const AGENT_PARSES: CacheKind<AgentParse> = {
  file: "agents.json",
  // parseAgent and every module it runs (a test keeps the list complete), and this check.
  // The bodies kept out are read back through discover's and files' reading, so those count too.
  modules: ["./agent", "./agent-cache", "./frontmatter", "./text", "./tool-names", "./schemas/agent", "../errors", "./discover", "../files"],
  packages: ["js-yaml/package.json", "zod/package.json"],
  valid: (file, value): value is AgentParse =>
    isParseOf(value, ({ agent, notAgent }) => (notAgent === undefined || isString(notAgent)) && (agent === undefined || isAgent(agent, file))),
  pack: packAgent,
  unpack: unpackAgent,
};
