import type { Evidence, Verdict } from "../models/criteria-judge.js";

// Checked criteria as run.json keeps them: plain data with no LangChain in it, so the replies
// that only read records never load it.

/** One success criterion as run.json keeps it: its verdict, the quotes that back it, what is missing. */
export interface CriterionResult {
  text: string;
  verdict: Verdict;
  /** The phase whose deliverables should meet it (with gates), else null. */
  phase: number | null;
  evidence: Evidence[];
  /** For `partly` and `not_met`: what is missing; empty when met. */
  missing: string;
}

/** "criteria: 6 met, 1 partly, 1 not met", or nothing when the run has no checked criteria. */
export function criteriaSummary(results: CriterionResult[] | undefined): string {
  if (!results?.length) return "";
  const count = (v: Verdict) => results.filter((r) => r.verdict === v).length;
  return `criteria: ${count("met")} met, ${count("partly")} partly, ${count("not_met")} not met`;
}
