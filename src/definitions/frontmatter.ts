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

/** Why YAML that may well be valid is refused: too deep, or aliases that expand too far. */
interface YamlRefusal {
  /** 1-based line in the YAML text. */
  line: number;
  message: string;
  hint: string;
}

type YamlOutcome = { ok: true; data: unknown } | { ok: false; refusal?: YamlRefusal };

// js-yaml refuses nesting deeper than this on its own; the `yaml` package would take seconds to
// explain the same file (it recurses until the stack overflows), so js-yaml's line is used.
const DEPTH_ERROR = /^nesting exceeded maxDepth/;

// Two parsers on purpose: js-yaml is about six times faster on valid frontmatter (hundreds of
// agent files load at every start), and `yaml` points at the line where a broken file actually
// goes wrong, so it explains the rare failure. Both read YAML 1.2; CORE keeps dates as strings
// and `json: true` lets a repeated key win instead of failing the file.
function parseYaml(yaml: string): YamlOutcome {
  let data: unknown;
  try {
    data = loadYaml(yaml, { schema: CORE_SCHEMA, json: true }) ?? {};
  } catch (error) {
    const mark = (error as { reason?: string; mark?: { line: number } }).mark;
    const reason = (error as { reason?: string }).reason ?? "";
    if (mark && DEPTH_ERROR.test(reason)) return { ok: false, refusal: { line: mark.line + 1, message: "nesting deeper than 100 levels", hint: "nest fewer levels" } };
    return { ok: false };
  }
  const refusal = aliasRefusal(yaml, data);
  return refusal ? { ok: false, refusal } : { ok: true, data };
}

/**
 * How far aliases may expand the data, in "size" units: one per node plus the length of each
 * string and key. Written-out YAML never exceeds its own length, so twice that (at least a
 * million, ample for any real reuse of an anchor) only refuses data that aliases multiply.
 */
function expansionLimit(yaml: string): number {
  return Math.max(1_000_000, 2 * yaml.length);
}

/**
 * The size of parsed YAML with every alias expanded, or Infinity for an alias inside its own
 * anchor (a cycle, which no JSON can hold). js-yaml hands an alias the very object its anchor
 * made, so a "billion laughs" file parses in an instant and explodes later, in whatever walks or
 * saves the data; counting each shared object once keeps this count as cheap as the parse.
 */
function expandedSize(root: unknown, limit: number): number {
  const sizes = new Map<object, number>();
  const open = new Set<object>();
  const size = (value: unknown): number => {
    if (typeof value === "string") return 1 + value.length;
    if (typeof value !== "object" || value === null) return 1;
    const known = sizes.get(value);
    if (known !== undefined) return known;
    if (open.has(value)) return Infinity;
    open.add(value);
    let total = 1;
    const entries: Array<[string, unknown]> = Array.isArray(value) ? value.map((item) => ["", item]) : Object.entries(value);
    for (const [key, item] of entries) {
      total += key.length + size(item);
      if (total > limit) break;
    }
    open.delete(value);
    sizes.set(value, total);
    return total;
  };
  return size(root);
}

/** Refuses data that aliases expand past the limit, at the line of the alias that crosses it. */
function aliasRefusal(yaml: string, data: unknown): YamlRefusal | undefined {
  // Without a "*" there is no alias, and without one nothing is shared: skip the count.
  if (!yaml.includes("*")) return undefined;
  const limit = expansionLimit(yaml);
  if (expandedSize(data, limit) <= limit) return undefined;
  const found = findExpandingAlias(yaml, limit);
  const message = found?.cycle
    ? `alias *${found.name} is inside its own anchor, so its value never ends`
    : `aliases expand the YAML past ${limit.toLocaleString("en-US")} characters${found ? ` at *${found.name}` : ""} (an "alias bomb")`;
  return { line: found?.line ?? 1, message, hint: "write the values out instead of repeating them through &anchors and *aliases" };
}

// Loaded on first failure only: most runs never meet invalid YAML, and it costs ~15 ms to import.
let yamlLibrary: typeof import("yaml") | undefined;
function yamlModule(): typeof import("yaml") {
  yamlLibrary ??= createRequire(import.meta.url)("yaml") as typeof import("yaml");
  return yamlLibrary;
}

/**
 * The alias at which the expanded size, counted in document order, first passes the limit. The
 * `yaml` package keeps each node's position, which js-yaml's data has lost; its own
 * Alias.resolve searches the whole document on every call, so anchors are tracked here instead.
 */
function findExpandingAlias(yaml: string, limit: number): { line: number; name: string; cycle: boolean } | undefined {
  const { LineCounter, parseDocument, isAlias, isMap, isPair, isScalar, isSeq } = yamlModule();
  type YamlNode = import("yaml").Node;
  const lineCounter = new LineCounter();
  const doc = parseDocument(yaml, { lineCounter, uniqueKeys: false });
  const anchors = new Map<string, YamlNode>();
  const sizes = new Map<YamlNode, number>();
  const open = new Set<YamlNode>();
  const children = (node: unknown): unknown[] =>
    isMap(node) || isSeq(node) ? node.items.flatMap((item) => (isPair(item) ? [item.key, item.value] : [item])) : [];
  const ownSize = (node: unknown): number => 1 + (isScalar(node) && typeof node.value === "string" ? node.value.length : 0);
  // Expanded size of one node, each node counted once; Infinity when it contains itself.
  const size = (node: unknown): number => {
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      return target ? size(target) : 1;
    }
    if (!isMap(node) && !isSeq(node)) return ownSize(node);
    const known = sizes.get(node);
    if (known !== undefined) return known;
    if (open.has(node)) return Infinity;
    open.add(node);
    let total = 1;
    for (const child of children(node)) total += size(child);
    open.delete(node);
    sizes.set(node, total);
    return total;
  };
  let total = 0;
  const walk = (node: unknown): ReturnType<typeof findExpandingAlias> => {
    if (isAlias(node)) {
      total += size(node);
      if (total <= limit) return undefined;
      const line = lineCounter.linePos(node.range?.[0] ?? 0).line;
      return { line, name: node.source, cycle: total === Infinity };
    }
    const anchor = (node as { anchor?: string } | null)?.anchor;
    // Registered before the children, as js-yaml does, so an alias inside its anchor is a cycle.
    if (anchor) anchors.set(anchor, node as YamlNode);
    total += ownSize(node);
    for (const child of children(node)) {
      const found = walk(child);
      if (found) return found;
    }
    return undefined;
  };
  return walk(doc.contents);
}

function explainYaml(yaml: string): { line: number; message: string } {
  const error = yamlModule().parseDocument(yaml, { uniqueKeys: false }).errors[0];
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

function invalidYaml(problem: { line: number; message: string }, file: string, firstLine: number): Diagnostic {
  return diagnostic("AGENT_YAML_INVALID", `invalid YAML: ${problem.message}`, {
    file,
    line: problem.line + firstLine - 1,
    hint: "quote values that contain ': ' or start with a special character, and indent block text consistently",
  });
}

function refusedYaml(refusal: YamlRefusal, file: string, firstLine: number): Diagnostic {
  return diagnostic("AGENT_YAML_INVALID", `YAML refused: ${refusal.message}`, {
    file,
    line: refusal.line + firstLine - 1,
    hint: refusal.hint,
  });
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
    if (parsed.refusal) return { ok: false, diagnostics: [refusedYaml(parsed.refusal, file, firstLine)] };
    const recovered = quoteColonValues(yaml);
    const retry = recovered.quotedLines.length > 0 ? parseYaml(recovered.yaml) : undefined;
    if (!retry?.ok) {
      const problem = retry?.refusal ? refusedYaml(retry.refusal, file, firstLine) : invalidYaml(explainYaml(yaml), file, firstLine);
      return { ok: false, diagnostics: [problem] };
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
