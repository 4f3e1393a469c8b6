// What every bench section prints its figures with: medians, tables, and a target's verdict;
// and what the sections that run missions against the tests' fake OpenAI server share.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

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

/**
 * runMission's options for a run of `mission` in `root` against the fake OpenAI server: the
 * inputs folder, a test key, the server as the default model's base URL, and no hooks.
 */
export function fakeServerRun(root, server, mission, runId, settings = {}) {
  return {
    cwd: root,
    mission,
    inputsDir: "inputs",
    runId,
    env: { OPENAI_API_KEY: "sk-bench" },
    settings: { ...settings, models: { default: "openai:gpt-4o-mini", baseUrl: server.url, ...settings.models }, hooks: { enabled: false } },
  };
}

/**
 * Runs a section by itself when its file is the script node was started with (`node --import
 * tsx bench/phase.js`, from the repo root, dist/ built): in a temporary folder, removed after.
 */
export async function runAlone(moduleUrl, name, bench, report) {
  if (!process.argv[1] || resolve(process.argv[1]) !== fileURLToPath(moduleUrl)) return;
  const root = mkdtempSync(join(tmpdir(), `coord-bench-${name}-`));
  try {
    report(await bench(resolve(fileURLToPath(new URL("..", moduleUrl))), root), { table, verdict });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
