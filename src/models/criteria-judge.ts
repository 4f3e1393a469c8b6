import { terms } from "./passages.js";
import { SECTIONS, sectionBody } from "./prompt-format.js";

/** The structured-output tool a judge answers through. */
export const JUDGE_TOOL = "judge_criteria";
/** The tool a judge assigns criteria to phases through, before the first phase (gates). */
export const ASSIGN_TOOL = "assign_criteria";

export type Verdict = "met" | "partly" | "not_met";

export interface Evidence {
  phase: number;
  deliverable: string;
  quote: string;
}

/** A judge's answer on one criterion, as it gave it (before coord checks its quotes). */
export interface JudgedCriterion {
  criterion: number;
  verdict: Verdict;
  evidence: Evidence[];
  missing: string;
}

/** Said with every verdict the offline judge gives, so nobody mistakes term overlap for judgement. */
export const OFFLINE_JUDGE_NOTE = "offline check (term overlap with the deliverables, not an LLM's judgement)";

const MET = 0.6;
const EVIDENCE = 3;
const PARTLY = 0.3;

interface Sentence {
  phase: number;
  deliverable: string;
  text: string;
  words: Set<string>;
}

/** The deliverables of a judge's request: `### Phase N: Title` documents under "Deliverables to judge". */
function deliverableSentences(prompt: string): Sentence[] {
  // The judge is given every deliverable as the steps are given earlier ones.
  const body = sectionBody(prompt, SECTIONS.earlier);
  const out: Sentence[] = [];
  for (const part of body.split(/^### /m).slice(1)) {
    const [heading, ...rest] = part.split("\n");
    // A deliverable given in brief is named as the others, its note aside.
    const match = /^Phase (\d+): (.+?)(?: \(in brief[^)]*\)[^)]*\))?$/.exec(heading!.trim());
    if (!match) continue;
    const text = rest.join("\n");
    // Sentences as they stand in the text, so a quote of one is found verbatim: without list
    // marks, a bold label ("**Purpose:**") or an offline draft's "*(from ...)*" source note.
    for (const raw of text.split(/(?<=[.!?])\s+|\n+/)) {
      const sentence = raw
        .replace(/^[\s>#|-]*(\d+\.\s+)?/, "")
        .replace(/^\*\*[^*]+:\*\*\s*/, "")
        .replace(/\s*\*\(from [^)]*(\)[^)]*)?\)\*\s*$/, "")
        .replace(/^\*+|\*+$/g, "")
        .trim();
      if (sentence.length < 12 || sentence.startsWith("(from ") || /Offline draft|not written by an LLM/.test(sentence)) continue;
      out.push({ phase: Number(match[1]), deliverable: match[2]!.trim(), text: sentence, words: new Set(terms(sentence)) });
    }
  }
  return out;
}

/** The numbered criteria of a judge's request. */
function criteriaOf(prompt: string): string[] {
  return sectionBody(prompt, SECTIONS.criteria)
    .split("\n")
    .map((line) => /^\s*\d+\.\s+(.*)$/.exec(line)?.[1]?.trim())
    .filter((c): c is string => !!c);
}

/**
 * The offline model's verdicts: each criterion's terms against the deliverables' sentences. The
 * sentences that share most terms are the evidence; the share of the criterion's terms they
 * cover gives the verdict. Deterministic, and it says what it is.
 */
export function offlineVerdicts(prompt: string): JudgedCriterion[] {
  const sentences = deliverableSentences(prompt);
  return criteriaOf(prompt).map((criterion, i) => {
    const wanted = [...new Set(terms(criterion))];
    // Terms are stems; what is missing is said in the criterion's own words.
    const wordOf = new Map((criterion.match(/[A-Za-z0-9]+/g) ?? []).map((w) => [terms(w)[0] ?? "", w.toLowerCase()]));
    // The best sentences, each saying something the ones before it did not: a sentence repeated
    // in two deliverables is one piece of evidence.
    const ranked: Array<{ s: Sentence; hits: number }> = [];
    const seen = new Set<string>();
    for (const r of sentences.map((s) => ({ s, hits: wanted.filter((w) => s.words.has(w)).length })).sort((a, b) => b.hits - a.hits || a.s.phase - b.s.phase)) {
      if (r.hits === 0 || ranked.length === EVIDENCE) break;
      if (seen.has(r.s.text)) continue;
      seen.add(r.s.text);
      ranked.push(r);
    }
    const covered = new Set(ranked.flatMap((r) => wanted.filter((w) => r.s.words.has(w))));
    const share = wanted.length ? covered.size / wanted.length : 0;
    const verdict: Verdict = share >= MET ? "met" : share >= PARTLY ? "partly" : "not_met";
    const absent = wanted.filter((w) => !covered.has(w));
    const missing = verdict === "met" ? "" : `${OFFLINE_JUDGE_NOTE}: the closest passages do not mention ${absent.map((t) => wordOf.get(t) ?? t).join(", ")}`;
    return { criterion: i + 1, verdict, evidence: ranked.map((r) => ({ phase: r.s.phase, deliverable: r.s.deliverable, quote: r.s.text })), missing };
  });
}

/**
 * The offline model's assignment of criteria to phases: each goes to the earliest phase whose
 * title, objective and deliverables share most of its terms, or to the last phase when none does.
 */
export function offlineAssignments(prompt: string): Array<{ criterion: number; phase: number }> {
  const phases = sectionBody(prompt, SECTIONS.phases)
    .split(/^### /m)
    .slice(1)
    .map((part) => {
      const index = Number(/^Phase (\d+)/.exec(part)?.[1] ?? 0);
      return { index, words: new Set(terms(part)) };
    })
    .filter((p) => p.index > 0);
  const last = phases.at(-1)?.index ?? 1;
  return criteriaOf(prompt).map((criterion, i) => {
    const wanted = [...new Set(terms(criterion))];
    let best = { phase: last, hits: 0 };
    for (const p of phases) {
      const hits = wanted.filter((w) => p.words.has(w)).length;
      if (hits > best.hits) best = { phase: p.index, hits };
    }
    return { criterion: i + 1, phase: best.phase };
  });
}
