import { isAscii } from "node:buffer";
import { closeSync, constants, existsSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Diagnostic } from "../errors.js";
import { writeFileAtomic } from "../files.js";
import { isDirectory } from "./discover.js";

/**
 * Parsed agent and mission files kept between processes, so a folder of a thousand agents is not
 * parsed again at every start. One JSON file per kind in a cache folder (the CLI's is the
 * project's `.coord/cache`), an entry per file keyed by its absolute path, size, mtime, ctime and
 * inode; an entry is used only while all of them still match, and only when the parser that wrote
 * it (coord's modules and the libraries they call) is the one running.
 *
 * The cache never changes what a load returns: anything it cannot vouch for is parsed again, and
 * a missing, corrupt, foreign or oversized cache file is the same as none (never an error). It is
 * written through a temporary file and a rename, so a reader never sees half of one. Its folder is
 * the project's own state, as trusted as the run specs and checkpoints next to it.
 */

const FORMAT = 1;

/**
 * Largest cache file read. A thousand real agents take about 10 MB; a file past this is not one
 * coord wrote (or is for a folder far too big for a cache to help), and reading it would cost more
 * than parsing.
 */
export const MAX_CACHE_BYTES = 64 * 1024 * 1024;

/**
 * A file changed twice within one tick of the file system's clock keeps its size and times, so
 * a file modified this recently when it is parsed is not kept in the cache (as git does for
 * "racily clean" files): it is parsed again until it is older. The mtime decides, not the ctime:
 * setting a file's mtime back (`touch -d`, an unpacked archive) makes its ctime now, and any
 * later write sets its mtime to now, away from the old mtime the entry holds.
 */
export const RACY_MS = 2000;

/**
 * A load writes the cache where its folder exists, or where the folder above it does (the
 * project's `.coord`, made by its first run). Anywhere else it creates the folders only after
 * parsing at least this many files, where a cache pays off: listing the agents of a folder that
 * coord never ran in leaves it as it was.
 */
export const CREATE_MIN_PARSES = 100;

/** The stat fields an entry is keyed by. */
export interface FileStamp {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  /** Another file swapped in under the name (a link pointed elsewhere) has another inode. */
  ino: number;
}

interface Entry<T> extends FileStamp {
  parse: T;
}

/** One kind of parsed file: where it is kept and what its parse depends on and looks like. */
export interface CacheKind<T> {
  /** The file in the cache folder: `agents.json`. */
  file: string;
  /**
   * Modules of the parser, relative to this folder (`./agent`, `../errors`), and packages it
   * calls (`js-yaml/package.json`): a change to any of them invalidates every entry.
   */
  modules: string[];
  packages: string[];
  /** Whether a value read back from the cache is a parse of `file` as `pack` keeps them (the parser's, without it). */
  valid(file: string, value: unknown): value is T;
  /**
   * The form a parse is kept in, when it differs: what the file itself holds again can stay out
   * of the cache (an agent's body), which keeps the cache small and fast to read. `text` is the
   * file's text the parse was made from.
   */
  pack?(file: string, parse: T, text: string): unknown;
  /** The parse from its kept form, for an entry whose file still has `stamp`. */
  unpack?(file: string, kept: T, stamp: FileStamp): T;
}

const fingerprints = new Map<CacheKind<unknown>, string>();

/**
 * The files whose stamps identify the parser's code. Built (`npm run build`), that is the build's
 * id file, dist/build.json, one level up from the library's modules and from the command's bundle
 * alike, so both read each other's cache entries. From source (the tests), the parser's modules.
 */
function parserCode(kind: CacheKind<unknown>): string[] {
  const build = fileURLToPath(new URL("../build.json", import.meta.url));
  if (existsSync(build)) return [build];
  const ext = import.meta.url.slice(import.meta.url.lastIndexOf("."));
  return ["./parse-cache", ...kind.modules].map((m) => fileURLToPath(new URL(`${m}${ext}`, import.meta.url)));
}

/** Identifies the code that parses `kind` in this process: sizes and times of its files. */
export function parserFingerprint(kind: CacheKind<unknown>): string {
  const known = fingerprints.get(kind);
  if (known !== undefined) return known;
  const require = createRequire(import.meta.url);
  const stamp = (path: string) => {
    try {
      const s = statSync(path);
      return `${s.size}:${s.mtimeMs}`;
    } catch {
      return "-";
    }
  };
  const resolvePackage = (name: string) => {
    try {
      return require.resolve(name);
    } catch {
      return name;
    }
  };
  const fingerprint = [
    `format ${FORMAT}`,
    process.version,
    ...parserCode(kind).map((path) => `${path} ${stamp(path)}`),
    ...kind.packages.map((p) => `${p} ${stamp(resolvePackage(p))}`),
  ].join("|");
  fingerprints.set(kind, fingerprint);
  return fingerprint;
}

export const isString = (v: unknown): v is string => typeof v === "string";
export const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
export const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
export const isStringMap = (v: unknown): v is Record<string, string> => isPlainObject(v) && Object.values(v).every(isString);

export function isDiagnostic(v: unknown): v is Diagnostic {
  if (!isPlainObject(v) || !isString(v.code) || !isString(v.message) || (v.severity !== "error" && v.severity !== "warning")) return false;
  return (v.file === undefined || isString(v.file)) && (v.line === undefined || typeof v.line === "number") && (v.hint === undefined || isString(v.hint));
}

/** A parse as both parsers return them: diagnostics, and what else `rest` checks. */
export function isParseOf(value: unknown, rest: (parse: Record<string, unknown>) => boolean): boolean {
  return isPlainObject(value) && Array.isArray(value.diagnostics) && value.diagnostics.every(isDiagnostic) && rest(value);
}

/**
 * Whether JSON gives the value back exactly: YAML's `.inf` and `.nan` would come back as null,
 * `-0` as 0 and `undefined` not at all, so a parse holding one is not cached.
 */
function survivesJson(value: unknown): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0);
    case "object":
      if (value === null) return true;
      if (Array.isArray(value)) return value.every(survivesJson);
      if (Object.getPrototypeOf(value) !== Object.prototype) return false;
      return Object.values(value).every(survivesJson);
    default:
      return false;
  }
}

/**
 * JSON with every character past ASCII escaped: the file is then read as Latin-1, several times
 * faster than decoding UTF-8, and JSON.parse turns the escapes back into the same text.
 */
function asciiJson(value: unknown): string {
  // Runs at a time (CJK text, emoji pairs): a callback per character costs twice as much.
  return JSON.stringify(value).replace(/[\u0080-\uffff]+/g, (run) => {
    let out = "";
    for (let i = 0; i < run.length; i++) out += `\\u${run.charCodeAt(i).toString(16).padStart(4, "0")}`;
    return out;
  });
}

/**
 * The cache file's text, or undefined when it is not a regular file of at most MAX_CACHE_BYTES
 * holding ASCII only (coord writes nothing else there). Opened without blocking and checked on
 * what was opened, so a FIFO or a device put in its place cannot hang the load.
 */
function readCacheText(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch {
    return undefined;
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile() || stats.size > MAX_CACHE_BYTES) return undefined;
    const buffer = Buffer.allocUnsafe(stats.size);
    let length = 0;
    while (length < buffer.length) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    const bytes = buffer.subarray(0, length);
    // Latin-1 is the fast way to read ASCII; anything past ASCII is not a file coord wrote.
    return isAscii(bytes) ? bytes.toString("latin1") : undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** The cache file's entries, or none when it is missing, unreadable, corrupt or not this parser's. */
function readEntries(path: string, fingerprint: string): Map<string, unknown> {
  const text = readCacheText(path);
  if (text === undefined) return new Map();
  try {
    const data = JSON.parse(text) as unknown;
    if (!isPlainObject(data) || data.format !== FORMAT || data.fingerprint !== fingerprint || !isPlainObject(data.entries)) return new Map();
    return new Map(Object.entries(data.entries));
  } catch {
    return new Map();
  }
}

/** The stamp of a file the cache may answer for: an absolute path to a regular file of at most `maxBytes`. */
export function stampOf(file: string, maxBytes: number): FileStamp | undefined {
  if (!isAbsolute(file)) return undefined;
  try {
    const stats = statSync(file, { throwIfNoEntry: false });
    if (!stats?.isFile() || stats.size > maxBytes) return undefined;
    return { size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, ino: stats.ino };
  } catch {
    return undefined;
  }
}

export const sameStamp = (a: FileStamp, b: FileStamp) => a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino;


/**
 * One load's view of a cache file: entries are looked up while the files are read, and the file
 * is rewritten at the end only when the load found something it did not hold. After a load of
 * every file it holds those files only (a file gone is gone from it); after a partial load (one
 * mission named) the entries it did not look at stay as they were.
 */
export class ParseCache<T> {
  private readonly previous: Map<string, unknown>;
  private readonly next = new Map<string, Entry<T>>();
  private changed = false;
  /** Files whose parse came from the cache in this load. */
  hits = 0;
  /** Files parsed in this load. */
  misses = 0;
  readonly path: string;

  private constructor(
    readonly dir: string,
    private readonly kind: CacheKind<T>,
    private readonly partial: boolean,
  ) {
    this.path = join(dir, kind.file);
    this.previous = readEntries(this.path, parserFingerprint(kind as CacheKind<unknown>));
  }

  /**
   * Opens the cache of `kind` in `dir`, an absolute path that need not exist yet; `partial` for a
   * load that reads some of the files only.
   */
  static open<T>(dir: string, kind: CacheKind<T>, options: { partial?: boolean } = {}): ParseCache<T> {
    return new ParseCache(dir, kind, !!options.partial);
  }

  /** The cached parse of `file` if its stamp still matches, else undefined. Each entry is handed out once. */
  lookup(file: string, stamp: FileStamp): T | undefined {
    const entry = this.previous.get(file);
    if (entry === undefined) return undefined;
    this.previous.delete(file);
    if (!isPlainObject(entry) || !sameStamp(entry as unknown as FileStamp, stamp) || !this.kind.valid(file, entry.parse)) {
      this.changed = true;
      return undefined;
    }
    this.next.set(file, entry as unknown as Entry<T>);
    this.hits++;
    return this.kind.unpack ? this.kind.unpack(file, entry.parse, stamp) : entry.parse;
  }

  /** Keeps a fresh parse of `text` for next time, unless the file is too recent to trust or JSON would alter it. */
  remember(file: string, stamp: FileStamp, parse: T, text: string, now = Date.now()): void {
    this.misses++;
    this.changed = true;
    if (now - stamp.mtimeMs < RACY_MS) return;
    const kept = (this.kind.pack ? this.kind.pack(file, parse, text) : parse) as T;
    if (!survivesJson(kept)) return;
    this.next.set(file, { size: stamp.size, mtimeMs: stamp.mtimeMs, ctimeMs: stamp.ctimeMs, ino: stamp.ino, parse: kept });
  }

  /**
   * Reads `file` with `read` and parses its text with `parse`, or answers it from the cache while
   * the file is unchanged. A file that cannot be read is `read`'s Diagnostic, never kept.
   */
  parse(file: string, maxBytes: number, read: (file: string) => string | Diagnostic, parse: (text: string, file: string) => T): T | Diagnostic {
    // Stamped before reading, so a file changed meanwhile is kept under the older stamp and parsed again next time.
    const stamp = stampOf(file, maxBytes);
    const cached = stamp && this.lookup(file, stamp);
    if (cached) return cached;
    const text = read(file);
    if (typeof text !== "string") return text;
    const parsed = parse(text, file);
    if (stamp) this.remember(file, stamp, parsed, text);
    return parsed;
  }

  /**
   * Writes the entries of this load's files, if anything changed (CREATE_MIN_PARSES says where).
   * Never throws: a cache that cannot be written is skipped, and the next load parses again.
   */
  save(): void {
    // Entries left unread say a full load's files are gone; a partial load keeps them.
    if (!this.changed && (this.partial || this.previous.size === 0)) return;
    try {
      if (!isDirectory(this.dir) && !isDirectory(dirname(this.dir)) && this.misses < CREATE_MIN_PARSES) return;
      const fingerprint = parserFingerprint(this.kind as CacheKind<unknown>);
      const entries = { ...(this.partial && Object.fromEntries(this.previous)), ...Object.fromEntries(this.next) };
      writeFileAtomic(this.path, asciiJson({ format: FORMAT, fingerprint, entries }));
    } catch {
      // A read-only project or a full disk: the next load parses again, which is all a cache costs.
    }
  }
}
