import { stripOwnHeading } from "../models/prompt-format.js";

const OPENING_WORDS = 80;
const MAX_HEADINGS = 12;

/**
 * A deliverable in brief, for requests that cannot hold it whole: its outline (its own headings)
 * and its opening words. Deterministic, so it is the same bytes whenever it is made, and cheap:
 * no model call. The full text stays one `read_deliverable` call away.
 */
export function digestOf(text: string): string {
  const body = stripOwnHeading(text.trim());
  const headings = [...body.matchAll(/^#{1,6} +(.+)$/gm)].map((m) => m[1]!.trim()).slice(0, MAX_HEADINGS);
  const prose = body
    .split("\n")
    .filter((line) => line.trim() && !/^#{1,6} /.test(line) && !/^\s*>/.test(line))
    .join(" ")
    .split(/\s+/)
    .filter(Boolean);
  const opening = prose.slice(0, OPENING_WORDS).join(" ") + (prose.length > OPENING_WORDS ? " ..." : "");
  const words = prose.length;
  return [`(digest: about ${words} words${headings.length ? `; sections: ${headings.join(" · ")}` : ""})`, opening].filter(Boolean).join("\n\n");
}

/** Digests of a phase's deliverables, by title. */
export function digestsOf(deliverables: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(deliverables).map(([title, text]) => [title, digestOf(text)]));
}
