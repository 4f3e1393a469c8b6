import { existsSync } from "node:fs";
import { join } from "node:path";
import { parse as parseDotenv } from "dotenv";
import type * as z from "zod";
import { CoordError } from "../errors.js";
import { readRegularFile } from "../files.js";
import { McpServerSchema, SettingsSchema, type Settings, type SettingsInput } from "./schemas/settings.js";

export const CONFIG_FILE = "coord.config.json";

type Env = Record<string, string | undefined>;

/** Where each layer of settings comes from, lowest first; the one settings object is resolved from these. */
export interface SettingsSources {
  /** `coord.config.json`, as parsed JSON (not yet validated). */
  file?: unknown;
  /** The file's name and text, to name it and its lines in errors. */
  fileName?: string;
  fileText?: string;
  /** Variables of the project's `.env`. */
  dotenv?: Env;
  /** The process environment. */
  env?: Env;
  /** Command-line flags (or a remote caller's options), already mapped onto settings. */
  flags?: SettingsInput;
  /** Named MCP servers of the project's `.mcp.json`, under the config's own. */
  mcpServers?: Record<string, z.infer<typeof McpServerSchema>>;
}

const list = (value: string) => value.split(",").map((s) => s.trim()).filter(Boolean);

/** The environment variables that are settings, and where each goes. Keys stay in the environment. */
const ENV_SETTINGS: Array<[variable: string, apply: (value: string) => SettingsInput]> = [
  ["COORD_MODEL", (v) => ({ models: { default: v } })],
  ["COORD_BASE_URL", (v) => ({ models: { baseUrl: v } })],
  ["COORD_HOME", (v) => ({ home: v })],
  ["COORD_DATABASE_URL", (v) => ({ database: v })],
  ["COORD_SLACK_APPROVERS", (v) => ({ remote: { slackApprovers: list(v) } })],
  ["COORD_SLACK_RESPONSE_HOSTS", (v) => ({ remote: { slackResponseHosts: ["hooks.slack.com", ...list(v)] } })],
];

function envLayer(env: Env | undefined): SettingsInput {
  return ENV_SETTINGS.reduce<SettingsInput>((acc, [variable, apply]) => (env?.[variable]?.trim() ? merge(acc, apply(env[variable]!.trim())) : acc), {});
}

/**
 * Earlier config files were flat (`model`, `baseUrl`, `timeoutSeconds`, `prices`,
 * `allowFileInputs`): they are read as the nested keys they became.
 */
function normalizeFile(file: unknown): unknown {
  if (!file || typeof file !== "object" || Array.isArray(file)) return file;
  const { model, baseUrl, timeoutSeconds, prices, allowFileInputs, ...rest } = file as Record<string, unknown>;
  const legacy: Record<string, unknown> = {};
  const models = { ...(model !== undefined && { default: model }), ...(baseUrl !== undefined && { baseUrl }), ...(prices !== undefined && { prices }), ...(timeoutSeconds !== undefined && { timeoutMs: typeof timeoutSeconds === "number" ? timeoutSeconds * 1000 : timeoutSeconds }) };
  if (Object.keys(models).length) legacy.models = models;
  if (allowFileInputs !== undefined) legacy.remote = { allowFileInputs };
  return merge(legacy, rest);
}

/** Deep merge of plain objects; arrays and other values of `over` replace those of `under`. */
function merge<T>(under: T, over: unknown): T {
  if (!isPlainObject(under) || !isPlainObject(over)) return (over === undefined ? under : over) as T;
  const out: Record<string, unknown> = { ...under };
  for (const [key, value] of Object.entries(over)) out[key] = key in out ? merge(out[key], value) : value;
  return out as T;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === "object" && !Array.isArray(value);
}

/** The 1-based line of a JSON file where `key` is first written, for pointing at a bad value. */
function lineOfKey(text: string | undefined, key: string | number | undefined): number | undefined {
  if (!text || key === undefined) return undefined;
  const index = text.split("\n").findIndex((l) => l.includes(`"${String(key)}"`));
  return index === -1 ? undefined : index + 1;
}

/** Every problem of one layer, each as `path: message`. */
function problemsOf(layer: unknown): Array<{ path: PropertyKey[]; text: string }> {
  const parsed = SettingsSchema.safeParse(layer);
  if (parsed.success) return [];
  return parsed.error.issues.map((issue) => {
    const path = issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0]!] : issue.path;
    const message = issue.code === "unrecognized_keys" ? `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}` : issue.message.replace(/^Invalid input: /, "");
    return { path, text: `${path.map(String).join(".") || "(root)"}: ${message}` };
  });
}

/**
 * Resolves the one settings object from its layers, with one precedence: flags > environment >
 * .env > coord.config.json > defaults. Each layer is checked on its own first, so a problem is
 * reported against the place it was written, and every problem of the config file at once.
 */
export function resolveSettings(sources: SettingsSources = {}): Settings {
  const file = normalizeFile(sources.file ?? {});
  const fileName = sources.fileName ?? CONFIG_FILE;
  const fileProblems = problemsOf(file);
  if (fileProblems.length) {
    const count = fileProblems.length > 1 ? ` (${fileProblems.length} problems)` : "";
    throw new CoordError("CONFIG_INVALID", `${fileProblems.map((p) => p.text).join("; ")}${count}`, {
      file: fileName,
      ...(lineOfKey(sources.fileText, fileProblems[0]!.path.at(-1) as string | number | undefined) !== undefined && { line: lineOfKey(sources.fileText, fileProblems[0]!.path.at(-1) as string | number)! }),
      hint: 'write it like { "models": { "default": "openai:gpt-4o-mini", "timeoutMs": 90000 } } (see schemas/settings.schema.json)',
    });
  }
  const layers: Array<[label: string, layer: unknown]> = [
    [".env", envLayer(sources.dotenv)],
    ["the environment", envLayer(sources.env)],
    ["the command line", sources.flags ?? {}],
  ];
  for (const [label, layer] of layers) {
    const problems = problemsOf(layer);
    if (problems.length) throw new CoordError("CONFIG_INVALID", `settings from ${label}: ${problems.map((p) => p.text).join("; ")}`, { hint: "correct the value named; see schemas/settings.schema.json for every setting" });
  }
  const withServers = merge({ mcpServers: sources.mcpServers ?? {} } as SettingsInput, file);
  const merged = layers.reduce<unknown>((acc, [, layer]) => merge(acc, layer), withServers);
  return SettingsSchema.parse(merged);
}

// Settings files are a few KB; a FIFO or a huge file put in their place must not hang or fill coord.
const MAX_SETTINGS_BYTES = 1024 * 1024;

/** A project file of settings (coord's or a tool's, like langgraph.json): a regular file of at most 1 MB. */
export function readSettingsFile(path: string, code: "CONFIG_INVALID" = "CONFIG_INVALID"): string {
  try {
    return readRegularFile(path, { maxBytes: MAX_SETTINGS_BYTES }).text;
  } catch (cause) {
    throw new CoordError(code, `not read: ${(cause as Error).message}`, { file: path, hint: "make it a regular file of settings (a few KB)", cause });
  }
}

/** Reads a JSON file of the project, or undefined when there is none; bad JSON names its line. */
function readJsonFile(path: string, code: "CONFIG_INVALID"): { data: unknown; text: string } | undefined {
  if (!existsSync(path)) return undefined;
  const text = readSettingsFile(path, code);
  try {
    return { data: JSON.parse(text), text };
  } catch (cause) {
    const position = /position (\d+)/.exec((cause as Error).message)?.[1];
    const line = position ? text.slice(0, Number(position)).split("\n").length : undefined;
    throw new CoordError(code, `not valid JSON: ${(cause as Error).message}`, { file: path, ...(line && { line }), hint: "fix the JSON syntax", cause });
  }
}

const McpFileSchema = SettingsSchema.shape.mcpServers;

/** The servers of the project's `.mcp.json` (Claude Code's file), checked against the same schema. */
function readMcpFile(cwd: string): SettingsSources["mcpServers"] {
  const path = join(cwd, ".mcp.json");
  const read = readJsonFile(path, "CONFIG_INVALID");
  if (!read) return undefined;
  const servers = McpFileSchema.safeParse((read.data as { mcpServers?: unknown })?.mcpServers ?? {});
  if (!servers.success) {
    const issue = servers.error.issues[0]!;
    throw new CoordError("CONFIG_INVALID", `mcpServers.${issue.path.join(".")}: ${issue.message}`, { file: path, hint: 'write it like { "mcpServers": { "name": { "command": "...", "args": [] } } }' });
  }
  return servers.data;
}

/**
 * A project's settings as its files and environment give them: `coord.config.json`, `.mcp.json`,
 * `.env` (never overriding the environment) and the process environment, under the given flags.
 * Returns the environment too, `.env` included: providers' keys and hooks read it, and nothing
 * below the interfaces reads `process.env`.
 */
export function loadSettings(cwd: string, env: Env, flags: SettingsInput = {}): { settings: Settings; env: Env } {
  const dotenvPath = join(cwd, ".env");
  const dotenv = existsSync(dotenvPath) ? parseDotenv(readSettingsFile(dotenvPath, "CONFIG_INVALID")) : {};
  const config = readJsonFile(join(cwd, CONFIG_FILE), "CONFIG_INVALID");
  const mcpServers = readMcpFile(cwd);
  const settings = resolveSettings({
    ...(config && { file: config.data, fileText: config.text }),
    fileName: join(cwd, CONFIG_FILE),
    dotenv,
    env,
    flags,
    ...(mcpServers && { mcpServers }),
  });
  return { settings, env: { ...dotenv, ...env } };
}
