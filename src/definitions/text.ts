import { diagnostic, type Diagnostic } from "../errors.js";

/** A stretch of text that was repaired, with the 1-based line it is on. */
export interface Repair {
  line: number;
  from: string;
  to: string;
  encoding: string;
}

// UTF-8 bytes decoded with one of these single-byte code pages and saved again as UTF-8 is the
// usual way emoji and accents get mangled ("🤝" becomes "ü§ù" through Mac Roman).
const MISDECODINGS = ["macintosh", "windows-1252"] as const;
type Misdecoding = (typeof MISDECODINGS)[number];
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

// Windows-1252 differs from Latin-1 only in 0x80-0x9F; Node's TextDecoder treats the label as
// Latin-1, so that block is spelled out (the five undefined bytes map to their C1 controls).
const CP1252_80_9F =
  "\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f" +
  "\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178";

function decodeHighByte(b: number, encoding: Misdecoding): string {
  if (encoding === "macintosh") return new TextDecoder("macintosh").decode(Uint8Array.of(b));
  return b < 0xa0 ? CP1252_80_9F[b - 0x80]! : String.fromCharCode(b);
}

// Reverse tables (character -> byte) for the upper half of each code page. Node's Mac Roman
// decoder maps every byte, 0xF0 included (U+F8FF, the Apple logo), which iconv-lite does not.
const reverseTables = new Map<Misdecoding, Map<string, number>>();
function reverseTable(encoding: Misdecoding): Map<string, number> {
  let table = reverseTables.get(encoding);
  if (!table) {
    table = new Map();
    for (let b = 0x80; b <= 0xff; b++) table.set(decodeHighByte(b, encoding), b);
    reverseTables.set(encoding, table);
  }
  return table;
}

function encodeSingleByte(run: string, encoding: Misdecoding): Uint8Array | undefined {
  const table = reverseTable(encoding);
  const bytes = new Uint8Array(run.length);
  for (let i = 0; i < run.length; i++) {
    const b = table.get(run[i]!);
    if (b === undefined) return undefined;
    bytes[i] = b;
  }
  return bytes;
}

// What a repaired run may turn into. Mojibake of Latin text, punctuation, symbols, emoji and
// CJK is common; a lone Armenian or Cyrillic letter or a combining mark is what correct text
// like "l’école" or "cafÃ©" read the wrong way would become, so those are not repairs.
const PLAUSIBLE = /^[\u00a0-\u024f\u2010-\u206f\u20a0-\u2bff\u2e80-\u9fff\uac00-\ud7af\ufe0f\u{1f000}-\u{1faff}]+$/u;
const OTHER_SCRIPT_WORD = /^(?:[\u0370-\u03ff]{2,}|[\u0400-\u04ff]{2,}|[\u0590-\u05ff]{2,}|[\u0600-\u06ff]{2,})$/;

function plausible(decoded: string): boolean {
  return PLAUSIBLE.test(decoded) || OTHER_SCRIPT_WORD.test(decoded);
}

/** Reverses mis-decoding of a run when the result is valid, plausible UTF-8; otherwise leaves it. */
function repairRun(run: string): { to: string; encoding: string } | undefined {
  for (const encoding of MISDECODINGS) {
    const bytes = encodeSingleByte(run, encoding);
    if (!bytes) continue;
    try {
      const to = strictUtf8.decode(bytes);
      if (to !== run && plausible(to)) return { to, encoding };
    } catch {
      // Not UTF-8 underneath: the run is genuine text in some other script.
    }
  }
  return undefined;
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

// Multi-byte UTF-8 sequences consist only of bytes >= 0x80, so a mangled sequence is a run of
// two or more characters from the upper halves of these code pages. Matching only those keeps
// emoji and other scripts (most non-ASCII text in agent files) off the slow path.
let suspectRun: RegExp | undefined;
function suspectRunPattern(): RegExp {
  if (!suspectRun) {
    const chars = new Set(MISDECODINGS.flatMap((encoding) => [...reverseTable(encoding).keys()]));
    const escaped = [...chars].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join("");
    suspectRun = new RegExp(`[${escaped}]{2,}`, "g");
  }
  return suspectRun;
}

// A mangled sequence starts with a UTF-8 lead byte (0xC2-0xF4) read through one of the code
// pages and goes on with a continuation byte (0x80-0xBF): testing for exactly that pair first
// keeps the scan cheap, since it almost never occurs in correct text (emoji included).
let maybeMangled: RegExp | undefined;

/** A regex character class body of code points, merged into ranges: V8 scans ranges much faster. */
function classOf(codes: number[]): string {
  const hex = (c: number) => `\\u${c.toString(16).padStart(4, "0")}`;
  const sorted = [...new Set(codes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const start = sorted[i]!;
    while (i + 1 < sorted.length && sorted[i + 1] === sorted[i]! + 1) i++;
    parts.push(start === sorted[i] ? hex(start) : `${hex(start)}-${hex(sorted[i]!)}`);
  }
  return parts.join("");
}
function maybeMangledPattern(): RegExp {
  if (!maybeMangled) {
    const chars = (from: number, to: number) => {
      const codes = new Set<number>();
      for (const encoding of MISDECODINGS) for (let b = from; b <= to; b++) codes.add(decodeHighByte(b, encoding).charCodeAt(0));
      return classOf([...codes]);
    };
    maybeMangled = new RegExp(`[${chars(0xc2, 0xf4)}][${chars(0x80, 0xbf)}]`);
  }
  return maybeMangled;
}

/** Repairs mojibake where it is recoverable and reports each repair with its line. */
export function repairMojibake(text: string): { text: string; repairs: Repair[] } {
  const repairs: Repair[] = [];
  let current = text;
  // Text mangled twice ("cafÃƒÂ©") needs two passes; three is more than any real file needs.
  for (let pass = 0; pass < 3 && maybeMangledPattern().test(current); pass++) {
    const before = current;
    current = current.replace(suspectRunPattern(), (run, offset: number) => {
      const fixed = repairRun(run);
      if (!fixed) return run;
      repairs.push({ line: lineAt(before, offset), from: run, to: fixed.to, encoding: fixed.encoding });
      return fixed.to;
    });
    if (current === before) break;
  }
  return { text: current, repairs };
}

/** Drops any BOM and uses LF line ends: what every parser does first. */
export function normalizeLines(raw: string): string {
  const unBommed = raw.replace(/^\ufeff+/, "");
  return unBommed.includes("\r") ? unBommed.replace(/\r\n?/g, "\n") : unBommed;
}

/** normalizeLines, then mojibake repair of the whole text (missions: their text is what agents read). */
export function normalizeText(raw: string): { text: string; repairs: Repair[] } {
  return repairMojibake(normalizeLines(raw));
}

/** A warning per repair, on its line (`firstLine` is the file line the repaired text starts on). */
export function repairDiagnostics(repairs: Repair[], file: string, firstLine = 1): Diagnostic[] {
  return repairs.map((r) =>
    diagnostic("TEXT_MOJIBAKE_REPAIRED", `mis-encoded text "${r.from}" read as "${r.to}" (UTF-8 saved as ${r.encoding})`, {
      file,
      line: r.line + firstLine - 1,
      hint: `replace "${r.from}" with "${r.to}" and save the file as UTF-8`,
    }),
  );
}

/** `Marketing Framework` -> `marketing-framework`; the id form of any human title. */
export function slugify(text: string): string {
  // Decomposing accents costs more than the rest together, and almost every name is ASCII.
  if (!/[^\x00-\x7f]/.test(text)) return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  // Accents go (Café -> cafe); letters of other scripts stay, so 市场框架 is still an id.
  return text
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, "-")
    .replace(/^-+|-+$/g, "");
}
