import { distance } from "fastest-levenshtein";

/** Up to three known names close to `wanted`, best first: typos and partial names both count. */
export function closestNames(wanted: string, known: Iterable<string>, limit = 3): string[] {
  const target = wanted.toLowerCase();
  const scored: Array<{ name: string; score: number }> = [];
  for (const name of known) {
    const candidate = name.toLowerCase();
    const edit = distance(target, candidate);
    const contains = candidate.includes(target) || target.includes(candidate);
    const threshold = Math.max(2, Math.floor(Math.max(target.length, candidate.length) / 3));
    if (edit <= threshold || contains) scored.push({ name, score: contains ? Math.min(edit, 1.5) : edit });
  }
  return scored
    .sort((a, b) => a.score - b.score || a.name.localeCompare(b.name))
    .slice(0, limit)
    .map((s) => s.name);
}
