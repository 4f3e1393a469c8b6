import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { diagnostic, type Diagnostic } from "../errors.js";
import { walkFiles } from "../files.js";

/** The folder coord is installed in: its shipped `agents/` and `missions/` live there. */
export const PACKAGE_ROOT = resolve(fileURLToPath(new URL(".", import.meta.url)), "../..");

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
}

export function readText(file: string): string | Diagnostic {
  try {
    return readFileSync(file, "utf8");
  } catch (cause) {
    return diagnostic("FILE_UNREADABLE", `cannot read file: ${(cause as Error).message}`, {
      file,
      hint: "check the file exists and is readable",
    });
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

