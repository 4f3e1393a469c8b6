import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import type { z } from "zod";
import { CoordError } from "./errors.js";

/** A path an agent or a chat user asked for that coord will not open; the message says why. */
export class PathRefusal extends Error {
  override name = "PathRefusal";
}

// Dependencies, git internals and build output: never agent or mission files, and slow to walk.
const SKIP_DIRS = new Set(["node_modules", ".git", "dist"]);

/**
 * Files under `dir` (recursive, sorted so results never depend on the file system's order).
 * Symlinked folders are not entered; symlinked files are listed, so callers that must stay
 * inside a folder check each one with confine.
 */
export function walkFiles(dir: string, accept: (name: string) => boolean): string[] {
  const out: string[] = [];
  const visit = (current: string) => {
    let entries;
    try {
      entries = readdirSync(current, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) {
        if (!SKIP_DIRS.has(entry.name)) visit(path);
      } else if ((entry.isFile() || entry.isSymbolicLink()) && accept(entry.name)) out.push(path);
    }
  };
  visit(dir);
  return out;
}

// Inside the project, what holds keys (.env, .mcp.json), coord's checkpoints and git internals is
// off limits: a prompt injection in the inputs must not be able to read them into a prompt.
const PRIVATE = /^(\.env(rc)?(\..*)?|\.mcp\.json|\.coord|\.git|\.npmrc|coord\.config\.json)$/i;

/** Whether a file or folder name (one path segment) is one confine never opens. */
export function isPrivate(segment: string): boolean {
  return PRIVATE.test(segment);
}

/**
 * Resolves a path an agent asked for, refusing anything outside the allowed folders: `..`
 * traversal, absolute paths elsewhere, and symlinks that lead out are all caught because the
 * check is made on the real path. Relative paths are taken from the first root.
 */
export function confine(path: string, roots: string[]): string {
  const realRoots = roots.map((r) => realpathSync(r));
  const candidate = isAbsolute(path) ? path : resolve(roots[0]!, path);
  let real: string;
  try {
    real = realpathSync(candidate);
  } catch {
    throw new PathRefusal(`no such file or folder: ${path}`);
  }
  const root = realRoots.find((r) => real === r || real.startsWith(r + sep));
  if (!root) throw new PathRefusal(`refused: ${path} is outside the folders this agent may read (the project and the run's inputs)`);
  if (relative(root, real).split(sep).some(isPrivate)) throw new PathRefusal(`refused: ${path} holds secrets or coord's own state`);
  return real;
}

/** Writes through a temporary file so a crash never leaves half a file behind. */
export function writeFileAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

// The temporary name writeFileAtomic gives a file: `<file>.<pid>.tmp`.
const INTERRUPTED_WRITE = /\.\d+\.tmp$/;

/**
 * Removes what writes killed between their write and their rename left behind under `dir`:
 * the real file is either the old or the new one, so the temporary copy is only litter.
 */
export function removeInterruptedWrites(dir: string): string[] {
  const removed = walkFiles(dir, (name) => INTERRUPTED_WRITE.test(name));
  for (const file of removed) rmSync(file, { force: true });
  return removed;
}

