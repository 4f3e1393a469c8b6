/** A paragraph, bullet or table row of the prompt, with where it came from. */
export interface Passage {
  text: string;
  /** The document (`###` heading) and, when there is one, its sub-heading. */
  source: string;
  /** Words of the sub-heading it sits under: a bullet under "Handoff friction" is about handoffs. */
  topic: string;
  /** The words that count for relevance: a table row's cells without its repeated column names. */
  match: string;
  order: number;
}

const STOPWORDS = new Set(
  "a an and are as at be by for from has have in into is it its of on or our that the their this to with across all each through within between over per via after before than then who what when how which".split(
    " ",
  ),
);

/** Lower-case word stems: enough to match "handoffs" with "handoff" and "qualified" with "qualification". */
export function terms(text: string): string[] {
  return (text.toLowerCase().match(/[a-z0-9]+/g) ?? [])
    .filter((w) => w.length > 2 && !STOPWORDS.has(w))
    .map((w) => w.replace(/(ations?|ing|ed|es|s)$/, "").slice(0, 7));
}

// Sections of the prompt that hold material (inputs, earlier deliverables, notes), not instructions.
const MATERIAL = /^(inputs?|brief|extra context|earlier deliverables|support notes)$/i;
const TAG = "*(from ";
const LIST_ITEM = /^\s*(?:[-*+]|\d+[.)])\s+(.*)$/;
const TABLE_ROW = /^\s*\|(.*)\|\s*$/;
const TABLE_RULE = /^\s*\|?[\s:|-]+\|?\s*$/;

/** Drops the "(from X)" tags a draft carries, keeping the first one: the passage's original source. */
function unwrap(text: string): { text: string; origin?: string } {
  let origin: string | undefined;
  let rest = text.trimEnd();
  // Sources may hold parentheses ("Routing (as-is)"), so tags are cut from the end, not matched.
  for (let at = rest.lastIndexOf(TAG); at !== -1 && rest.endsWith(")*"); at = rest.lastIndexOf(TAG)) {
    origin = rest.slice(at + TAG.length, -2);
    rest = rest.slice(0, at).trimEnd();
  }
  return { text: rest, ...(origin && { origin }) };
}

function cells(row: string): string[] {
  return row.split("|").map((c) => c.trim());
}

/**
 * Splits the material sections of a prompt into passages: paragraphs, list items and table rows
 * (each row labelled with its column headers), tagged with the document they came from.
 */
export function splitPassages(prompt: string): Passage[] {
  const passages: Passage[] = [];
  let inMaterial = false;
  let source = "inputs";
  let topic = "";
  let paragraph: string[] = [];
  let header: string[] | null = null;

  const push = (raw: string, match?: string) => {
    const { text, origin } = unwrap(raw.replace(/\s+/g, " "));
    // Too short to say anything, our own notice or scaffolding of an earlier offline draft, or a
    // bold label line ("**Evidence from the inputs:**").
    if (text.length < 12 || text.startsWith("> **Offline draft.**") || /^\*\*(Purpose|Open):\*\*/.test(text) || /^\*\*[^*]+\*\*$/.test(text)) return;
    const where = origin ?? (topic ? `${source} › ${topic}` : source);
    passages.push({ text, source: where, topic, match: match ?? text, order: passages.length });
  };
  const flush = () => {
    if (paragraph.length) push(paragraph.join(" "));
    paragraph = [];
  };

  for (const line of prompt.split("\n")) {
    const heading = /^(#{2,6}) (.*)$/.exec(line);
    if (heading) {
      flush();
      header = null;
      const [, hashes, title] = heading as unknown as [string, string, string];
      if (hashes.length === 2) inMaterial = MATERIAL.test(title.trim());
      else if (hashes.length === 3) [source, topic] = [title.trim(), ""];
      else topic = title.replace(/^[\d.]+\s*/, "").trim();
      continue;
    }
    if (!inMaterial) continue;
    const row = TABLE_ROW.exec(line);
    if (row) {
      flush();
      if (TABLE_RULE.test(line)) continue;
      if (!header) header = cells(row[1]!);
      else {
        const values = cells(row[1]!);
        push(values.map((cell, i) => (header![i] ? `${header![i]}: ${cell}` : cell)).join("; "), values.join(" "));
      }
      continue;
    }
    header = null;
    const item = LIST_ITEM.exec(line);
    if (item) {
      flush();
      paragraph = [item[1]!];
    } else if (!line.trim()) flush();
    else paragraph.push(line.trim());
  }
  flush();
  return passages;
}

/** The passages sharing most terms with the query, best first; ties keep the prompt's order. */
export function rankPassages(query: string, passages: Passage[], limit: number): Passage[] {
  const wanted = new Set(terms(query));
  const seen = new Set<string>();
  const score = (p: Passage) => {
    const words = new Set(terms(p.match));
    const topicWords = new Set(terms(p.topic));
    let hits = 0;
    for (const w of wanted) hits += words.has(w) ? 1 : topicWords.has(w) ? 0.5 : 0;
    return hits / Math.sqrt(words.size + 4);
  };
  return passages
    .map((p) => ({ p, score: score(p) }))
    .filter((s) => s.score > 0)
    .sort((a, b) => b.score - a.score || a.p.order - b.p.order)
    .filter((s) => (seen.has(s.p.text) ? false : (seen.add(s.p.text), true)))
    .slice(0, limit)
    .map((s) => s.p);
}
