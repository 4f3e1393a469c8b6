/**
 * Every failure coord can name. Each code has a default severity and a one-line explanation;
 * `docs/errors.md` documents the same list and a test keeps the two in step.
 */
export const ERROR_CODES = {
  FILE_UNREADABLE: { severity: "error", summary: "A file or folder could not be read." },
  FILE_UNWRITABLE: { severity: "error", summary: "A file coord writes into the project could not be written." },
  PATH_NOT_FOUND: { severity: "error", summary: "A path given on the command line does not exist." },
  TEXT_MOJIBAKE_REPAIRED: {
    severity: "warning",
    summary: "Text that was UTF-8 read as Mac Roman or Windows-1252 and saved again was repaired.",
  },
  AGENT_FRONTMATTER_UNCLOSED: { severity: "error", summary: "A `---` frontmatter block has no closing `---`." },
  AGENT_YAML_INVALID: { severity: "error", summary: "The frontmatter is not valid YAML and could not be recovered." },
  AGENT_YAML_RECOVERED: {
    severity: "warning",
    summary: "The frontmatter was invalid YAML (an unquoted `: ` in a value) and was read with the value quoted.",
  },
  AGENT_FRONTMATTER_NOT_MAP: { severity: "error", summary: "The frontmatter is YAML but not a map of fields." },
  AGENT_NAME_MISSING: { severity: "warning", summary: "The agent has no `name`; it is named after its file." },
  AGENT_FIELD_INVALID: { severity: "warning", summary: "A known field has a value of the wrong shape; it is ignored." },
  AGENT_TOOL_UNKNOWN: { severity: "warning", summary: "The agent lists a tool coord does not know; it is ignored." },
  AGENT_DESCRIPTION_MISSING: { severity: "warning", summary: "The agent has no description." },
  AGENT_DUPLICATE: { severity: "warning", summary: "Two files define the same agent name; the earlier one wins." },
  AGENT_NOT_FOUND: { severity: "error", summary: "No agent has the name asked for." },
  MISSION_NO_PHASES: { severity: "error", summary: "The mission has no `### Phase N:` (or `### Step N:`) sections." },
  MISSION_PHASE_NO_LEAD: { severity: "error", summary: "A phase names no lead agent and the mission names none either." },
  MISSION_UNKNOWN_AGENT: { severity: "error", summary: "The mission names an agent that no agent file defines." },
  MISSION_NO_DELIVERABLES: {
    severity: "warning",
    summary: "A phase lists no deliverables; the runner produces one named after the phase.",
  },
  MISSION_NO_SUCCESS_CRITERIA: { severity: "warning", summary: "The mission has no `## Success Criteria` section." },
  MISSION_DUPLICATE: { severity: "warning", summary: "Two files define the same mission id; the earlier one wins." },
  MISSION_NOT_FOUND: { severity: "error", summary: "No mission has the id or path asked for." },
  TEMPLATE_NO_OUTPUT_FORMAT: {
    severity: "error",
    summary: "A prompt template has no `# OUTPUT FORMAT` section, so it has no deliverables.",
  },
  TEMPLATE_NO_ROLE: { severity: "warning", summary: "A prompt template has no `# ROLE` section." },
  INPUT_MISSING: { severity: "error", summary: "A required mission input was not given." },
  INPUT_INVALID: { severity: "error", summary: "An --input flag or inputs folder could not be used." },
  RUN_NOT_FOUND: { severity: "error", summary: "No run has the id given." },
  RUN_EXISTS: { severity: "error", summary: "A run with the id given already exists." },
  RUN_BUSY: { severity: "error", summary: "Another coord process or request is already driving the run." },
  RUN_ID_INVALID: { severity: "error", summary: "A run id holds characters other than letters, digits, '.', '_' and '-'." },
  RUN_NOT_PAUSED: { severity: "error", summary: "approve or reject was asked of a run that is not waiting for approval." },
  RUN_DELIVERABLE_MISSING: {
    severity: "error",
    summary: "A lead returned no text for a deliverable, even when asked again.",
  },
  HOOK_FAILED: { severity: "error", summary: "An agent's pre hook exited non-zero or timed out, failing its step." },
  HOOK_POST_FAILED: { severity: "warning", summary: "An agent's post hook or a project hook failed; the run goes on." },
  MODEL_INVALID: { severity: "error", summary: "A model name could not be understood or its provider is not installed." },
  MODEL_KEY_MISSING: { severity: "error", summary: "A provider's API key is not set." },
  MODEL_AUTH: { severity: "error", summary: "The provider refused the API key (HTTP 401/403)." },
  MODEL_UNKNOWN: { severity: "error", summary: "The provider does not know the model (HTTP 404)." },
  MCP_FAILED: { severity: "error", summary: "An MCP server an agent needs could not be started or listed no tools." },
  REPLAY_MISSING: { severity: "error", summary: "A request of a --replay run is not in the recording." },
  BUDGET_EXCEEDED: { severity: "warning", summary: "The run reached --max-tokens or --max-cost and paused." },
  USAGE: { severity: "error", summary: "The command line was malformed." },
  CONFIG_INVALID: {
    severity: "error",
    summary: "coord.config.json, .mcp.json or a setting from the environment has a wrong value; every problem is listed with its path.",
  },
  MISSION_PATH_REFUSED: {
    severity: "error",
    summary: "A remote caller (chat, HTTP, MCP) named a mission by path; remote callers name missions by id only.",
  },
  SERVE_PORT_BUSY: { severity: "error", summary: "coord serve could not listen: the port is taken or the address is not this machine's." },
  APPROVAL_NOT_ALLOWED: {
    severity: "error",
    summary: "A Slack user who is neither an approver (COORD_SLACK_APPROVERS) nor the run's starter tried to approve or reject it.",
  },
  HTTP_UNAUTHORIZED: { severity: "error", summary: "An HTTP API request came without the bearer token COORD_API_TOKEN, or with a wrong one." },
  HTTP_REFUSED: {
    severity: "error",
    summary: "An HTTP request looked like it came from a web page (an Origin, a non-JSON body, a foreign Host) and was refused.",
  },
  HTTP_BODY_TOO_LARGE: { severity: "error", summary: "An HTTP request body was over the server's limit (2 MB)." },
  HTTP_NO_ROUTE: { severity: "error", summary: "An HTTP request named no route coord serves." },
  LEASE_LOST: {
    severity: "error",
    summary: "A worker lost its lease on a run (it stalled past the lease) and stopped before its next step; another worker carries the run on.",
  },
  CONTEXT_TOO_SMALL: {
    severity: "error",
    summary: "A step's request would not fit its model's context window, even with every earlier deliverable in brief.",
  },
  DATABASE_UNREACHABLE: {
    severity: "error",
    summary: "The PostgreSQL database of COORD_DATABASE_URL (or --db) could not be reached, or coord's tables could not be set up in it.",
  },
  FILE_TOO_LARGE: { severity: "error", summary: "An agent or mission file is over the 5 MB limit and was not read." },
  MARKDOWN_TOO_COMPLEX: {
    severity: "error",
    summary: "A mission file nests quotes or lists too deeply (or is built to be slow to parse) and was not parsed.",
  },
  INTERNAL: { severity: "error", summary: "A bug in coord, not a mistake of yours: please report it with the command you ran." },
} as const satisfies Record<string, { severity: Severity; summary: string }>;

export type Severity = "error" | "warning";
export type ErrorCode = keyof typeof ERROR_CODES;

/** One problem found in a user's file: data, so callers decide whether to print, collect or throw. */
export interface Diagnostic {
  code: ErrorCode;
  severity: Severity;
  message: string;
  file?: string;
  line?: number;
  hint?: string;
}

export function diagnostic(
  code: ErrorCode,
  message: string,
  where: { file?: string; line?: number; hint?: string; severity?: Severity } = {},
): Diagnostic {
  const d: Diagnostic = { code, severity: where.severity ?? ERROR_CODES[code].severity, message };
  if (where.file !== undefined) d.file = where.file;
  if (where.line !== undefined) d.line = where.line;
  if (where.hint !== undefined) d.hint = where.hint;
  return d;
}

/** The one-line form every surface prints: `path:line: message (fix: hint)`. */
export function formatDiagnostic(d: Diagnostic, displayPath: (file: string) => string = (f) => f): string {
  const where = d.file ? `${displayPath(d.file)}${d.line ? `:${d.line}` : ""}: ` : "";
  const level = d.severity === "warning" ? "warning: " : "";
  return `${where}${level}${d.message}${d.hint ? ` (fix: ${d.hint})` : ""}`;
}

/** Where an error is shown: the hint that fits one surface (`--inputs DIR`) may not fit another. */
export type Surface = "cli" | "chat" | "mcp" | "http";

/** A user mistake coord can explain. Interfaces turn it into exit code 2 and one line of text. */
export class CoordError extends Error {
  override name = "CoordError";
  readonly code: ErrorCode;
  readonly file: string | undefined;
  readonly line: number | undefined;
  /** The fix, as the CLI's user would apply it. */
  readonly hint: string | undefined;
  /** The fix for remote callers, where it differs: `remote` for all of them, or per surface. */
  readonly hints: Partial<Record<Exclude<Surface, "cli"> | "remote", string>>;
  readonly exitCode: number;

  constructor(
    code: ErrorCode,
    message: string,
    options: { file?: string; line?: number; hint?: string; hints?: CoordError["hints"]; cause?: unknown; exitCode?: number } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = code;
    this.file = options.file;
    this.line = options.line;
    this.hint = options.hint;
    this.hints = options.hints ?? {};
    this.exitCode = options.exitCode ?? 2;
  }

  static from(d: Diagnostic): CoordError {
    return new CoordError(d.code, d.message, { ...d });
  }

  toDiagnostic(): Diagnostic {
    return diagnostic(this.code, this.message, {
      ...(this.file !== undefined && { file: this.file }),
      ...(this.line !== undefined && { line: this.line }),
      ...(this.hint !== undefined && { hint: this.hint }),
      severity: "error",
    });
  }
}

/** Guards compare `name` so they hold across duplicate copies of the package. */
export function isCoordError(e: unknown): e is CoordError {
  return e instanceof Error && e.name === "CoordError" && "code" in e;
}

/** Our own bug, not the user's: every surface asks for a report; the CLI prints the stack. */
export class CoordInternalError extends Error {
  override name = "CoordInternalError";
  readonly code = "INTERNAL" as const;
}

/** Anything thrown that is not a CoordError is a bug of ours: named as such, with its cause kept. */
export function asInternal(error: unknown): CoordInternalError {
  if (error instanceof CoordInternalError) return error;
  const internal = new CoordInternalError((error as Error)?.message ?? String(error), { cause: error });
  if ((error as Error)?.stack) internal.stack = (error as Error).stack;
  return internal;
}
