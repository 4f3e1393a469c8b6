import { Lexer, type Token, type Tokens } from "marked";

/**
 * Missions are read as a list of top-level markdown blocks: headings, paragraphs, lists, code.
 * marked's block lexer finds them (CommonMark rules, no GFM: a table stays a paragraph, as a
 * plain reader sees it); each block keeps where it is in the file, so `**Lead**:` labels and
 * diagnostics are read from and point at the exact source. Inline markup is lexed for headings
 * only, which is all the mission parser needs from it. marked is a single module and lexes a
 * mission in a few milliseconds; the micromark parser it replaced took about 50 modules and
 * 5 ms a KB, most of a cold `coord missions list`.
 */

interface Located {
  /** Offsets of the block's source in the text, without surrounding white space. */
  start: number;
  end: number;
  /** 1-based line where it starts. */
  line: number;
}

export interface Heading extends Located {
  type: "heading";
  depth: number;
  /** The heading's text without markup: `**Phase 1**: Plan` is `Phase 1: Plan`. */
  title: string;
}

export interface List extends Located {
  type: "list";
  ordered: boolean;
  /** The source of each item without its bullet or a task checkbox. */
  items: string[];
}

export interface Code extends Located {
  type: "code";
  /** The code without its fence or indentation. */
  value: string;
}

export interface OtherBlock extends Located {
  type: "paragraph" | "blockquote" | "html" | "thematicBreak" | "definition";
}

export type Block = Heading | List | Code | OtherBlock;

export interface Root {
  children: Block[];
}

const OTHER_TYPES: Record<string, OtherBlock["type"]> = {
  paragraph: "paragraph",
  text: "paragraph",
  blockquote: "blockquote",
  html: "html",
  hr: "thematicBreak",
  def: "definition",
};

/** The top-level blocks of a (normalized, `\n`-only) markdown text. */
export function parseMarkdown(text: string): Root {
  const lexer = new Lexer({ gfm: false });
  const children: Block[] = [];
  let cursor = 0;
  let line = 1;
  let lineAt = 0;
  for (const token of lexer.blockTokens(text)) {
    const block = toBlock(token, lexer);
    // Indented code keeps its indentation, as it is part of the block.
    const source = token.type === "code" ? token.raw.replace(/^\n+/, "").trimEnd() : token.raw.trim();
    if (!block || !source) continue;
    const start = locate(text, source, cursor);
    if (start === -1) continue;
    cursor = start + source.length;
    // Spaces at the end of the block's last line are part of its source (a hard break, say).
    let end = cursor;
    while (text[end] === " " || text[end] === "\t") end++;
    for (let i = text.indexOf("\n", lineAt); i !== -1 && i < start; i = text.indexOf("\n", i + 1)) line++;
    lineAt = start;
    children.push({ ...block, start, end, line } as Block);
  }
  return { children };
}

// How far past the expected place a block's source is looked for, should it not be there.
const LOCATE_WINDOW = 4_096;

/**
 * Where a block's source starts: right after the white space at `from`, since blocks follow
 * one another. The lexer trims white space off some raw texts (the end of a list), so they are
 * compared trimmed; should one still differ, it is looked for a little further on (never in
 * the whole rest of the text, which for every block would make a parse quadratic).
 */
function locate(text: string, source: string, from: number): number {
  for (let at = from; at < text.length; at++) {
    if (text.startsWith(source, at)) return at;
    if (!/\s/.test(text[at]!)) break;
  }
  const found = text.slice(from, from + source.length + LOCATE_WINDOW).indexOf(source);
  return found === -1 ? -1 : from + found;
}

type Unlocated<T> = T extends Located ? Omit<T, keyof Located> : never;

function toBlock(token: Token, lexer: Lexer): Unlocated<Block> | undefined {
  switch (token.type) {
    case "heading":
      return { type: "heading", depth: (token as Tokens.Heading).depth, title: headingTitle(lexer, token.text ?? "") };
    case "list":
      return { type: "list", ordered: (token as Tokens.List).ordered, items: (token as Tokens.List).items.map(itemSource).filter(Boolean) };
    case "code":
      return { type: "code", value: (token as Tokens.Code).text };
    default: {
      const type = OTHER_TYPES[token.type];
      return type ? { type } : undefined;
    }
  }
}

const BULLET = /^[ \t]*(?:[-+*]|\d{1,9}[.)])[ \t]*/;

/**
 * An item's source without its bullet or a task checkbox: its blocks one per line, each from
 * its first character, their other lines as written (a nested list's items keep their indent).
 */
function itemSource(item: Tokens.ListItem): string {
  const lines = item.raw.replace(BULLET, "").split("\n");
  const out: string[] = [];
  let next = 0;
  for (const child of item.tokens) {
    if (child.type === "space") continue;
    // The child's raw text is de-indented but has the item's lines, so it says how many it takes.
    while (next < lines.length && lines[next]!.trim() === "") next++;
    const count = child.raw.replace(/\n+$/, "").split("\n").length;
    const block = lines.slice(next, next + count);
    next += count;
    if (block.length > 0) out.push(block[0]!.trimStart(), ...block.slice(1));
  }
  return out.join("\n").replace(/^\[[ xX]\]\s*/, "").trim();
}

/**
 * Characters of a heading read as its title. No title needs more, and the inline lexer's time on
 * unclosed `<!--` and runs of backticks grows with the square of the text.
 */
const MAX_TITLE = 2_000;

/** A heading's plain text; a setext heading's lines without their indentation. */
function headingTitle(lexer: Lexer, text: string): string {
  return inlineText(lexer.inlineTokens(text.slice(0, MAX_TITLE))).replace(/\n[ \t]+/g, "\n");
}

/** Plain text of inline tokens, as a reader sees it: markup dropped, code and link text kept. */
function inlineText(tokens: Token[]): string {
  return tokens
    .map((t) => {
      if ("tokens" in t && t.tokens && t.type !== "image") return inlineText(t.tokens);
      if (t.type === "image") return "";
      if (t.type === "br") return "";
      return "text" in t && typeof t.text === "string" ? (t.type === "html" ? t.raw : decodeEntities(t.text)) : t.raw;
    })
    .join("");
}

/** marked leaves named entities (`&amp;`, `&mdash;`) in text as written; titles read them decoded. */
function decodeEntities(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(/&([a-zA-Z][a-zA-Z0-9]{1,8});/g, (whole, name: string) => ENTITIES[name] ?? whole);
}

// The named entities people type in headings (HTML's full list has 2,000; the rest stay as written).
const ENTITIES: Record<string, string> = {
  amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0", ensp: "\u2002", emsp: "\u2003", thinsp: "\u2009",
  mdash: "\u2014", ndash: "\u2013", hellip: "\u2026", bull: "\u2022", middot: "\u00b7", copy: "\u00a9", reg: "\u00ae",
  trade: "\u2122", laquo: "\u00ab", raquo: "\u00bb", lsquo: "\u2018", rsquo: "\u2019", ldquo: "\u201c", rdquo: "\u201d",
  times: "\u00d7", divide: "\u00f7", plusmn: "\u00b1", deg: "\u00b0", sect: "\u00a7", para: "\u00b6", euro: "\u20ac",
  pound: "\u00a3", yen: "\u00a5", cent: "\u00a2", rarr: "\u2192", larr: "\u2190", harr: "\u2194", uarr: "\u2191",
  darr: "\u2193", rArr: "\u21d2", lArr: "\u21d0", frac12: "\u00bd", frac14: "\u00bc", frac34: "\u00be", check: "\u2713",
};

/** The exact source text of a block: keeps emphasis markers, which labels like **Lead**: rely on. */
export function sourceOf(block: Located, text: string): string {
  return text.slice(block.start, block.end);
}

/**
 * Where markdown parsers stop being linear. Past each limit their time grows with the square of
 * the size (40,000 nested quotes: minutes), so such text is refused before it is parsed. The
 * limits were measured on micromark, which coord used before marked; marked shares the shapes
 * (a thousand list levels nested line by line: 45 s in micromark, 9 s in marked, both refused
 * here now). Real missions stay far below every one of them.
 */
export const MARKDOWN_LIMITS: MarkdownLimits = {
  /**
   * Quote and list markers opened on one line (`> > > x`, `- - - x`), and quotes and list items
   * nested line by line (`- a`, `  - b`, `    - c`): each level re-walks the ones around it.
   */
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
const CONTAINER_MARKER = /([ \t]*)(?:(>)[ \t]?|([-+*]|\d{1,9}[.)])(?:[ \t]+|$))/y;
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
  /** Columns (a tab counting 4) where the last marker starts, and where its content can start at the least. */
  markerColumn: number;
  contentColumn: number;
}

/** The quote and list markers a line starts with (counting stops past `stopAfter`). */
function containerPrefix(line: string, stopAfter: number): ContainerPrefix {
  const prefix: ContainerPrefix = { markers: 0, quoted: false, firstIsQuote: false, end: 0, markerColumn: 0, contentColumn: 0 };
  if (THEMATIC_BREAK.test(line)) return prefix;
  CONTAINER_MARKER.lastIndex = 0;
  for (let m = CONTAINER_MARKER.exec(line); m && prefix.markers <= stopAfter; m = CONTAINER_MARKER.exec(line)) {
    const quote = m[2] !== undefined;
    if (prefix.markers === 0) prefix.firstIsQuote = quote;
    prefix.markers++;
    prefix.quoted ||= quote;
    // Content starts two columns past where the marker starts, at the least: CommonMark puts it
    // past the whole marker (`10.`) and its space, but marked nests `1.` items indented by two.
    prefix.markerColumn = columns(line.slice(0, m.index + m[1]!.length));
    prefix.contentColumn = prefix.markerColumn + 2;
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

/** Columns a text takes, a tab counting 4 (as indentOf counts them). */
function columns(text: string): number {
  let count = text.length;
  for (let i = text.indexOf("\t"); i !== -1; i = text.indexOf("\t", i + 1)) count += 3;
  return count;
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
  // The least content column of each quote or list item open around the line.
  private openItems: number[] = [];
  private afterBlank = false;
  // Runs of lazy lines in the open quote so far: at each, the parsers cut the quote there and read
  // the rest of it again, so every later line of the quote costs one more read per run.
  private lazyRuns = 0;
  private inLazyRun = false;
  private quoteWork = 0;

  constructor(private readonly limits: MarkdownLimits) {}

  /** Reads the next line; returns why the text is refused once it is. */
  read(line: string): string | undefined {
    const { markers, quoted, firstIsQuote, end, markerColumn, contentColumn } = containerPrefix(line, this.limits.nesting);
    if (markers > this.limits.nesting) return `quotes or lists nest more than ${this.limits.nesting} levels deep on one line`;
    this.progress += 1 + markers;
    const rest = end === 0 ? line : line.slice(end);
    if (this.fence) {
      // Code is never parsed for emphasis; a fence ends at its closing line or with its container.
      if (closesFence(rest, markers, this.fence)) this.fence = null;
      return undefined;
    }
    const rereads = this.chargeQuote(markers);
    if (rereads) return rereads;
    if (BLANK.test(rest)) {
      this.afterBlank = true;
      return this.blank(markers);
    }
    const nested = this.nestItems(line, markers, markerColumn, contentColumn);
    if (nested) return nested;
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

  /**
   * Follows quotes and list items nested line by line (`- a`, `  - b`, `    - c`, ...): each
   * level makes the parsers re-read the lines of the levels around it, so a thousand levels take
   * seconds. A marker at or past the least content column of the item above is nested in it (as
   * CommonMark nests them); counting from the least column over-counts a little (code indented
   * in an item) and never under-counts.
   */
  private nestItems(line: string, markers: number, markerColumn: number, contentColumn: number): string | undefined {
    const afterBlank = this.afterBlank;
    this.afterBlank = false;
    if (markers === 0) {
      // Unindented text after a blank line ends every list; other lines leave them open.
      if (afterBlank && indentOf(line) === 0) this.openItems = [];
      return undefined;
    }
    while (this.openItems.length > 0 && this.openItems.at(-1)! > markerColumn) this.openItems.pop();
    this.openItems.push(contentColumn);
    if (this.openItems.length > this.limits.nesting) return `quotes or lists nest more than ${this.limits.nesting} levels deep`;
    return undefined;
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
      if (this.container.quoted && !this.inLazyRun) {
        this.lazyRuns++;
        this.inLazyRun = true;
      }
      if (++this.lazyLines > this.limits.lazyLines) {
        return `a quoted or listed paragraph goes on for more than ${this.limits.lazyLines} lines without its > or indentation`;
      }
      return undefined;
    }
    return this.closeContainer();
  }

  /** Each line of an open quote costs a read per run of lazy lines before it in the quote. */
  private chargeQuote(markers: number): string | undefined {
    if (markers > 0) this.inLazyRun = false;
    if (!this.container?.quoted || this.lazyRuns === 0) return undefined;
    this.quoteWork += this.lazyRuns;
    if (this.quoteWork > this.limits.closingWork) return "a quote goes on without its > and back too many times for the length of the file";
    return undefined;
  }

  private closeContainer(): string | undefined {
    const closed = Math.max(1, this.depth);
    this.lazyRuns = 0;
    this.inLazyRun = false;
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
