import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ERROR_CODES, type Diagnostic } from "../../src/errors.js";
import { parseAgent } from "../../src/definitions/agent.js";
import { parseMission } from "../../src/definitions/mission.js";
import { AgentSchema } from "../../src/definitions/schemas/agent.js";
import { MissionSchema } from "../../src/definitions/schemas/mission.js";
import { normalizeText } from "../../src/definitions/text.js";

const RUNS = { numRuns: 300 };

/** Every diagnostic names a documented code and a severity, and points at a real line if any. */
function checkDiagnostics(diagnostics: Diagnostic[]): void {
  for (const d of diagnostics) {
    expect(Object.keys(ERROR_CODES)).toContain(d.code);
    expect(["error", "warning"]).toContain(d.severity);
    expect(typeof d.message).toBe("string");
    expect(d.message.length).toBeGreaterThan(0);
    if (d.line !== undefined) {
      expect(Number.isInteger(d.line)).toBe(true);
      expect(d.line).toBeGreaterThanOrEqual(1);
    }
  }
}

function checkAgent(text: string, file: string): void {
  const parsed = parseAgent(text, file);
  checkDiagnostics(parsed.diagnostics);
  if (parsed.agent) {
    expect(AgentSchema.safeParse(parsed.agent).success).toBe(true);
    expect(parsed.agent.name.length).toBeGreaterThan(0);
  }
  if (parsed.notAgent) expect(parsed.diagnostics).toEqual([]);
}

function checkMission(text: string, file: string): void {
  const parsed = parseMission(text, file);
  checkDiagnostics(parsed.diagnostics);
  if (parsed.mission) {
    expect(MissionSchema.safeParse(parsed.mission).success).toBe(true);
    parsed.mission.phases.forEach((phase, i) => expect(phase.index).toBe(i + 1));
  } else {
    expect(parsed.diagnostics.some((d) => d.severity === "error")).toBe(true);
  }
}

// Characters that mojibake is made of, plus the ones that change how text is split into lines.
const MOJIBAKE_PRONE = [..."ÃÂâ€™œ©¼ƒ§ùü\uf8ffïÇ»¿éà’“—\ufeff\r\n a-:#"];

const strings = fc.oneof(
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.string({ unit: "grapheme", maxLength: 200 }),
  fc.string({ unit: "grapheme-ascii", maxLength: 200 }),
  fc.string({ unit: fc.constantFrom(...MOJIBAKE_PRONE), maxLength: 40 }),
);

// ---- random YAML-ish frontmatter -------------------------------------------------------------

const KEYS = [
  "name",
  "description",
  "tools",
  "capabilities",
  "hooks",
  "color",
  "priority",
  "model",
  "type",
  "systemPrompt",
  "pre",
  "post",
  "pre_execution",
  "constructor",
  "__proto__",
  "toString",
];

const key = fc.oneof(fc.constantFrom(...KEYS), fc.stringMatching(/^[A-Za-z_][\w-]{0,12}$/), fc.string({ maxLength: 8 }));

const scalar = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.integer().map(String),
  fc.double({ noNaN: false }).map(String),
  fc.constantFrom("true", "false", "null", "~", "yes", "#2196F3", '"#FF6B35"', "'quoted'", '"unterminated', "purple"),
  fc.constantFrom("Triggers on: 'growth loop'", "Examples: <example>Context: x</example>", "a: b: c", "*alias", "&anchor x", "!tag x"),
  fc.constantFrom("[Read, Grep]", "{primary: [Read], restricted: [Bash]}", "[unclosed", "{a: 1", "|", ">", "|-", "@at", "`tick`", "%pct"),
);

const indent = fc.constantFrom("", " ", "  ", "    ", "\t");

const yamlLine = fc.oneof(
  fc.tuple(indent, key, scalar).map(([i, k, v]) => `${i}${k}: ${v}`),
  fc.tuple(indent, key).map(([i, k]) => `${i}${k}:`),
  fc.tuple(indent, scalar).map(([i, v]) => `${i}- ${v}`),
  fc.tuple(indent, scalar).map(([i, v]) => `${i}${v}`),
  fc.constantFrom("---", "...", "", "# comment", "key:value", ": lonely", "  - - nested"),
);

const frontmatterText = fc
  .record({
    bom: fc.boolean(),
    open: fc.constantFrom("---\n", "--- \n", "", "---\r\n", "----\n"),
    lines: fc.array(yamlLine, { maxLength: 14 }),
    close: fc.constantFrom("---\n", "...\n", "", "---", "--- trailing\n"),
    body: strings,
    crlf: fc.boolean(),
  })
  .map(({ bom, open, lines, close, body, crlf }) => {
    const text = `${bom ? "\ufeff" : ""}${open}${lines.join("\n")}\n${close}${body}`;
    return crlf ? text.replace(/\n/g, "\r\n") : text;
  });

// ---- random markdown missions and templates ---------------------------------------------------

const mdLine = fc.oneof(
  fc.tuple(fc.constantFrom("#", "##", "###", "####"), fc.constantFrom("Phase", "Step", "PHASE"), fc.nat(12), scalar).map(
    ([h, word, n, title]) => `${h} ${word} ${n}: ${title}`,
  ),
  fc.tuple(fc.constantFrom("#", "##"), fc.constantFrom("ROLE", "CONTEXT", "TASK", "OUTPUT FORMAT", "OUTPUT INSTRUCTIONS", "IDENTITY and PURPOSE", "Required Inputs", "Required Agents", "Success Criteria", "Mission Phases", "Objective", "Duration")).map(
    ([h, t]) => `${h} ${t}`,
  ),
  fc.tuple(fc.constantFrom("Lead", "Lead Agent", "Support", "Agent", "Deliverables", "Deliverable", "Expected Output", "Objective", "Mission Type", "Duration", "constructor", "__proto__"), scalar).map(
    ([label, value]) => `**${label}**: ${value}`,
  ),
  fc.tuple(fc.constantFrom("- ", "- [ ] ", "1. ", "* "), scalar).map(([bullet, v]) => `${bullet}${v}`),
  fc.stringMatching(/^@[a-z][a-z-]{0,10}( \w+)?$/),
  fc.constantFrom("```", "```bash", "", "---", "[PLACEHOLDER TEXT]", "**Lead**:", "> quote", "| a | b |"),
  scalar,
);

const missionText = fc
  .record({ lines: fc.array(mdLine, { maxLength: 30 }), crlf: fc.boolean() })
  .map(({ lines, crlf }) => (crlf ? lines.join("\r\n") : lines.join("\n")));

const agentFile = fc.constantFrom("agents/fuzz.md", "agents/fuzz.yaml", "agents/README.md", "agents/fuzz.yml");
const missionFile = fc.constantFrom("missions/fuzz.md", "missions/fuzz.mission.md", "missions/fuzz.prompt.md", "patterns/fuzz/system.md");

describe("parseAgent on random input", () => {
  it("never throws and returns well-formed diagnostics for arbitrary strings", () => {
    fc.assert(fc.property(strings, agentFile, (text, file) => checkAgent(text, file)), RUNS);
  });

  it("never throws and returns well-formed diagnostics for random frontmatter", () => {
    fc.assert(fc.property(frontmatterText, agentFile, (text, file) => checkAgent(text, file)), RUNS);
  });
});

describe("parseMission on random input", () => {
  it("never throws and returns well-formed diagnostics for arbitrary strings", () => {
    fc.assert(fc.property(strings, missionFile, (text, file) => checkMission(text, file)), RUNS);
  });

  it("never throws and returns well-formed diagnostics for random mission markdown", () => {
    fc.assert(fc.property(missionText, missionFile, (text, file) => checkMission(text, file)), RUNS);
  });

  it("never throws on random frontmatter either", () => {
    fc.assert(fc.property(frontmatterText, missionFile, (text, file) => checkMission(text, file)), RUNS);
  });
});

describe("normalizeText", () => {
  it("leaves its own output unchanged", () => {
    fc.assert(
      fc.property(strings, (raw) => {
        const once = normalizeText(raw).text;
        const twice = normalizeText(once);
        expect(twice.text).toBe(once);
        expect(twice.repairs).toEqual([]);
      }),
      {
        ...RUNS,
        // Rare inputs random runs seldom reach: two byte order marks, and text mangled twice
        // ("é" -> "Ã©" -> "ÃƒÂ©" through Windows-1252).
        examples: [["\ufeff\ufeff---\nname: x\n---\n"], ["caf\u00c3\u0192\u00c2\u00a9"]],
      },
    );
  });

  it("never leaves a CR in its output", () => {
    fc.assert(
      fc.property(strings, (raw) => {
        expect(normalizeText(raw).text).not.toContain("\r");
      }),
      RUNS,
    );
  });
});
