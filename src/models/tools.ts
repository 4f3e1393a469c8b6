import { readFileSync, readdirSync, realpathSync, statSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { walkFiles } from "../definitions/discover.js";
import { tool, type StructuredToolInterface } from "@langchain/core/tools";
import { z } from "zod";

import { FILE_TOOL_NAMES, type FileTool } from "../definitions/tool-names.js";

export class ToolRefusal extends Error {
  override name = "ToolRefusal";
}

const MAX_READ = 200_000;
const MAX_MATCHES = 50;

/**
 * Resolves a path an agent asked for, refusing anything outside the allowed folders: `..`
 * traversal, absolute paths elsewhere, and symlinks that lead out are all caught because the
 * check is made on the real path.
 */
export function confine(path: string, roots: string[]): string {
  const realRoots = roots.map((r) => realpathSync(r));
  const candidate = isAbsolute(path) ? path : resolve(roots[0]!, path);
  let real: string;
  try {
    real = realpathSync(candidate);
  } catch {
    throw new ToolRefusal(`no such file or folder: ${path}`);
  }
  const root = realRoots.find((r) => real === r || real.startsWith(r + sep));
  if (!root) throw new ToolRefusal(`refused: ${path} is outside the folders this agent may read (the project and the run's inputs)`);
  if (relative(root, real).split(sep).some(isPrivate)) throw new ToolRefusal(`refused: ${path} holds secrets or coord's own state`);
  return real;
}

// Inside the project, what holds keys (.env, .mcp.json), coord's checkpoints and git internals is
// off limits: a prompt injection in the inputs must not be able to read them into a prompt.
const PRIVATE = /^(\.env(rc)?(\..*)?|\.mcp\.json|\.coord|\.git|\.npmrc|coord\.config\.json)$/i;
function isPrivate(segment: string): boolean {
  return PRIVATE.test(segment);
}

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

/** `**` any folders, `*` any name part, `?` one character. */
export function globToRegExp(pattern: string): RegExp {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*\*\//g, "\u0000")
    .replace(/\*\*/g, "\u0001")
    .replace(/\*/g, "[^/]*")
    .replace(/\?/g, "[^/]")
    .replace(/\u0000/g, "(?:.*/)?")
    .replace(/\u0001/g, ".*");
  return new RegExp(`^${re}$`);
}

/** Runs a tool body, turning a refusal or any failure into text the model can read and act on. */
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
        if (statSync(file).isDirectory()) throw new ToolRefusal(`${path} is a folder; use ls`);
        return readFileSync(file, "utf8").slice(0, MAX_READ);
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
        const re = globToRegExp(pattern);
        return walk(dir, roots).map((f) => relative(dir, f).split(sep).join("/")).filter((f) => re.test(f)).slice(0, 500).join("\n");
      }),
      { name: "glob", description: "Find files by pattern, e.g. **/*.md.", schema: z.object({ pattern: z.string(), path: z.string().optional() }) },
    ),
    grep: tool(
      guarded(({ pattern, path }: { pattern: string; path?: string }) => {
        const start = confine(path ?? ".", roots);
        // Plain text, not a regular expression: a model-written pattern like (a+)+$ would
        // otherwise be able to stall the whole process.
        const needle = pattern.toLowerCase();
        const files = statSync(start).isDirectory() ? walk(start, roots) : [start];
        const hits: string[] = [];
        for (const file of files) {
          if (statSync(file).size > 1_000_000) continue;
          readFileSync(file, "utf8")
            .split("\n")
            .forEach((line, i) => {
              if (hits.length < MAX_MATCHES && line.toLowerCase().includes(needle)) hits.push(`${show(file)}:${i + 1}: ${line.trim().slice(0, 200)}`);
            });
          if (hits.length >= MAX_MATCHES) break;
        }
        return hits.join("\n") || "no matches";
      }),
      { name: "grep", description: "Find lines containing a text (case-insensitive) in the project or the run's inputs.", schema: z.object({ pattern: z.string().describe("Text to find"), path: z.string().optional() }) },
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
