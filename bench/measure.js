// What every bench section prints its figures with: medians, tables, and a target's verdict.

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A plain-text table: left-aligned first column, right-aligned others. */
export function table(header, rows) {
  const all = [header, ...rows];
  const widths = header.map((_, col) => Math.max(...all.map((row) => String(row[col]).length)));
  const line = (row) => row.map((cell, col) => (col === 0 ? String(cell).padEnd(widths[col]) : String(cell).padStart(widths[col]))).join("   ");
  return all.map(line).join("\n");
}

/** PASS below the target, MISS at or above it. */
export const verdict = (value, target) => (value < target ? "PASS" : "MISS");
