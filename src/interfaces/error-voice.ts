import { basename, isAbsolute, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { PACKAGE_ROOT } from "../package.js";
import { asInternal, formatDiagnostic, isCoordError, type CoordError, type CoordInternalError, type ErrorCode, type Surface } from "../errors.js";

/**
 * The one place an error becomes text for a person or a program, on every surface: a CLI line,
 * a chat reply, an MCP tool error, an HTTP JSON body. Remote surfaces never see a path of the
 * server outside the project, nor advice that only fits the command line.
 */
export interface ErrorView {
  code: ErrorCode;
  message: string;
  hint?: string;
  file?: string;
  line?: number;
}

/** HTTP status of each code a remote caller can meet; other user errors are 400, our bugs 500. */
const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  RUN_NOT_FOUND: 404,
  MISSION_NOT_FOUND: 404,
  AGENT_NOT_FOUND: 404,
  RUN_EXISTS: 409,
  RUN_BUSY: 409,
  RUN_NOT_PAUSED: 409,
  APPROVAL_NOT_ALLOWED: 403,
  HTTP_UNAUTHORIZED: 401,
  HTTP_REFUSED: 403,
  HTTP_BODY_TOO_LARGE: 413,
  HTTP_NO_ROUTE: 404,
  MODEL_KEY_MISSING: 503,
  MODEL_AUTH: 502,
  MODEL_UNKNOWN: 502,
  MODEL_INVALID: 503,
  CONFIG_INVALID: 503,
  MCP_FAILED: 502,
  INTERNAL: 500,
};

export function httpStatusOf(code: ErrorCode): number {
  return HTTP_STATUS[code] ?? 400;
}

// Two segments at least: `/coord` in "/coord list" is a command, not a path of the server.
const ABSOLUTE_PATH = /(?<![\w.:/])\/(?:[^\s/"'`()<>:,;]+\/)+[^\s/"'`()<>:,;]+/g;

/**
 * A path as a remote caller may see it: relative when inside the project, else only its file
 * name. Applied to messages too, since they quote paths.
 */
export function scrubPaths(text: string, cwd: string): string {
  return text.replace(ABSOLUTE_PATH, (path) => shownPath(path, cwd, "remote"));
}

function shownPath(file: string, cwd: string, surface: Surface | "remote"): string {
  if (!isAbsolute(file)) return file;
  const rel = relative(cwd, file);
  const inside = rel && !rel.startsWith("..") && !isAbsolute(rel);
  if (inside) return rel;
  return surface === "cli" ? file : basename(file);
}

// Advice written for a shell (flags, `coord ...` commands, files to edit) is no use to a caller in
// a chat or over HTTP: without a hint of their own they get none rather than a wrong one.
const CLI_ONLY_HINT = /(^|\s)--\w|`coord |\bcoord (run|resume|runs|approve|reject)\b|\.env\b|COORD_HOME/;

function hintFor(error: CoordError, surface: Surface): string | undefined {
  if (surface === "cli") return error.hint;
  const own = error.hints[surface] ?? error.hints.remote;
  if (own) return own;
  return error.hint && !CLI_ONLY_HINT.test(error.hint) ? error.hint : undefined;
}

/**
 * Where remote surfaces tell their own bugs. Their callers learn only "internal error in coord";
 * the process serving them (`coord serve`, `coord mcp`) sets this to tell the rest to whoever
 * runs it, on its stderr. Unset (the library, the CLI), remote bugs go nowhere else.
 */
let internalErrorSink: ((error: CoordInternalError) => void) | undefined;

/** Has `sink` told of every internal error a remote surface answers with; returns what stops it. */
export function reportInternalErrors(sink: (error: CoordInternalError) => void): () => void {
  internalErrorSink = sink;
  return () => {
    if (internalErrorSink === sink) internalErrorSink = undefined;
  };
}

/**
 * A file of coord's own build that a running process could not load, relative to coord's folder:
 * coord was rebuilt from scratch or upgraded under it, and the code it loads when first needed is
 * gone. Not a bug: the process needs a restart.
 */
function ownFileGone(internal: Error): string | undefined {
  const error = (internal.cause ?? internal) as { code?: unknown; url?: unknown };
  if (error.code !== "ERR_MODULE_NOT_FOUND" || typeof error.url !== "string" || !error.url.startsWith("file:")) return undefined;
  const file = relative(PACKAGE_ROOT, fileURLToPath(error.url));
  return file.startsWith(`dist${sep}`) ? file : undefined;
}

/** What every surface says about an error, with paths and advice fitted to the surface. */
export function viewError(thrown: unknown, surface: Surface, cwd: string): ErrorView {
  if (!isCoordError(thrown)) {
    const internal = asInternal(thrown);
    if (surface !== "cli") internalErrorSink?.(internal);
    const gone = ownFileGone(internal);
    if (gone) {
      const message = surface === "cli" ? `coord's files changed while this process ran (rebuilt or upgraded): ${gone} is gone` : "coord was updated while this server ran";
      return { code: "INTERNAL", message, hint: surface === "cli" ? "restart this coord process" : "ask its operator to restart it" };
    }
    // Our bug's message may quote anything; remote callers get the code and the plea only.
    const message = surface === "cli" ? `internal error: ${internal.message}` : "internal error in coord";
    return { code: "INTERNAL", message, hint: "this is a bug in coord; please report it with what you ran" };
  }
  const remote = surface !== "cli";
  const hint = hintFor(thrown, surface);
  const view: ErrorView = { code: thrown.code, message: remote ? scrubPaths(thrown.message, cwd) : thrown.message };
  if (hint) view.hint = remote ? scrubPaths(hint, cwd) : hint;
  if (thrown.file) view.file = shownPath(thrown.file, cwd, surface);
  if (thrown.line !== undefined) view.line = thrown.line;
  return view;
}

/** The CLI's line: `coord: path:line: message (fix: hint)`. */
export function cliErrorLine(thrown: unknown, cwd: string): string {
  const view = viewError(thrown, "cli", cwd);
  return `coord: ${formatDiagnostic({ ...view, severity: "error" })}`;
}

/** A chat reply (slash commands, Slack): a warning sign, the message, and the fix on its own line. */
export function chatErrorText(thrown: unknown, cwd: string): string {
  const view = viewError(thrown, "chat", cwd);
  return `⚠️ ${view.file ? `${view.file}${view.line ? `:${view.line}` : ""}: ` : ""}${view.message}${view.hint ? `\nFix: ${view.hint}` : ""}`;
}

/** An MCP tool's error text: the code first, so a calling model can branch on it. */
export function mcpErrorText(thrown: unknown, cwd: string): string {
  const view = viewError(thrown, "mcp", cwd);
  return `${view.code}: ${view.message}${view.hint ? `\nFix: ${view.hint}` : ""}`;
}

/** An HTTP error: its status from the one map, and a JSON body `{ error, code, hint? }`. */
export function httpError(thrown: unknown, cwd: string): { status: number; body: { error: string; code: ErrorCode; hint?: string } } {
  const view = viewError(thrown, "http", cwd);
  return { status: httpStatusOf(view.code), body: { error: view.message, code: view.code, ...(view.hint && { hint: view.hint }) } };
}
