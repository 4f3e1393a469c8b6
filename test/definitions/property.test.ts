import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ERROR_CODES, type Diagnostic } from "../../src/errors.js";
import { parseAgent } from "../../src/definitions/agent.js";
import { MARKDOWN_LIMITS } from "../../src/definitions/markdown.js";
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

// ---- hostile input: alias bombs, deep nesting, long placeholder lines ---------------------------

/** An anchor chain: level 0 holds `width` strings, each next level `width` aliases of the one before. */
const aliasChain: fc.Arbitrary<AliasChain> = fc.record({
  levels: fc.integer({ min: 1, max: 10 }),
  width: fc.integer({ min: 1, max: 12 }),
  stringLength: fc.integer({ min: 0, max: 300 }),
  style: fc.constantFrom("flow", "block", "map"),
  cycle: fc.boolean(),
  yamlFile: fc.boolean(),
});

type AliasChain = { levels: number; width: number; stringLength: number; style: "flow" | "block" | "map"; cycle: boolean; yamlFile: boolean };

function aliasChainText({ levels, width, stringLength, style, cycle, yamlFile }: AliasChain): string {
  const value = (items: string[]): string => {
    if (style === "flow") return `[${items.join(", ")}]`;
    if (style === "map") return `{${items.map((item, i) => `k${i}: ${item}`).join(", ")}}`;
    return `\n${items.map((item) => `  - ${item}`).join("\n")}`;
  };
  const lines = ["name: chain", "description: aliases all the way down"];
  lines.push(`l0: &l0 ${value(Array(width).fill(JSON.stringify("x".repeat(stringLength))))}`);
  for (let level = 1; level < levels; level++) lines.push(`l${level}: &l${level} ${value(Array(width).fill(`*l${level - 1}`))}`);
  if (cycle) lines.push("loop: &loop", "  again: *loop");
  return yamlFile ? lines.join("\n") : `---\n${lines.join("\n")}\n---\nbody\n`;
}

/** Quote and list markers, as people nest them and as attacks repeat them, with how many there are. */
const nestingLine = fc
  .tuple(fc.array(fc.constantFrom("> ", ">", "- ", "* ", "+ ", "1. ", "2) ", "  "), { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 120 }), scalar)
  .map(([markers, repeat, text]) => {
    const prefix = Array.from({ length: repeat }, (_, i) => markers[i % markers.length]!);
    return { line: `${prefix.join("")}x ${text}`, depth: prefix.filter((m) => m.trim()).length };
  });

const nestedMission = fc
  .record({
    lines: fc.array(fc.oneof(nestingLine, mdLine.map((line) => ({ line, depth: 0 })), fc.constant({ line: "", depth: 0 })), { minLength: 1, maxLength: 40 }),
    repeat: fc.integer({ min: 1, max: 50 }),
  })
  .map(({ lines, repeat }) => ({
    text: `# Mission: Nested\n\n### Phase 1: Go\n\n**Lead**: @a\n\n${Array(repeat).fill(lines.map((l) => l.line).join("\n")).join("\n")}`,
    depth: Math.max(...lines.map((l) => l.depth)),
  }));

const placeholderTemplate = fc
  .record({ count: fc.integer({ min: 1, max: 12_000 }), label: fc.string({ maxLength: 400 }), separator: fc.constantFrom(" ", "; ", "", " | ") })
  .map(({ count, label, separator }) => {
    const line = Array.from({ length: count }, (_, i) => `${label} ${i}: [FIELD ${i}]`).join(separator);
    return `# ROLE\n\nYou are x.\n\n# INPUT\n\n${line}\n\n# OUTPUT FORMAT\n\n## Result\n\nx\n`;
  });

/** Parses and checks, failing on anything thrown (a RangeError, "Invalid string length"). */
function expectTypedOnly(parse: () => { diagnostics: Diagnostic[] }): { diagnostics: Diagnostic[] } {
  let result: { diagnostics: Diagnostic[] } | undefined;
  expect(() => (result = parse())).not.toThrow();
  checkDiagnostics(result!.diagnostics);
  return result!;
}

describe("hostile input", () => {
  it("alias chains either load small or are refused as AGENT_YAML_INVALID at an alias line", () => {
    fc.assert(
      fc.property(aliasChain, (chain) => {
        const text = aliasChainText(chain);
        const file = chain.yamlFile ? "agents/chain.yaml" : "agents/chain.md";
        const parsed = expectTypedOnly(() => parseAgent(text, file)) as ReturnType<typeof parseAgent>;
        // Whatever loads is small enough to save: the bomb once made a 34.7 MB run spec.
        if (parsed.agent) expect(JSON.stringify(parsed.agent).length).toBeLessThan(5_000_000);
        const expanded = chain.stringLength * chain.width ** chain.levels;
        if (chain.cycle || expanded > 10_000_000) {
          const refused = parsed.diagnostics.find((d) => d.code === "AGENT_YAML_INVALID");
          expect(refused, "refused").toBeDefined();
          expect(text.split("\n")[refused!.line! - 1]).toContain("*");
        }
      }),
      { numRuns: 150 },
    );
  });

  it("deeply nested quotes and lists give typed diagnostics, and nesting past the limit is refused", () => {
    fc.assert(
      fc.property(nestedMission, ({ text, depth }) => {
        const parsed = expectTypedOnly(() => parseMission(text, "missions/nested.md"));
        if (depth > MARKDOWN_LIMITS.nesting) expect(parsed.diagnostics.map((d) => d.code)).toContain("MARKDOWN_TOO_COMPLEX");
      }),
      { numRuns: 100 },
    );
  });

  it("long placeholder lines give short descriptions or a typed refusal, never a RangeError", () => {
    fc.assert(
      fc.property(placeholderTemplate, (text) => {
        const parsed = expectTypedOnly(() => parseMission(text, "missions/many.prompt.md")) as ReturnType<typeof parseMission>;
        for (const input of parsed.mission?.inputs ?? []) expect(input.description.length).toBeLessThanOrEqual(200);
        if (parsed.mission) expect(JSON.stringify(parsed.mission).length).toBeLessThan(20 * text.length + 10_000);
      }),
      { numRuns: 25 },
    );
  });
});

// ---- parse time grows linearly --------------------------------------------------------------------

function timeMs(fn: () => unknown): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * How much longer an input twice as large takes: medians of runs taken in turn, so a machine
 * busy with other work slows both sizes alike. Linear is 2; quadratic would be 4. A burst of
 * load can still stretch one measurement, so it is taken up to three times and the best kept:
 * a cost that really grows faster than linear fails all three.
 */
function growth(make: (scale: number) => string, parse: (text: string) => unknown, scale: number): { ratio: number; small: number; large: number } {
  const smallText = make(scale);
  const largeText = make(2 * scale);
  expect(largeText.length / smallText.length).toBeGreaterThan(1.8);
  parse(smallText);
  parse(largeText);
  let best = { ratio: Infinity, small: 0, large: 0 };
  for (let attempt = 0; attempt < 3 && best.ratio >= 3; attempt++) {
    const small: number[] = [];
    const large: number[] = [];
    for (let i = 0; i < 5; i++) {
      small.push(timeMs(() => parse(smallText)));
      large.push(timeMs(() => parse(largeText)));
    }
    const measured = { ratio: median(large) / median(small), small: median(small), large: median(large) };
    if (measured.ratio < best.ratio) best = measured;
  }
  return best;
}

const asAgent = (text: string) => parseAgent(text, "agents/hostile.md");
const asMission = (text: string) => parseMission(text, "missions/hostile.md");
const asTemplate = (text: string) => parseMission(text, "missions/hostile.prompt.md");

describe("parse time on hostile input grows linearly with size", () => {
  it.each([
    ["an alias bomb with longer strings", (n: number) => aliasChainText({ levels: 9, width: 9, stringLength: n * 5_000, style: "flow", cycle: false, yamlFile: false }), asAgent, 10],
    ["YAML nested ever deeper", (n: number) => `---\nname: deep\nnested: ${"[".repeat(n * 1_000)}\n---\n`, asAgent, 200],
    ["quotes nested ever deeper on one line", (n: number) => `# Deep\n\n${"> ".repeat(n * 1_000)}x\n`, asMission, 200],
    ["lists nested ever deeper on one line", (n: number) => `# Deep\n\n${"- ".repeat(n * 1_000)}x\n`, asMission, 200],
    ["more lines nested 30 deep", (n: number) => `# Deep\n\n${`${"> ".repeat(30)}x\n`.repeat(n * 10)}`, asMission, 20],
    ["thousands of separate quotes", (n: number) => "> x\n\n".repeat(n * 1_000), asMission, 100],
    ["long lists of items", (n: number) => `# Long\n\n${"- x\n".repeat(n * 2_000)}`, asMission, 20],
    ["numbered and bulleted lists taking turns", (n: number) => `# Turns\n\n${"1. x\n- y\n".repeat(n * 500)}`, asMission, 20],
    ["placeholders on one line", (n: number) => `# ROLE\n\nYou are x.\n\n# INPUT\n\n${Array.from({ length: n * 15 }, (_, i) => `label ${i}: [PLACE HOLDER ${i}]`).join(" ")}\n\n# OUTPUT FORMAT\n\n## A\n\nx\n`, asTemplate, 100],
  ] as const)("%s", (_shape, make, parse, scale) => {
    const { ratio, small, large } = growth(make, parse, scale);
    expect(ratio, `${small.toFixed(1)} ms, then ${large.toFixed(1)} ms`).toBeLessThan(3);
  });
});
