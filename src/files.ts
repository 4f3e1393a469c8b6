import { closeSync, constants, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, realpathSync, renameSync, rmSync, statSync, writeFileSync, type Stats } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import type * as z from "zod";
import { CoordError } from "./errors.js";

/** A path an agent or a chat user asked for that coord will not open; the message says why. */
export class PathRefusal extends Error {
  override name = "PathRefusal";
}

// Dependencies, git internals and build output: never agent or mission files, and slow to walk.
const SKIP_DIRS = new Set(["node_modules", ".git", "dist"]);

/**
 * Files under `dir` (recursive, sorted so results never depend on the file system's order).
 * Symlinked folders are not entered; symlinks are listed, so callers that must stay inside a
 * folder check each one with confine. FIFOs, sockets and devices are listed too, so readers
 * (readRegularFile) refuse them by name rather than skip them without a word.
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
      } else if (accept(entry.name)) out.push(path);
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

/** Why readRegularFile did not return a file's text; `message` reads after the file's name. */
export class FileRefusal extends Error {
  override name = "FileRefusal";
  constructor(
    readonly reason: "missing" | "not-regular" | "too-large" | "unreadable",
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface ReadLimit {
  /** Largest file read, in bytes. */
  maxBytes: number;
  /** Return the first maxBytes of a longer file (and say so) instead of refusing it. */
  truncate?: boolean;
}

/** What a stat found, in words, for the files coord refuses to open. */
function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return "a folder";
  if (stats.isFIFO()) return "a named pipe (FIFO)";
  if (stats.isSocket()) return "a socket";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  return "not a regular file";
}

/** 5242880 -> "5 MB": sizes in refusals are read by people. */
export function formatBytes(bytes: number): string {
  const units = ["KB", "MB", "GB", "TB"];
  if (bytes < 1024) return `${bytes} bytes`;
  let value = bytes / 1024;
  let unit = 0;
  for (; value >= 1024 && unit < units.length - 1; unit++) value /= 1024;
  return `${+value.toFixed(1)} ${units[unit]}`;
}

/** A size over `limit`, exact when rounding would make it read as the limit itself. */
function sizeOver(bytes: number, limit: number): string {
  const size = formatBytes(bytes);
  return size === formatBytes(limit) ? `${bytes.toLocaleString("en-US")} bytes` : size;
}

// O_NONBLOCK so that a FIFO swapped in between the stat and the open cannot block the process;
// it changes nothing for regular files. Windows has no such flag (and no FIFOs to fear).
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);
const CHUNK = 64 * 1024;

// One buffer that files are read into, reused: a thousand agent files are read at every start,
// and a buffer of their own each was most of their reading time (allocation, then GC). Reads
// are synchronous, so one at a time; one grown past SCRATCH_KEPT for a big file is let go after.
const SCRATCH_KEPT = 1024 * 1024;
let scratch: Buffer | undefined;

/**
 * Reads at most `limit` bytes from an open regular file into the shared buffer; one more than
 * `limit` means "longer than that". The view is valid until the next read. Only a read of
 * nothing is the end: procfs and FUSE files answer less than asked before it.
 */
function readUpTo(fd: number, limit: number, expected: number): Buffer {
  let buffer = scratch && scratch.length > expected ? scratch : Buffer.allocUnsafeSlow(Math.min(Math.max(expected + 1, CHUNK), limit));
  let total = 0;
  while (total < limit) {
    if (total === buffer.length) {
      // The file is longer than its stat said (it grew, or procfs says 0): read on into a bigger buffer.
      const bigger = Buffer.allocUnsafeSlow(Math.min(buffer.length * 2, limit));
      buffer.copy(bigger, 0, 0, total);
      buffer = bigger;
    }
    const n = readSync(fd, buffer, total, Math.min(buffer.length, limit) - total, null);
    if (n === 0) break;
    total += n;
  }
  scratch = buffer.length <= SCRATCH_KEPT ? buffer : undefined;
  return buffer.subarray(0, total);
}

/**
 * Reads a regular file (after following links) as UTF-8, refusing anything else before it is
 * opened: a FIFO would block the process forever, /dev/zero never ends, a socket cannot be
 * read. The size is checked on the stat and again while reading, since a file may grow.
 */
export function readRegularFile(path: string, limit: ReadLimit): { text: string; truncated: boolean } {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") throw new FileRefusal("missing", "no such file (or a broken link)", { cause });
    throw new FileRefusal("unreadable", (cause as Error).message, { cause });
  }
  if (!stats.isFile()) throw new FileRefusal("not-regular", `it is ${kindOf(stats)}, not a regular file`);
  const tooLarge = (size: string) =>
    new FileRefusal("too-large", `it is ${size}, over the ${formatBytes(limit.maxBytes)} limit`);
  if (stats.size > limit.maxBytes && !limit.truncate) throw tooLarge(sizeOver(stats.size, limit.maxBytes));
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (cause) {
    throw new FileRefusal("unreadable", (cause as Error).message, { cause });
  }
  try {
    // The path may have been replaced since the stat: check what was actually opened.
    const opened = fstatSync(fd);
    if (!opened.isFile()) throw new FileRefusal("not-regular", `it is ${kindOf(opened)}, not a regular file`);
    const bytes = readUpTo(fd, limit.maxBytes + 1, opened.size);
    const truncated = bytes.length > limit.maxBytes;
    if (truncated && !limit.truncate) throw tooLarge(`more than ${formatBytes(limit.maxBytes)}`);
    return { text: (truncated ? bytes.subarray(0, limit.maxBytes) : bytes).toString("utf8"), truncated };
  } catch (cause) {
    if (cause instanceof FileRefusal) throw cause;
    throw new FileRefusal("unreadable", (cause as Error).message, { cause });
  } finally {
    closeSync(fd);
  }
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

