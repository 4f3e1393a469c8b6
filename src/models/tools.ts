import { readdirSync, statSync } from "node:fs";
import { relative, sep } from "node:path";
import { tool, type StructuredToolInterface } from "@langchain/core/tools";
import picomatch from "picomatch";
import * as z from "zod";

import { FILE_TOOL_NAMES, type FileTool } from "../definitions/tool-names.js";
import { confine, FileRefusal, isPrivate, PathRefusal, readRegularFile, walkFiles } from "../files.js";

const MAX_READ = 200_000;
const MAX_MATCHES = 50;

/** Files under a folder an agent may read: private ones and symlinks leading out are left out. */
function walk(dir: string, roots: string[]): string[] {
  return walkFiles(dir, () => true).filter((file) => {
    try {
      return statSync(confine(file, roots)).isFile();
    } catch {
      return false;
    }
  });
}

/** A file's path below `dir` with "/" separators, the form glob patterns are written in. */
function globPath(dir: string, file: string): string {
  return relative(dir, file).split(sep).join("/");
}

/**
 * A glob as Claude Code's tools read it: `**`, `*`, `?`, `[abc]` and `{a,b}`; dotfiles only when
 * the pattern names them (`.github/**`). `anyDepth` lets a pattern without "/" match a file's
 * name in any folder, as grep's file filter (ripgrep's --glob) does; glob itself stays anchored.
 */
function globMatcher(pattern: string, anyDepth: boolean): (path: string) => boolean {
  // Not picomatch's `basename` option: it also applies to patterns with a "/", which then never match.
  const full = anyDepth && !pattern.includes("/") ? `**/${pattern}` : pattern;
  // posix: true so `[!a]` negates as in shells and ripgrep (picomatch otherwise reads the "!"
  // literally). windows: false because globPath already writes "/" on every platform, so a
  // backslash in a pattern stays an escape rather than a separator.
  const isMatch = picomatch(full, { dot: false, posix: true, windows: false });
  // One argument only: Array#filter would pass an index, and picomatch reads a second argument
  // as "return a result object", which is always truthy.
  return (path) => isMatch(path);
}

/**
 * The start of a file for the read tool: the first MAX_READ characters, as before. Bytes are
 * capped too (a UTF-8 character is at most 4 bytes), so a huge file, a FIFO or /dev/zero can
 * neither block the process nor fill its memory.
 */
function readForAgent(file: string, asked: string): string {
  try {
    return readRegularFile(file, { maxBytes: MAX_READ * 4, truncate: true }).text.slice(0, MAX_READ);
  } catch (error) {
    if (error instanceof FileRefusal) throw new PathRefusal(`refused: ${asked}: ${error.message}`);
    throw error;
  }
}

/** Runs a tool body, turning a refusal or any failure into text the model can read and act on. */
/** A file grep may search: regular and under 1 MB; a FIFO or a device is skipped, never opened. */
function searchable(file: string): string | undefined {
  try {
    return readRegularFile(file, { maxBytes: 1_000_000 }).text;
  } catch {
    return undefined;
  }
}

function guarded<T>(fn: (args: T) => string): (args: T) => Promise<string> {
  return async (args) => {
    try {
      return fn(args);
    } catch (error) {
      return `Error: ${(error as Error).message}`;
    }
  };
}

/** read, ls, glob and grep over the given folders, for agents whose frontmatter lists them. */
export function fileTools(roots: string[]): Record<FileTool, StructuredToolInterface> {
  const base = roots[0]!;
  const show = (path: string) => relative(base, path) || ".";
  return {
    read: tool(
      guarded(({ path }: { path: string }) => {
        const file = confine(path, roots);
        if (statSync(file).isDirectory()) throw new PathRefusal(`${path} is a folder; use ls`);
        return readForAgent(file, path);
      }),
      { name: "read", description: "Read a text file of the project or the run's inputs.", schema: z.object({ path: z.string().describe("File path, relative to the project folder") }) },
    ),
    ls: tool(
      guarded(({ path }: { path?: string }) => {
        const dir = confine(path ?? ".", roots);
        return readdirSync(dir, { withFileTypes: true })
          .filter((e) => !isPrivate(e.name))
          .map((e) => (e.isDirectory() ? `${e.name}/` : e.name))
          .sort()
          .join("\n");
      }),
      { name: "ls", description: "List a folder of the project or the run's inputs.", schema: z.object({ path: z.string().optional().describe("Folder path, default the project folder") }) },
    ),
    glob: tool(
      guarded(({ pattern, path }: { pattern: string; path?: string }) => {
        const dir = confine(path ?? ".", roots);
        const matches = globMatcher(pattern, false);
        return walk(dir, roots).map((f) => globPath(dir, f)).filter(matches).slice(0, 500).join("\n");
      }),
      {
        name: "glob",
        description: "Find files by pattern relative to the folder searched, e.g. **/*.md, src/**/*.{ts,tsx}, docs/[ab]*.md.",
        schema: z.object({ pattern: z.string(), path: z.string().optional() }),
      },
    ),
    grep: tool(
      guarded(({ pattern, path, glob }: { pattern: string; path?: string; glob?: string }) => {
        const start = confine(path ?? ".", roots);
        // Plain text, not a regular expression: a model-written pattern like (a+)+$ would
        // otherwise be able to stall the whole process.
        const needle = pattern.toLowerCase();
        const wanted = glob ? globMatcher(glob, true) : () => true;
        const files = statSync(start).isDirectory() ? walk(start, roots).filter((f) => wanted(globPath(start, f))) : [start];
        const hits: string[] = [];
        for (const file of files) {
          const text = searchable(file);
          if (text === undefined) continue;
          text
            .split("\n")
            .forEach((line, i) => {
              if (hits.length < MAX_MATCHES && line.toLowerCase().includes(needle)) hits.push(`${show(file)}:${i + 1}: ${line.trim().slice(0, 200)}`);
            });
          if (hits.length >= MAX_MATCHES) break;
        }
        return hits.join("\n") || "no matches";
      }),
      {
        name: "grep",
        description: "Find lines containing a text (case-insensitive) in the project or the run's inputs.",
        schema: z.object({
          pattern: z.string().describe("Text to find"),
          path: z.string().optional(),
          glob: z.string().optional().describe("Only files matching this pattern, e.g. *.md or docs/**/*.{md,txt}"),
        }),
      },
    ),
  };
}

/** The tools an agent gets, from its `tools:` names; unknown names are reported by validate. */
export function toolsForAgent(names: string[], roots: string[]): StructuredToolInterface[] {
  const wanted = new Set<FileTool>();
  for (const name of names) {
    const known = FILE_TOOL_NAMES.get(name.toLowerCase());
    if (known) wanted.add(known);
  }
  if (wanted.size === 0) return [];
  const all = fileTools(roots);
  return [...wanted].sort().map((name) => all[name]);
}
