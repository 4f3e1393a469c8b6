import { existsSync, readFileSync, readdirSync } from "node:fs";
import { basename, join, relative, resolve, sep } from "node:path";
import { describe, expect, it } from "vitest";
import type { Diagnostic } from "../../src/errors.js";
import { parseAgent, type AgentParse } from "../../src/definitions/agent.js";
import { loadAgents, type AgentRegistry } from "../../src/definitions/load.js";
import { parseMission, type MissionParse } from "../../src/definitions/mission.js";
import type { Mission } from "../../src/definitions/schemas/mission.js";
import { validateMissionAgents } from "../../src/definitions/validate.js";
import { fixture, tempDir } from "./fixtures.js";

// The real-world corpus (675 files) lives outside the repository: these tests run on it when the
// environment variable COORD_CORPUS names its folder (.ci/run sets it when ../shared/corpus exists).
// The committed sample of its oddest files always runs: it keeps their paths, so the same tests apply.
const SAMPLE = fixture("corpus-sample");
const BOS = "missions-TheWayWithin-BOS-AI";

function fullCorpus(): string | undefined {
  const named = process.env.COORD_CORPUS;
  if (!named) return undefined;
  const dir = resolve(named);
  // Named but wrong is a broken setup, not a reason to quietly test less.
  if (!existsSync(join(dir, BOS, "missions"))) throw new Error(`COORD_CORPUS=${named} is not the corpus folder: it has no ${BOS}/missions`);
  return dir;
}

const FULL = fullCorpus();

interface CorpusRoot {
  label: string;
  dir: string;
  full: boolean;
}

const ROOTS: CorpusRoot[] = [
  ...(FULL ? [{ label: "the full corpus named by COORD_CORPUS", dir: FULL, full: true }] : []),
  { label: "the committed corpus sample", dir: SAMPLE, full: false },
];

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)]))
    .sort();
}

/** Agent candidates: every .md/.yaml/.yml outside the missions folder and the prompt collections. */
function agentFiles(root: string): string[] {
  return walk(root).filter((file) => {
    const rel = relative(root, file);
    return /\.(md|ya?ml)$/i.test(file) && !rel.startsWith("prompts-") && !rel.startsWith(join(BOS, "missions") + sep);
  });
}

/** Independent of the parser: does the file's YAML (frontmatter, or the whole .yaml file) have a top-level name? */
function declaresName(file: string, text: string): boolean {
  if (/\.ya?ml$/i.test(file)) return /^name:/m.test(text);
  const lines = text.split(/\r?\n/);
  if (lines[0]?.trim() !== "---") return false;
  const close = lines.findIndex((line, i) => i > 0 && /^(---|\.\.\.)\s*$/.test(line));
  return lines.slice(1, close === -1 ? undefined : close).some((line) => /^name:/.test(line));
}

function missionFiles(root: string): string[] {
  return walk(join(root, BOS, "missions")).filter((f) => f.endsWith(".md"));
}

describe.each(ROOTS)("$label", ({ dir, full }) => {
  const parses = new Map<string, AgentParse & { text: string }>();
  for (const file of agentFiles(dir)) {
    const text = readFileSync(file, "utf8");
    parses.set(file, { ...parseAgent(text, file), text });
  }
  const diagnostics = [...parses.values()].flatMap((p) => p.diagnostics);
  const withCode = (code: string) => diagnostics.filter((d) => d.code === code);

  const missionParses = new Map<string, MissionParse>();
  for (const file of missionFiles(dir)) missionParses.set(file, parseMission(readFileSync(file, "utf8"), file));
  const mission = (rel: string): { mission: Mission; diagnostics: Diagnostic[] } => {
    const parsed = missionParses.get(join(dir, BOS, "missions", rel));
    if (!parsed?.mission) throw new Error(`${rel} did not parse`);
    return { mission: parsed.mission, diagnostics: parsed.diagnostics };
  };

  describe("agents", () => {
    it("yields an agent, or an AGENT_YAML_INVALID error, for every file whose YAML has a top-level name", () => {
      let named = 0;
      for (const [file, parsed] of parses) {
        if (!declaresName(file, parsed.text)) continue;
        named++;
        const invalid = parsed.diagnostics.some((d) => d.code === "AGENT_YAML_INVALID");
        expect(parsed.agent !== undefined || invalid, relative(dir, file)).toBe(true);
      }
      expect(named).toBeGreaterThan(full ? 500 : 25);
    });

    it("skips markdown without frontmatter quietly", () => {
      const plain = [...parses].filter(([file, p]) => file.endsWith(".md") && !p.text.startsWith("---"));
      expect(plain.length).toBeGreaterThan(0);
      for (const [file, parsed] of plain) {
        expect(parsed.agent, relative(dir, file)).toBeUndefined();
        expect(parsed.notAgent, relative(dir, file)).toBeTruthy();
        expect(parsed.diagnostics, relative(dir, file)).toEqual([]);
      }
    });

    it("reports exactly the three sona-learning-optimizer history copies as invalid YAML", () => {
      const invalid = withCode("AGENT_YAML_INVALID");
      expect(invalid).toHaveLength(3);
      for (const d of invalid) {
        expect(d.file).toMatch(/claude-flow-history\/[^/]+\/\.claude\/agents\/sona\/sona-learning-optimizer\.md$/);
        // The YAML goes wrong where the Python block starts.
        const text = parses.get(d.file!)!.text;
        expect(text.split("\n")[d.line! - 1]).toMatch(/^import json/);
      }
    });

    it("recovers thirteen descriptions that hold an unquoted `: `", () => {
      const recovered = withCode("AGENT_YAML_RECOVERED");
      expect(recovered).toHaveLength(13);
      for (const d of recovered) {
        const parsed = parses.get(d.file!)!;
        expect(parsed.agent, d.file).toBeDefined();
        const line = parsed.text.split("\n")[d.line! - 1]!;
        expect(line).toMatch(/^description: /);
        expect(parsed.agent?.description).toBe(line.slice("description: ".length).trimEnd());
      }
    });

    it("reads the .yaml index files as not agents and the .yaml agents as agents", () => {
      const index = join(dir, "claude-flow/.claude/agents/index.yaml");
      expect(parses.get(index)?.notAgent).toBeTruthy();
      expect(parses.get(index)?.diagnostics).toEqual([]);
      const python = parses.get(join(dir, "claude-flow/.claude/agents/python-specialist.yaml"));
      expect(python?.agent?.name).toBe("python-specialist");
      expect(python?.agent?.body.length).toBeGreaterThan(0);
    });

    it("loads the whole folder with AGENT_DUPLICATE warnings and one agent per name", () => {
      let registry: AgentRegistry | undefined;
      expect(() => {
        registry = loadAgents({ agentDirs: [dir], builtin: false, cwd: tempDir() });
      }).not.toThrow();
      const duplicates = registry!.diagnostics.filter((d) => d.code === "AGENT_DUPLICATE");
      expect(duplicates.length).toBeGreaterThan(0);
      for (const d of duplicates) {
        expect(d.severity).toBe("warning");
        const winner = registry!.agents.find((a) => d.message.includes(a.file));
        expect(winner, d.message).toBeDefined();
        expect(winner?.file).not.toBe(d.file);
      }
      const names = new Set([...parses.values()].flatMap((p) => (p.agent ? [p.agent.name] : [])));
      expect(registry!.agents).toHaveLength(names.size);
    });
  });

  describe("BOS-AI missions", () => {
    it("parse with at least one phase, and every phase has a lead", () => {
      expect(missionParses.size).toBe(full ? 40 : 9);
      for (const [file, parsed] of missionParses) {
        const name = relative(dir, file);
        expect(parsed.mission, name).toBeDefined();
        expect(parsed.mission!.phases.length, name).toBeGreaterThan(0);
        for (const phase of parsed.mission!.phases) expect(phase.lead, `${name} phase ${phase.index}`).toBeTruthy();
        expect(parsed.diagnostics.filter((d) => d.severity === "error"), name).toEqual([]);
      }
    });

    it("name unknown agents only in market-expansion.md: the four agents no file defines", () => {
      const registry = loadAgents({ agentDirs: [join(dir, BOS)], builtin: false, cwd: tempDir() });
      // The sample holds only the one BOS-AI agent market-expansion.md resolves to.
      const checked = [...missionParses].filter(([file]) => full || basename(file) === "market-expansion.md");
      const unknown: Record<string, string[]> = {};
      for (const [file, parsed] of checked) {
        const problems = validateMissionAgents(parsed.mission!, registry);
        for (const d of problems) expect(d.code).toBe("MISSION_UNKNOWN_AGENT");
        const names = problems.map((d) => /"([^"]+)"/.exec(d.message)?.[1] ?? d.message).sort();
        if (names.length > 0) unknown[relative(join(dir, BOS, "missions"), file)] = names;
      }
      expect(unknown).toEqual({
        "growth/market-expansion.md": ["competitive-analyzer", "customer-research", "growth-coordinator", "performance-analyzer"],
      });
    });

    it("marketing-system-setup reads `**Lead Agent**: brand-strategy | ...` as the lead brand-strategy", () => {
      const { mission: m } = mission("marketing/marketing-system-setup.md");
      expect(m.phases).toHaveLength(4);
      expect(m.phases[0]?.lead).toBe("brand-strategy");
      expect(m.phases[0]?.support).toEqual(["market-intelligence"]);
      expect(m.phases.map((p) => p.lead)).toEqual(["brand-strategy", "campaign-execution", "content-creation", "chassis-intelligence"]);
    });

    it("operation-genesis has nine phases whose deliverables come from **Expected Output**", () => {
      const { mission: m, diagnostics: ds } = mission("operation-genesis.md");
      expect(m.objective).toBe("Build a complete feature from concept to production");
      expect(m.phases).toHaveLength(9);
      expect(m.phases[0]?.lead).toBe("strategist");
      expect(m.phases[0]?.deliverables).toEqual([
        "Complete PRD with user stories",
        "Prioritized feature list",
        "Success metrics defined",
        "Clear acceptance criteria",
      ]);
      for (const phase of m.phases.slice(0, 8)) expect(phase.deliverables.length, phase.title).toBeGreaterThan(0);
      // Phase 9 has only a command block: the one phase without deliverables.
      const warnings = ds.filter((d) => d.code === "MISSION_NO_DELIVERABLES");
      expect(warnings.map((d) => d.line)).toEqual([m.phases[8]?.line]);
    });

    it("mvp-creation takes its lead from the Required Agents list and reads `**Deliverable**:` singular", () => {
      const { mission: m, diagnostics: ds } = mission("creation/mvp-creation.md");
      expect(m.phases).toHaveLength(5);
      for (const phase of m.phases) {
        expect(phase.lead).toBe("rapid-development");
        expect(phase.support).toEqual(["solution-design", "customer-success", "market-intelligence"]);
      }
      expect(m.phases[0]?.deliverables).toEqual(["MVP specification"]);
      expect(m.phases[4]?.deliverables).toEqual(["Learning report"]);
      expect(m.phases[0]?.steps).toEqual([
        "Identify core value proposition",
        "Define minimum feature set",
        "Set success metrics",
        "Create development plan",
      ]);
      expect(ds.filter((d) => d.code === "MISSION_NO_DELIVERABLES")).toEqual([]);
    });

    it("product-launch-sequence reads `### Step N` as phases and backticked `**Agent**:` names as leads", () => {
      const { mission: m } = mission("sequences/product-launch-sequence.md");
      expect(m.phases.map((p) => p.lead)).toEqual([
        "strategic-opportunity",
        "solution-design",
        "value-optimization",
        "brand-strategy",
        "campaign-execution",
        "pipeline-management",
        "customer-success",
      ]);
      expect(m.phases[0]?.title).toBe("Strategic Positioning");
      expect(m.phases[0]?.objective).toBe("Define market position and strategy");
      for (const phase of m.phases) expect(phase.deliverables.length).toBeGreaterThan(0);
    });

    it("mission-fix splits `(15-30 minutes) - IMMEDIATE ACTION` into title, duration and qualifier", () => {
      const { mission: m } = mission("mission-fix.md");
      expect(m.phases[0]).toMatchObject({ title: "Triage & Analysis", duration: "15-30 minutes", lead: "analyst" });
      expect(m.phases[0]?.qualifier).toContain("IMMEDIATE ACTION");
      expect(m.phases[0]?.title).not.toContain("(");
    });

    it("roadmap-creation does not treat `### Phase 1 Resources` or its template headings as phases", () => {
      const { mission: m } = mission("foundation/roadmap-creation.md");
      const titles = m.phases.map((p) => p.title);
      expect(titles.some((t) => /Resources/.test(t))).toBe(false);
      expect(titles.some((t) => /^(MVP|Growth|Scale)$/.test(t))).toBe(false);
      expect(titles).toContain("Generate Complete Document");
    });

    it("customer-success-enablement warns about each phase that lists no deliverables", () => {
      const { mission: m, diagnostics: ds } = mission("customer-service/customer-success-enablement.md");
      expect(m.phases).toHaveLength(3);
      for (const phase of m.phases) expect(phase.deliverables).toEqual([]);
      const warnings = ds.filter((d) => d.code === "MISSION_NO_DELIVERABLES");
      expect(warnings.map((d) => d.line)).toEqual(m.phases.map((p) => p.line));
      for (const w of warnings) expect(w.severity).toBe("warning");
    });

    it("mission-deploy warns that it has no success criteria", () => {
      const { mission: m, diagnostics: ds } = mission("mission-deploy.md");
      expect(m.successCriteria).toEqual([]);
      expect(ds.filter((d) => d.code === "MISSION_NO_SUCCESS_CRITERIA")).toEqual([
        expect.objectContaining({ severity: "warning", file: m.file }),
      ]);
    });
  });
});
