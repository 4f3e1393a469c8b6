import { relative, isAbsolute } from "node:path";
import { formatDiagnostic, type Diagnostic } from "../../errors.js";

/** Where a command writes, and how it was asked to: the only place the CLI touches stdout/stderr. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** The stream progress is drawn on (a live line when it is a terminal). */
  errStream: { isTTY?: boolean; write(text: string): unknown };
  /** The environment the command was started with; commands read it, never process.env. */
  env: Record<string, string | undefined>;
  /** Whether that is this process's own environment (bin/coord.js), not one a caller gave (tests). */
  processEnv?: boolean;
  cwd: string;
  json: boolean;
  quiet: boolean;
  verbose: boolean;
}

export function displayPath(file: string, cwd: string): string {
  if (!isAbsolute(file)) return file;
  const rel = relative(cwd, file);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : file;
}

export function printJson(io: Io, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}

/** Prints diagnostics one line each on stderr (never stdout, which may carry JSON). */
export function reportDiagnostics(io: Io, diagnostics: Diagnostic[], options: { warnings?: boolean } = {}): void {
  for (const d of diagnostics) {
    if (d.severity === "warning" && (io.quiet || options.warnings === false)) continue;
    io.err(formatDiagnostic(d, (f) => displayPath(f, io.cwd)));
  }
}

/** One stderr line summarising problems a listing skipped over, pointing at validate. */
export function summarizeDiagnostics(io: Io, diagnostics: Diagnostic[], validateCommand: string): void {
  if (io.quiet) return;
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  const warnings = diagnostics.length - errors;
  if (errors + warnings === 0) return;
  const parts = [errors && `${errors} error${errors === 1 ? "" : "s"}`, warnings && `${warnings} warning${warnings === 1 ? "" : "s"}`];
  io.err(`coord: ${parts.filter(Boolean).join(", ")} (run \`${validateCommand}\` for details)`);
}

export function truncate(text: string, width: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat;
}

/** A plain text table: columns padded to their widest cell, the last one left ragged. */
export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ")).join("\n");
}
