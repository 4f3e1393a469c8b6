import { fromMarkdown } from "mdast-util-from-markdown";
import type { Heading, List, ListItem, Nodes, Root, RootContent } from "mdast";

export type { Heading, List, Root, RootContent };

export function parseMarkdown(text: string): Root {
  return fromMarkdown(text);
}

/** The exact source text of a node: keeps emphasis markers, which labels like **Lead**: rely on. */
export function sourceOf(node: Nodes, text: string): string {
  const start = node.position?.start.offset;
  const end = node.position?.end.offset;
  return start === undefined || end === undefined ? "" : text.slice(start, end);
}

export function lineOf(node: Nodes): number {
  return node.position?.start.line ?? 1;
}

/** Plain text of a node without markup: for headings and titles. */
export function plainText(node: Nodes): string {
  if ("value" in node && typeof node.value === "string") return node.value;
  if ("children" in node) return (node.children as Nodes[]).map(plainText).join("");
  return "";
}

/** The source text of each item of a list, without its bullet or a task checkbox. */
export function listItems(list: List, text: string): string[] {
  return list.children
    .map((item: ListItem) => item.children.map((child) => sourceOf(child, text)).join("\n"))
    .map((s) => s.replace(/^\[[ xX]\]\s*/, "").trim())
    .filter(Boolean);
}

/**
 * Where the markdown parser (micromark) stops being linear. Past each limit its time grows with
 * the square of the size (40,000 nested quotes: minutes), so such text is refused before it is
 * parsed. Real missions stay far below every one of them.
 */
export const MARKDOWN_LIMITS: MarkdownLimits = {
  /** Quote and list markers opened on one line (`> > > x`, `- - - x`): each re-walks the ones before. */
  nesting: 32,
  /** Unmarked lines continuing a quoted or listed paragraph ("lazy" lines): each re-reads the paragraph. */
  lazyLines: 100,
  /** Emphasis markers (`*`, `_`) in one paragraph: the parser pairs each with the ones before it. */
  emphasis: 1_000,
  /** Brackets in one paragraph: 3,000 `[PLACEHOLDERS]` on one line still parse in linear time. */
  brackets: 6_000,
  /** Emphasis markers and brackets in the whole file: each costs the parser about 1 KB of memory. */
  fileDelimiters: 100_000,
  /**
   * Quotes and lists that end, each weighed by the lines and markers before it: each end re-copies
   * everything parsed so far. About a second of parsing at worst; ordinary files up to ~300 KB pass.
   */
  closingWork: 2_000_000,
};

export type MarkdownLimits = Readonly<Record<"nesting" | "lazyLines" | "emphasis" | "brackets" | "fileDelimiters" | "closingWork", number>>;

/** Why a markdown text is refused, and the line where the limit was crossed. */
export interface MarkdownHazard {
  line: number;
  message: string;
}

// One container marker: a quote (`>`) or a list bullet (`-`, `+`, `*`, `1.`, `1)`) and the
// space after it. Sticky, so a line is scanned once however many markers it holds.
const CONTAINER_MARKER = /[ \t]*(?:(>)[ \t]?|(?:[-+*]|\d{1,9}[.)])(?:[ \t]+|$))/y;
// `- - -` and `* * *` are thematic breaks, not lists, however long.
const THEMATIC_BREAK = /^[ \t]*([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const ATX_HEADING = /^ {0,3}#{1,6}(?:[ \t]|$)/;
const BLANK = /^[ \t]*$/;

/** The container markers a line starts with: how many, whether one is a quote, where text starts. */
interface ContainerPrefix {
  markers: number;
  /** Whether any marker is a quote: quotes need their `>` on every line. */
  quoted: boolean;
  firstIsQuote: boolean;
  /** Where the line's text starts, after the markers. */
  end: number;
}

/** The quote and list markers a line starts with (counting stops past `stopAfter`). */
function containerPrefix(line: string, stopAfter: number): ContainerPrefix {
  const prefix: ContainerPrefix = { markers: 0, quoted: false, firstIsQuote: false, end: 0 };
  if (THEMATIC_BREAK.test(line)) return prefix;
  CONTAINER_MARKER.lastIndex = 0;
  for (let m = CONTAINER_MARKER.exec(line); m && prefix.markers <= stopAfter; m = CONTAINER_MARKER.exec(line)) {
    const quote = m[1] !== undefined;
    if (prefix.markers === 0) prefix.firstIsQuote = quote;
    prefix.markers++;
    prefix.quoted ||= quote;
    prefix.end = CONTAINER_MARKER.lastIndex;
  }
  return prefix;
}

/** Columns of leading white space, a tab counting 4. */
function indentOf(line: string): number {
  let columns = 0;
  for (const c of line) {
    if (c === " ") columns++;
    else if (c === "\t") columns += 4;
    else break;
  }
  return columns;
}

/** `*` and `_` (emphasis), `[` and `]` (links): the characters the parser pairs up. */
function delimiterCount(text: string): { emphasis: number; brackets: number } {
  let emphasis = 0;
  let brackets = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 42 || c === 95) emphasis++;
    else if (c === 91 || c === 93) brackets++;
  }
  return { emphasis, brackets };
}

/** A fence's opening marker (``` or ~~~) and how many containers it sits in. */
interface OpenFence {
  marker: string;
  markers: number;
}

function closesFence(rest: string, markers: number, fence: OpenFence): boolean {
  if (markers < fence.markers) return true;
  const close = FENCE.exec(rest);
  return !!close && close[1]![0] === fence.marker[0] && close[1]!.length >= fence.marker.length && BLANK.test(rest.slice(close[0].length));
}

/**
 * The parser's work, estimated line by line from line prefixes only (markers, indentation,
 * fences, headings). It over-counts rather than under-counts: what it refuses, no person writes.
 */
class WorkEstimate {
  private fence: OpenFence | null = null;
  // The quote or list the text is in, if any; quotes end at a blank line, lists go on.
  private container: { quoted: boolean } | null = null;
  private paragraphOpen = false;
  // Markers and lines so far: what the parser has produced, and so what a closing re-copies.
  private progress = 0;
  private depth = 0;
  private lazyLines = 0;
  private emphasis = 0;
  private brackets = 0;
  private fileDelimiters = 0;
  private closingWork = 0;

  constructor(private readonly limits: MarkdownLimits) {}

  /** Reads the next line; returns why the text is refused once it is. */
  read(line: string): string | undefined {
    const { markers, quoted, firstIsQuote, end } = containerPrefix(line, this.limits.nesting);
    if (markers > this.limits.nesting) return `quotes or lists nest more than ${this.limits.nesting} levels deep on one line`;
    this.progress += 1 + markers;
    const rest = end === 0 ? line : line.slice(end);
    if (this.fence) {
      // Code is never parsed for emphasis; a fence ends at its closing line or with its container.
      if (closesFence(rest, markers, this.fence)) this.fence = null;
      return undefined;
    }
    if (BLANK.test(rest)) return this.blank(markers);
    const opensFence = FENCE.exec(rest);
    const breaksParagraph = opensFence !== null || ATX_HEADING.test(rest) || THEMATIC_BREAK.test(rest);
    const problem = this.followContainer(line, markers, quoted, breaksParagraph, firstIsQuote);
    if (problem) return problem;
    if (opensFence) {
      this.fence = { marker: opensFence[1]!, markers };
      this.endParagraph();
      return undefined;
    }
    const tooMany = this.countDelimiters(rest);
    // A heading's text is parsed on its own, like a one-line paragraph.
    if (breaksParagraph) this.endParagraph();
    else this.paragraphOpen = true;
    return tooMany;
  }

  private blank(markers: number): string | undefined {
    this.endParagraph();
    return markers === 0 && this.container?.quoted ? this.closeContainer() : undefined;
  }

  private endParagraph(): void {
    this.paragraphOpen = false;
    this.lazyLines = 0;
    this.emphasis = 0;
    this.brackets = 0;
  }

  private countDelimiters(text: string): string | undefined {
    const { emphasis, brackets } = delimiterCount(text);
    this.emphasis += emphasis;
    this.brackets += brackets;
    this.fileDelimiters += emphasis + brackets;
    if (this.emphasis > this.limits.emphasis) return `more than ${this.limits.emphasis} emphasis markers (* and _) in one paragraph`;
    if (this.brackets > this.limits.brackets) return `more than ${this.limits.brackets} brackets ([ and ]) in one paragraph`;
    if (this.fileDelimiters > this.limits.fileDelimiters) {
      return `more than ${this.limits.fileDelimiters.toLocaleString("en-US")} emphasis markers and brackets in the file`;
    }
    return undefined;
  }

  /** Follows the quote or list a non-blank line is in: opened, continued lazily, or ended. */
  private followContainer(line: string, markers: number, quoted: boolean, breaksParagraph: boolean, firstIsQuote: boolean): string | undefined {
    if (markers > 0) {
      // Indentation nests list items too, about one level per two columns. A list item ends what
      // was nested deeper than its own level; quotes go on as long as their `>` do.
      const level = Math.floor(indentOf(line) / 2);
      const depth = markers + level;
      const closed = Math.max(0, this.depth - (firstIsQuote ? depth : level + 1));
      this.container = { quoted: quoted || (this.container?.quoted ?? false) };
      this.depth = depth;
      return closed > 0 ? this.charge(closed) : undefined;
    }
    if (!this.container) return undefined;
    // An indented line goes on with a list item; a quote needs its > on every line.
    const continues = /^[ \t]{2,}/.test(line) && !this.container.quoted;
    if (continues) return undefined;
    if (this.paragraphOpen && !breaksParagraph) {
      if (++this.lazyLines > this.limits.lazyLines) {
        return `a quoted or listed paragraph goes on for more than ${this.limits.lazyLines} lines without its > or indentation`;
      }
      return undefined;
    }
    return this.closeContainer();
  }

  private closeContainer(): string | undefined {
    const closed = Math.max(1, this.depth);
    this.container = null;
    this.depth = 0;
    return this.charge(closed);
  }

  /** Each container that ends costs about everything parsed so far. */
  private charge(closed: number): string | undefined {
    this.closingWork += closed * this.progress;
    if (this.closingWork > this.limits.closingWork) return "too many separate quotes and lists for the length of the file";
    return undefined;
  }
}

/** Refuses markdown whose parse would not be linear, before the parser sees it. */
export function markdownHazard(text: string, limits: MarkdownLimits = MARKDOWN_LIMITS): MarkdownHazard | undefined {
  const estimate = new WorkEstimate(limits);
  // Line by line without splitting first: a refusal early in a huge file costs only that far.
  let lineNo = 0;
  for (let start = 0; start <= text.length; ) {
    const newline = text.indexOf("\n", start);
    const end = newline === -1 ? text.length : newline;
    lineNo++;
    const message = estimate.read(text.slice(start, end));
    if (message) return { line: lineNo, message };
    start = end + 1;
  }
  return undefined;
}
