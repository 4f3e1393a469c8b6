import type { LoadOptions } from "../../definitions/discover.js";
import type { Settings, SettingsInput } from "../../definitions/schemas/settings.js";
import { loadSettings } from "../../definitions/settings.js";
import { CoordError } from "../../errors.js";
import { parseCacheDir } from "../../runtime/store.js";
import type { Io } from "./io.js";

/** The project's settings under the command's flags, and the environment with `.env` in it. */
export function projectSettings(io: Io, flags: SettingsInput = {}) {
  const loaded = loadSettings(io.cwd, io.env, flags);
  exportLangSmithVariables(io, loaded.env);
  return loaded;
}

// LangSmith's and LangChain's tracing variables (LANGSMITH_TRACING, LANGSMITH_API_KEY, ...).
const LANGSMITH_VARIABLE = /^(LANGSMITH|LANGCHAIN)_/;

/**
 * LangChain reads LangSmith's variables from the process's environment only, while coord reads
 * `.env` beside it, never into it. So that LangSmith traces from `.env` as it does from the
 * shell, the CLI's own process takes them from there (where the shell has not set them); other
 * settings stay out of the process's environment. In-process callers with an environment of
 * their own (tests) are left alone.
 */
function exportLangSmithVariables(io: Io, env: Record<string, string | undefined>): void {
  if (!io.processEnv) return;
  for (const [key, value] of Object.entries(env)) {
    if (LANGSMITH_VARIABLE.test(key) && value !== undefined && process.env[key] === undefined) process.env[key] = value;
  }
}

/**
 * Load options with the project's parse cache, `.coord/cache` (see definitions/parse-cache.ts):
 * agents and missions unchanged since an earlier command are not parsed again. Settings that
 * cannot be read only cost the cache: listing agents never fails on them. A command that has
 * read them already gives them.
 */
export function withParseCache(io: Io, load: LoadOptions, settings?: Settings): LoadOptions {
  try {
    return { ...load, cacheDir: parseCacheDir(io.cwd, settings ?? projectSettings(io).settings) };
  } catch {
    return load;
  }
}

/** A flag that must be a number above 0 (seconds, dollars). */
export function positiveNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!value.trim() || !Number.isFinite(n) || n <= 0) throw new CoordError("USAGE", `${flag} must be a number above 0, not "${value}"`, { hint: `e.g. ${flag} 2.5` });
  return n;
}

/** A flag that must be a whole number of 1 or more (tokens, agents). */
export function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!value.trim() || !Number.isInteger(n) || n < 1) throw new CoordError("USAGE", `${flag} must be a whole number of 1 or more, not "${value}"`, { hint: `e.g. ${flag} 4` });
  return n;
}

/** Seconds on the command line, milliseconds in settings. */
export function secondsFlag(value: string | undefined, flag: string): number | undefined {
  const seconds = positiveNumber(value, flag);
  // Settings count whole milliseconds; a tiny positive value still means at least one.
  return seconds === undefined ? undefined : Math.max(1, Math.round(seconds * 1000));
}
