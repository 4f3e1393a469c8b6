import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CoordError, ERROR_CODES, diagnostic, formatDiagnostic, isCoordError, type Diagnostic, type ErrorCode } from "../src/errors.js";
import { parseAgent } from "../src/definitions/agent.js";
import { loadAgents, loadMissions } from "../src/definitions/load.js";
import { parseMission } from "../src/definitions/mission.js";
import { validateMissionAgents } from "../src/definitions/validate.js";
import { REPO, fixture, tempDir } from "./definitions/fixtures.js";

const CODES = Object.keys(ERROR_CODES) as ErrorCode[];

/** `## CODE` sections of docs/errors.md, each with its text. */
function documentedSections(): Map<string, string> {
  const doc = readFileSync(join(REPO, "docs", "errors.md"), "utf8");
  const sections = new Map<string, string>();
  for (const part of doc.split(/^## /m).slice(1)) {
    const [heading = "", ...rest] = part.split("\n");
    sections.set(heading.trim(), rest.join("\n"));
  }
  return sections;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)]))
    .sort();
}

/** Every diagnostic the fixture files produce: parsed one by one, then loaded and validated as folders. */
function fixtureDiagnostics(): Diagnostic[] {
  const out: Diagnostic[] = [];
  const agentDirs = [fixture("agents"), fixture("agents-small")];
  for (const file of agentDirs.flatMap(walk).filter((f) => /\.(md|ya?ml)$/.test(f))) {
    out.push(...parseAgent(readFileSync(file, "utf8"), file).diagnostics);
  }
  for (const dir of agentDirs) out.push(...loadAgents({ agentDirs: [dir], builtin: false, cwd: tempDir() }).diagnostics);

  const registry = loadAgents({ agentDirs: [fixture("agents-small")], builtin: false, cwd: tempDir() });
  for (const file of walk(fixture("missions")).filter((f) => f.endsWith(".md"))) {
    const parsed = parseMission(readFileSync(file, "utf8"), file);
    out.push(...parsed.diagnostics);
    if (parsed.mission) out.push(...validateMissionAgents(parsed.mission, registry));
  }
  out.push(...loadMissions({ missionDirs: [fixture("missions")], builtin: false, cwd: tempDir() }).diagnostics);
  return out;
}

describe("error codes", () => {
  const sections = documentedSections();

  it.each(CODES)("%s is documented in docs/errors.md with its severity and a fix", (code) => {
    const section = sections.get(code);
    expect(section, `docs/errors.md has no "## ${code}" section`).toBeDefined();
    expect(section).toMatch(new RegExp(`severity: ${ERROR_CODES[code].severity}\\b`));
    expect(section).toMatch(/fix/i);
  });

  it("documents no code that does not exist", () => {
    const headings = [...sections.keys()].filter((h) => /^[A-Z][A-Z_]+$/.test(h));
    expect(headings.sort()).toEqual([...CODES].sort());
  });

  it("produces every code an agent or mission file can cause from at least one fixture file", () => {
    // Lookups by name and the command line cause these, not a file's content; running a mission
    // (INPUT_*, RUN_*, HOOK_*) is tested with the runtime.
    const notFromFiles = new Set<ErrorCode>(["USAGE", "FILE_UNREADABLE", "AGENT_NOT_FOUND", "MISSION_NOT_FOUND", "MISSION_PATH_REFUSED", "PATH_NOT_FOUND"]);
    const fileCodes = CODES.filter((code) => /^(TEXT|AGENT|MISSION|TEMPLATE)_/.test(code) && !notFromFiles.has(code));
    expect(fileCodes.length).toBeGreaterThanOrEqual(17);
    const produced = new Set(fixtureDiagnostics().map((d) => d.code));
    expect(fileCodes.filter((code) => !produced.has(code))).toEqual([]);
  });

  it("has every code expected by some test", () => {
    // Tests name the code they expect as a string literal (`.code).toBe("X")`, `code: "X"`, a
    // table of expected codes). This file only lists the codes, so it does not count.
    const tests = walk(join(REPO, "test"))
      .filter((f) => f.endsWith(".ts") && !f.endsWith("errors.test.ts"))
      .map((f) => readFileSync(f, "utf8"))
      .join("\n");
    // Codes of agent and mission files are produced by the fixture files above instead.
    const fromFixtures = new Set(fixtureDiagnostics().map((d) => d.code));
    expect(CODES.filter((code) => !tests.includes(`"${code}"`) && !fromFixtures.has(code))).toEqual([]);
  });

  it("gives each diagnostic the default severity of its code", () => {
    for (const d of fixtureDiagnostics()) expect(d.severity, d.code).toBe(ERROR_CODES[d.code].severity);
  });
});

describe("diagnostics and CoordError", () => {
  it("formats a diagnostic as path:line: message (fix: hint)", () => {
    const d = diagnostic("AGENT_NAME_MISSING", 'agent has no name; using the file name "x"', { file: "agents/x.md", line: 2, hint: "add a name" });
    expect(formatDiagnostic(d)).toBe('agents/x.md:2: warning: agent has no name; using the file name "x" (fix: add a name)');
    expect(formatDiagnostic(diagnostic("USAGE", "bad flag"))).toBe("bad flag");
  });

  it("turns a diagnostic into a CoordError and back, keeping where it points", () => {
    const d = diagnostic("MISSION_PHASE_NO_LEAD", "phase 2 names no lead agent", { file: "m.md", line: 17, hint: "add a lead" });
    const error = CoordError.from(d);
    expect(isCoordError(error)).toBe(true);
    expect(error).toMatchObject({ code: "MISSION_PHASE_NO_LEAD", file: "m.md", line: 17, hint: "add a lead", exitCode: 2 });
    expect(error.toDiagnostic()).toEqual(d);
  });

  it("recognises a CoordError by name, not by class identity", () => {
    const lookalike = Object.assign(new Error("x"), { name: "CoordError", code: "USAGE" });
    expect(isCoordError(lookalike)).toBe(true);
    expect(isCoordError(new Error("x"))).toBe(false);
    expect(isCoordError("CoordError")).toBe(false);
  });
});
