import { createRequire } from "node:module";
import { load as loadYaml, CORE_SCHEMA } from "js-yaml";
import { diagnostic, type Diagnostic } from "../errors.js";
import { repairDiagnostics, repairMojibake } from "./text.js";

/** Frontmatter split from its markdown body, with where each starts in the file. */
export interface Frontmatter {
  /** The parsed YAML: a map for well-formed agent files. */
  data: Record<string, unknown>;
  /** 1-based line of a top-level key, to point problems at the right line. */
  lineOf: KeyLines;
  body: string;
  /** 1-based line where the body starts. */
  bodyLine: number;
}

export type FrontmatterResult =
  | { kind: "none" }
  | { kind: "ok"; frontmatter: Frontmatter; diagnostics: Diagnostic[] }
  | { kind: "error"; diagnostics: Diagnostic[] };

const OPEN = /^---[ \t]*\n/;
const CLOSE = /^(?:---|\.\.\.)[ \t]*$/m;

/** Splits `---` fenced YAML off the top of a (normalized) markdown text. */
export function splitFrontmatter(text: string): { yaml: string; body: string; bodyLine: number } | "unclosed" | undefined {
  const open = OPEN.exec(text);
  if (!open) return undefined;
  const rest = text.slice(open[0].length);
  const close = CLOSE.exec(rest);
  if (!close) return "unclosed";
  const yaml = rest.slice(0, close.index);
  const afterClose = rest.slice(close.index + close[0].length).replace(/^\n/, "");
  const bodyLine = 2 + countLines(yaml) + 1;
  return { yaml, body: afterClose, bodyLine };
}

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

/** The line of a top-level key, or undefined; found on demand, since most keys never need one. */
export type KeyLines = (key: string) => number | undefined;

function keyLinesOf(yaml: string, firstLine: number): KeyLines {
  return (key) => {
    const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const match = new RegExp(`^${escaped}:(?:[ \t]|$)`, "m").exec(yaml);
    if (!match) return undefined;
    let line = firstLine;
    for (let i = yaml.indexOf("\n"); i !== -1 && i < match.index; i = yaml.indexOf("\n", i + 1)) line++;
    return line;
  };
}

type YamlOutcome = { ok: true; data: unknown } | { ok: false };

// Two parsers on purpose: js-yaml is about six times faster on valid frontmatter (hundreds of
// agent files load at every start), and `yaml` points at the line where a broken file actually
// goes wrong, so it explains the rare failure. Both read YAML 1.2; CORE keeps dates as strings
// and `json: true` lets a repeated key win instead of failing the file.
function parseYaml(yaml: string): YamlOutcome {
  try {
    return { ok: true, data: loadYaml(yaml, { schema: CORE_SCHEMA, json: true }) ?? {} };
  } catch {
    return { ok: false };
  }
}

// Loaded on first failure only: most runs never meet invalid YAML, and it costs ~15 ms to import.
let yamlLibrary: typeof import("yaml") | undefined;
function explainYaml(yaml: string): { line: number; message: string } {
  yamlLibrary ??= createRequire(import.meta.url)("yaml") as typeof import("yaml");
  const error = yamlLibrary.parseDocument(yaml, { uniqueKeys: false }).errors[0];
  if (!error) return { line: 1, message: "unreadable YAML" };
  const line = error.linePos?.[0]?.line ?? 1;
  return { line, message: error.message.split("\n")[0]!.replace(/ at line \d+, column \d+.*$/, "") };
}

// A plain value holding ": " ("Triggers on: 'growth loop'") is the one invalid-YAML mistake
// whose intent is unambiguous: the author meant the whole rest of the line as the value.
const NEEDS_QUOTES = /^([A-Za-z_][\w-]*):[ \t]+([^"'|>[{&*!#%@`\s].*)$/;

function quoteColonValues(yaml: string): { yaml: string; quotedLines: number[] } {
  const quotedLines: number[] = [];
  const lines = yaml.split("\n").map((line, i) => {
    const m = NEEDS_QUOTES.exec(line);
    if (!m || !/:\s/.test(m[2]!)) return line;
    quotedLines.push(i + 1);
    return `${m[1]}: ${JSON.stringify(m[2]!.trimEnd())}`;
  });
  return { yaml: lines.join("\n"), quotedLines };
}

/** Fields of a YAML map (frontmatter or a whole `.yaml` agent) or the diagnostics why not. */
export type YamlFields =
  | { ok: true; data: Record<string, unknown>; lineOf: KeyLines; diagnostics: Diagnostic[] }
  | { ok: false; diagnostics: Diagnostic[] };

/** Parses YAML that starts on `firstLine` of `file`, recovering the unquoted-colon mistake. */
export function parseYamlFields(raw: string, file: string, firstLine: number): YamlFields {
  const { text: yaml, repairs } = repairMojibake(raw);
  const diagnostics: Diagnostic[] = repairDiagnostics(repairs, file, firstLine);
  let parsed = parseYaml(yaml);
  if (!parsed.ok) {
    const recovered = quoteColonValues(yaml);
    const retry = recovered.quotedLines.length > 0 ? parseYaml(recovered.yaml) : undefined;
    if (!retry?.ok) {
      const first = explainYaml(yaml);
      const error = diagnostic("AGENT_YAML_INVALID", `invalid YAML: ${first.message}`, {
        file,
        line: first.line + firstLine - 1,
        hint: "quote values that contain ': ' or start with a special character, and indent block text consistently",
      });
      return { ok: false, diagnostics: [error] };
    }
    for (const line of recovered.quotedLines) {
      diagnostics.push(
        diagnostic("AGENT_YAML_RECOVERED", "value contains ': ' and is not quoted; read it as one quoted string", {
          file,
          line: line + firstLine - 1,
          hint: 'wrap the value in double quotes: key: "..."',
        }),
      );
    }
    parsed = retry;
  }
  const data = parsed.data;
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    const error = diagnostic("AGENT_FRONTMATTER_NOT_MAP", "the YAML is not a map of fields", {
      file,
      line: firstLine,
      hint: "write one `field: value` per line",
    });
    return { ok: false, diagnostics: [error] };
  }
  return { ok: true, data: data as Record<string, unknown>, lineOf: keyLinesOf(yaml, firstLine), diagnostics };
}

/** Reads the `---` frontmatter of a markdown file: none, fields plus body, or why not. */
export function readFrontmatter(text: string, file: string): FrontmatterResult {
  const split = splitFrontmatter(text);
  if (split === undefined) return { kind: "none" };
  if (split === "unclosed") {
    const error = diagnostic("AGENT_FRONTMATTER_UNCLOSED", "frontmatter opened with --- is never closed", {
      file,
      line: 1,
      hint: "add a line with --- after the last frontmatter field",
    });
    return { kind: "error", diagnostics: [error] };
  }
  const fields = parseYamlFields(split.yaml, file, 2);
  if (!fields.ok) return { kind: "error", diagnostics: fields.diagnostics };
  const { data, lineOf } = fields;
  return { kind: "ok", frontmatter: { data, lineOf, body: split.body, bodyLine: split.bodyLine }, diagnostics: fields.diagnostics };
}
