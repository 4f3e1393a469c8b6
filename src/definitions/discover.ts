import { existsSync, realpathSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { diagnostic, type Diagnostic } from "../errors.js";
import { FileRefusal, readRegularFile, walkFiles } from "../files.js";


/** A folder to search, and why it is searched (for messages). */
export interface SearchRoot {
  dir: string;
  origin: "flag" | "project" | "claude" | "builtin";
}

/**
 * Folders in precedence order, existing ones only, each once even when two spellings reach it
 * (running coord inside its own checkout makes ./agents and the shipped agents the same folder).
 */
export function searchRoots(explicit: string[], defaults: Array<Omit<SearchRoot, "dir"> & { dir: string }>, cwd: string): SearchRoot[] {
  const seen = new Set<string>();
  const roots: SearchRoot[] = [];
  for (const root of [...explicit.map((dir) => ({ dir, origin: "flag" as const })), ...defaults]) {
    const dir = resolve(cwd, root.dir);
    if (!existsSync(dir)) continue;
    const real = realpathSync(dir);
    if (seen.has(real)) continue;
    seen.add(real);
    roots.push({ dir, origin: root.origin });
  }
  return roots;
}

export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export interface LoadOptions {
  /** `--agents DIR` folders, searched first, in order. */
  agentDirs?: string[];
  /** `--missions DIR` folders, searched first, in order. */
  missionDirs?: string[];
  /** Where ./agents, ./.claude/agents and ./missions are looked for. Default: process.cwd(). */
  cwd?: string;
  /** Include the agents and missions that ship with coord. Default: true. */
  builtin?: boolean;
  /**
   * A folder (absolute path) where parsed agent and mission files are kept between loads, so
   * unchanged files are not parsed again: the CLI uses the project's `.coord/cache`. The results
   * are the same with or without it. Default: none, every file is parsed.
   */
  cacheDir?: string;
}

/**
 * Largest agent or mission file read. The biggest real ones are tens of KB; a file this size is
 * a mistake (a log, a dump) or an attack, and reading it would stall every command that loads.
 */
export const MAX_DEFINITION_BYTES = 5 * 1024 * 1024;

const REFUSAL_HINTS: Record<FileRefusal["reason"], string> = {
  missing: "check the file exists, or remove the broken link",
  "not-regular": "agent and mission folders hold regular files only: move or rename it",
  "too-large": "split the file, or move it out of the agent and mission folders",
  unreadable: "check the file exists and is readable",
};

/** An agent or mission file's text, or why it was not read (FILE_TOO_LARGE, FILE_UNREADABLE). */
export function readText(file: string): string | Diagnostic {
  try {
    return readRegularFile(file, { maxBytes: MAX_DEFINITION_BYTES }).text;
  } catch (cause) {
    const reason = cause instanceof FileRefusal ? cause.reason : "unreadable";
    const message = (cause as Error).message;
    if (reason === "too-large") {
      return diagnostic("FILE_TOO_LARGE", `file not read: ${message} for agent and mission files`, { file, hint: REFUSAL_HINTS[reason] });
    }
    return diagnostic("FILE_UNREADABLE", `cannot read file: ${message}`, { file, hint: REFUSAL_HINTS[reason] });
  }
}

/** Expands paths given on a command line (files or folders) into files; unknown paths are errors. */
export function expandPaths(paths: string[], accept: RegExp, cwd = process.cwd()): { files: string[]; diagnostics: Diagnostic[] } {
  const files: string[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const path of paths) {
    const full = resolve(cwd, path);
    if (!existsSync(full)) {
      diagnostics.push(diagnostic("PATH_NOT_FOUND", `no such file or folder: ${path}`, { hint: "check the path" }));
    } else if (isDirectory(full)) files.push(...walkFiles(full, (name) => accept.test(name)));
    else files.push(full);
  }
  return { files, diagnostics };
}

