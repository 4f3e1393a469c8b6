import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AGENT_PARSES } from "../../src/definitions/agent-cache.js";
import { AgentRegistry, agentFiles, loadAgentFiles, loadAgents } from "../../src/definitions/agent-registry.js";
import { MISSION_PARSES } from "../../src/definitions/mission-cache.js";
import { loadMission, loadMissions, type MissionCatalog } from "../../src/definitions/mission-catalog.js";
import { CREATE_MIN_PARSES, MAX_CACHE_BYTES, ParseCache, RACY_MS, type CacheKind } from "../../src/definitions/parse-cache.js";
import { REPO, SEED_MISSIONS, agentText, fixture, tempDir } from "./fixtures.js";

// Generous: a hostile cache file must cost milliseconds, never the seconds a hang would.
const FAST_MS = 5_000;

/** Sets every file under `dir` an hour back, as files nobody is editing: the cache trusts only those. */
function age(dir: string): void {
  const past = Date.now() / 1000 - 3600;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) utimesSync(join(entry.parentPath, entry.name), past, past);
  }
}

/**
 * A project whose agents folder holds every agent fixture and the real-world corpus sample (so
 * mojibake, invalid YAML, duplicates, .yaml agents and files that are not agents), plus agents
 * whose values JSON cannot carry; its missions folder the mission fixtures, coord's own and the
 * corpus's. Its `.coord/cache` folder exists, so loads write the cache.
 */
function project(): { cwd: string; dir: string; cacheDir: string; cache: string } {
  const cwd = tempDir("coord-cache-");
  const dir = join(cwd, "agents");
  cpSync(fixture("agents"), join(dir, "fixtures"), { recursive: true });
  cpSync(fixture("corpus-sample"), join(dir, "corpus"), { recursive: true });
  writeFileSync(join(dir, "floats.md"), "---\nname: floats\ndescription: Values JSON has no words for.\nlimit: .inf\nfloor: -.inf\nnothing: .nan\nzero: -0\n---\n\nYou count.\n");
  writeFileSync(join(dir, "proto.md"), "---\nname: proto\ndescription: Keys that are also Object's.\n__proto__: {polluted: true}\nconstructor: x\ntoString: y\n---\n\nYou are careful.\n");
  writeFileSync(join(dir, "unicode.md"), "---\nname: unicode\ndescription: \"Café 🤝 市场 \\uD800 lone\"\n---\n\nÉmoji 🚀 and a lone surrogate \uD800 in the body.\n");
  age(dir);
  const missions = join(cwd, "missions");
  cpSync(fixture("missions"), join(missions, "fixtures"), { recursive: true });
  cpSync(SEED_MISSIONS, join(missions, "seed"), { recursive: true });
  cpSync(fixture("corpus-sample", "missions-TheWayWithin-BOS-AI", "missions"), join(missions, "corpus"), { recursive: true });
  age(missions);
  const cacheDir = join(cwd, ".coord", "cache");
  mkdirSync(cacheDir, { recursive: true });
  return { cwd, dir, cacheDir, cache: join(cacheDir, "agents.json") };
}

const options = (cwd: string, cacheDir?: string) => ({ cwd, builtin: false, ...(cacheDir && { cacheDir }) });

/** Loads through a cache opened here, so the test sees how many files it answered. */
function loadCounted(cwd: string, cacheDir: string): { registry: AgentRegistry; hits: number; misses: number } {
  const parseCache = ParseCache.open(cacheDir, AGENT_PARSES);
  const registry = loadAgentFiles(agentFiles(options(cwd)), new AgentRegistry(), parseCache);
  parseCache.save();
  return { registry, hits: parseCache.hits, misses: parseCache.misses };
}

/** What a load returns, compared strictly: the cache must give the very same agents and diagnostics. */
function expectSameRegistry(actual: AgentRegistry | MissionCatalog, expected: AgentRegistry | MissionCatalog): void {
  expect(actual.items).toStrictEqual(expected.items);
  expect(actual.diagnostics).toStrictEqual(expected.diagnostics);
}

describe("the agent parse cache", () => {
  it("keeps long bodies in their files, read when asked: the same agents, in the same JSON, from a cache a fraction of the size", () => {
    const { cwd, cacheDir, cache } = project();
    const plain = loadAgents(options(cwd));
    loadAgents(options(cwd, cacheDir));
    const bodies = plain.agents.reduce((sum, agent) => sum + agent.body.length, 0);
    const kept = JSON.parse(readFileSync(cache, "latin1")) as { entries: Record<string, { parse: { agent?: { body?: string; bodyAt?: [number, number] } } }> };
    const agents = Object.values(kept.entries).flatMap((entry) => (entry.parse.agent ? [entry.parse.agent] : []));
    expect(agents.filter((agent) => agent.bodyAt).length).toBeGreaterThan(agents.length / 3);
    expect(agents.every((agent) => agent.body === undefined || agent.body.length < 512)).toBe(true);
    expect(statSync(cache).size).toBeLessThan(bodies);

    const warm = loadAgents(options(cwd, cacheDir));
    // Read in full, keys in the same order: JSON of the agents (a run's spec, --json) is the same.
    expect(JSON.stringify(warm.agents)).toBe(JSON.stringify(plain.agents));
  });

  it("reads a body from the file as it is when it changed after the load, and the description when it is gone", () => {
    const { cwd, dir, cacheDir } = project();
    writeFileSync(join(dir, "long.md"), `---\nname: long\ndescription: A long one.\n---\n\n${"You know a great deal. ".repeat(60)}\n`);
    writeFileSync(join(dir, "gone.md"), `---\nname: gone\ndescription: Soon gone.\n---\n\n${"You will not last. ".repeat(60)}\n`);
    age(dir);
    loadAgents(options(cwd, cacheDir));
    const warm = loadAgents(options(cwd, cacheDir));
    writeFileSync(join(dir, "long.md"), `---\nname: long\ndescription: A long one.\n---\n\nRewritten: ${"You know even more. ".repeat(60)}\n`);
    rmSync(join(dir, "gone.md"));
    expect(warm.get("long")!.body).toMatch(/^Rewritten: You know even more\./);
    // A file gone since: what an agent with no body gets, its description.
    expect(warm.get("gone")!.body).toBe("Soon gone.");
    // Once read, a body stays what was read.
    expect(warm.get("long")!.body).toMatch(/^Rewritten:/);
  });

  it("gives the same registry as parsing every file, cold and warm, and answers unchanged files from the cache", () => {
    const { cwd, cacheDir, cache } = project();
    const plain = loadAgents(options(cwd));
    expect(plain.agents.length).toBeGreaterThan(20);

    const cold = loadCounted(cwd, cacheDir);
    expectSameRegistry(cold.registry, plain);
    expect(cold.hits).toBe(0);
    expect(existsSync(cache)).toBe(true);

    const warm = loadCounted(cwd, cacheDir);
    expectSameRegistry(warm.registry, plain);
    // Every file but the one whose values JSON would change (.inf, .nan, -0) comes from the cache.
    expect(warm.misses).toBe(1);
    expect(warm.hits).toBe(cold.misses - 1);
    const floats = warm.registry.get("floats")!;
    expect(floats.extra).toMatchObject({ limit: Infinity, floor: -Infinity, nothing: NaN });
    expect(Object.hasOwn(warm.registry.get("proto")!.extra, "__proto__")).toBe(true);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();

    // loadAgents with the option does the same, and a third load still matches.
    expectSameRegistry(loadAgents(options(cwd, cacheDir)), plain);
  });

  it("writes the cache as ASCII JSON, so reading it back never depends on an encoding", () => {
    const { cwd, cacheDir, cache } = project();
    loadAgents(options(cwd, cacheDir));
    const bytes = readFileSync(cache);
    expect(bytes.every((b) => b < 0x80)).toBe(true);
    expect(JSON.parse(bytes.toString("utf8")).entries[join(cwd, "agents", "unicode.md")].parse.agent.description).toBe("Café 🤝 市场 \uD800 lone");
  });

  it("parses an edited file again, even one edited to the same size with its mtime put back", () => {
    const { cwd, dir, cacheDir, cache } = project();
    loadAgents(options(cwd, cacheDir));
    const file = join(dir, "fixtures", "color-name.md");
    const before = statSync(file);
    const text = readFileSync(file, "utf8");
    const edited = text.replace(/^description: .*$/m, (line) => `description: ${"Z".repeat(line.length - "description: ".length)}`);
    expect(edited.length).toBe(text.length);
    writeFileSync(file, edited);
    utimesSync(file, before.atime, before.mtime);

    const warm = loadCounted(cwd, cacheDir);
    expectSameRegistry(warm.registry, loadAgents(options(cwd)));
    expect(warm.registry.agents.find((a) => a.file === file)?.description).toMatch(/^Z+$/);
    expect(warm.misses).toBe(2); // the edited file, and floats.md which is never cached

    // A link pointed at another file of the same size and mtime.
    writeFileSync(join(dir, "one.md"), agentText("one"));
    writeFileSync(join(dir, "two.md"), agentText("two"));
    symlinkSync(join(dir, "one.md"), join(dir, "link.md"));
    age(dir);
    const past = statSync(join(dir, "one.md")).mtime;
    utimesSync(join(dir, "two.md"), past, past);
    loadAgents(options(cwd, cacheDir));
    rmSync(join(dir, "link.md"));
    symlinkSync(join(dir, "two.md"), join(dir, "link.md"));
    // link.md sorts first, so the agent it now holds is the one registered under its path.
    expect(loadAgents(options(cwd, cacheDir)).get("two")?.file).toBe(join(dir, "link.md"));
    expectSameRegistry(loadAgents(options(cwd, cacheDir)), loadAgents(options(cwd)));

    // A plain edit, a new file and a removed one.
    writeFileSync(file, `${text}\nMore body.\n`);
    writeFileSync(join(dir, "newcomer.md"), agentText("newcomer"));
    rmSync(join(dir, "fixtures", "tools-list.md"));
    age(dir);
    expectSameRegistry(loadCounted(cwd, cacheDir).registry, loadAgents(options(cwd)));
  });

  it("does not trust files written in the last RACY_MS: they are parsed again until they are older", () => {
    const { cwd, dir, cacheDir, cache } = project();
    writeFileSync(join(dir, "fresh.md"), agentText("fresh"));
    loadAgents(options(cwd, cacheDir));
    const second = loadCounted(cwd, cacheDir);
    expect(second.misses).toBe(2); // fresh.md and floats.md
    expect(second.registry.get("fresh")?.description).toBe("The fresh agent.");
    expect(RACY_MS).toBeGreaterThanOrEqual(1000);
  });

  it("ignores a corrupt, foreign or unreadable cache file, and never fails on one", () => {
    const { cwd, cacheDir, cache } = project();
    const plain = loadAgents(options(cwd));
    loadAgents(options(cwd, cacheDir));
    const good = JSON.parse(readFileSync(cache, "latin1")) as { format: number; fingerprint: string; entries: Record<string, { size: number; parse: { agent?: Record<string, unknown>; diagnostics: unknown[] } }> };
    // Written as coord writes it (ASCII), so each entry's own check is what refuses it.
    const mutated = (change: (data: typeof good) => void) => {
      const copy = structuredClone(good);
      change(copy);
      return JSON.stringify(copy).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
    };
    // Unchanged, the round trip through the test's writer keeps every entry.
    writeFileSync(cache, mutated(() => {}));
    expect(loadCounted(cwd, cacheDir).misses).toBe(1);
    const files = Object.keys(good.entries);
    const withAgent = files.filter((f) => good.entries[f]!.parse.agent);
    const variants: Record<string, string> = {
      empty: "",
      truncated: readFileSync(cache, "latin1").slice(0, 5000),
      "not JSON": "{ this is not json",
      "not ASCII": `${readFileSync(cache, "latin1").slice(0, -1)}é}`,
      "null": "null",
      "an array": "[]",
      "another format": mutated((d) => (d.format = 99)),
      "another parser": mutated((d) => (d.fingerprint = "older coord")),
      "entries not a map": mutated((d) => (d.entries = [] as never)),
      "agent without a name": mutated((d) => delete d.entries[withAgent[0]!]!.parse.agent!.name),
      "agent name a number": mutated((d) => (d.entries[withAgent[1]!]!.parse.agent!.name = 42)),
      "agent of another file": mutated((d) => (d.entries[withAgent[2]!]!.parse.agent!.file = "/etc/passwd")),
      "tools not strings": mutated((d) => (d.entries[withAgent[3]!]!.parse.agent!.tools = [{}])),
      "size a string": mutated((d) => (d.entries[files[0]!]!.size = "1" as never)),
      "diagnostics not a list": mutated((d) => (d.entries[files[1]!]!.parse.diagnostics = {} as never)),
      "diagnostic without a code": mutated((d) => (d.entries[files.find((f) => good.entries[f]!.parse.diagnostics.length)!]!.parse.diagnostics = [{ message: "x" }])),
      "entry null": mutated((d) => (d.entries[files[2]!] = null as never)),
    };
    for (const [name, text] of Object.entries(variants)) {
      writeFileSync(cache, text);
      expect(() => expectSameRegistry(loadCounted(cwd, cacheDir).registry, plain), name).not.toThrow();
    }

    // A folder where the file should be: read as none, and the write after the load fails quietly.
    rmSync(cache);
    mkdirSync(cache);
    expectSameRegistry(loadAgents(options(cwd, cacheDir)), plain);
    expect(statSync(cache).isDirectory()).toBe(true);
  });

  it("refuses hostile cache files without hanging: huge, a FIFO, a device", () => {
    const { cwd, cacheDir, cache } = project();
    const plain = loadAgents(options(cwd));
    const timedLoad = () => {
      const start = performance.now();
      const registry = loadAgents(options(cwd, cacheDir));
      expectSameRegistry(registry, plain);
      return performance.now() - start;
    };

    writeFileSync(cache, "");
    truncateSync(cache, 8 * 1024 ** 3); // a sparse 8 GB file
    expect(timedLoad()).toBeLessThan(FAST_MS);
    rmSync(cache, { force: true });

    writeFileSync(cache, "");
    truncateSync(cache, MAX_CACHE_BYTES + 1);
    expect(timedLoad()).toBeLessThan(FAST_MS);
    rmSync(cache, { force: true });

    symlinkSync("/dev/zero", cache);
    expect(timedLoad()).toBeLessThan(FAST_MS);
    rmSync(cache, { force: true });

    // Deep nesting within the size limit: JSON.parse copes, and nothing walks it.
    writeFileSync(cache, `{"format":1,"fingerprint":"x","entries":{"a":${"[".repeat(200_000)}${"]".repeat(200_000)}}}`);
    expect(timedLoad()).toBeLessThan(FAST_MS);
    rmSync(cache, { force: true });

    if (spawnSync("mkfifo", [cache]).status === 0) {
      expect(timedLoad()).toBeLessThan(FAST_MS);
      rmSync(cache, { force: true });
    }
  });

  it("creates no folder where coord never ran unless a load parses many files; writes where .coord exists", () => {
    const cwd = tempDir("coord-cache-");
    mkdirSync(join(cwd, "agents"));
    for (let i = 0; i < 5; i++) writeFileSync(join(cwd, "agents", `a${i}.md`), agentText(`a${i}`));
    age(join(cwd, "agents"));
    const cacheDir = join(cwd, ".coord", "cache");
    loadAgents(options(cwd, cacheDir));
    expect(existsSync(join(cwd, ".coord"))).toBe(false);

    for (let i = 5; i < CREATE_MIN_PARSES; i++) writeFileSync(join(cwd, "agents", `a${i}.md`), agentText(`a${i}`));
    age(join(cwd, "agents"));
    loadAgents(options(cwd, cacheDir));
    expect(existsSync(join(cacheDir, "agents.json"))).toBe(true);
    expect(loadCounted(cwd, cacheDir).hits).toBe(CREATE_MIN_PARSES);

    // A project that ran has .coord: its cache folder is made on the first load, however small.
    const ran = tempDir("coord-cache-");
    mkdirSync(join(ran, ".coord"));
    mkdirSync(join(ran, "agents"));
    writeFileSync(join(ran, "agents", "solo.md"), agentText("solo"));
    age(join(ran, "agents"));
    loadAgents(options(ran, join(ran, ".coord", "cache")));
    expect(existsSync(join(ran, ".coord", "cache", "agents.json"))).toBe(true);
  });

  it("keeps only the files of the last load", () => {
    const { cwd, dir, cacheDir, cache } = project();
    loadAgents(options(cwd, cacheDir));
    const other = join(cwd, "other");
    mkdirSync(other);
    writeFileSync(join(other, "solo.md"), agentText("solo"));
    age(other);
    loadAgents({ agentDirs: [other], cwd: other, builtin: false, cacheDir });
    const entries = Object.keys(JSON.parse(readFileSync(cache, "latin1")).entries);
    expect(entries).toEqual([join(other, "solo.md")]);
    expect(entries.some((f) => f.startsWith(dir))).toBe(false);
  });
});

describe("the mission parse cache", () => {
  it("gives the same catalog as parsing every mission, and parses an edited one again", () => {
    const { cwd, cacheDir } = project();
    const plain = loadMissions(options(cwd));
    expect(plain.missions.length).toBeGreaterThan(5);
    expectSameRegistry(loadMissions(options(cwd, cacheDir)), plain);
    const cached = JSON.parse(readFileSync(join(cacheDir, "missions.json"), "latin1")) as { entries: Record<string, unknown> };
    expect(Object.keys(cached.entries).length).toBeGreaterThan(plain.missions.length);
    expectSameRegistry(loadMissions(options(cwd, cacheDir)), plain);

    const counted = ParseCache.open(cacheDir, MISSION_PARSES);
    const { file } = plain.missions[0]!;
    expect(counted.lookup(file, { ...statSync(file), ctimeMs: statSync(file).ctimeMs })).toStrictEqual(expect.objectContaining({ mission: plain.missions[0] }));

    writeFileSync(file, readFileSync(file, "utf8").replace(/^# .*$/m, "# Renamed Mission Title"));
    age(join(cwd, "missions"));
    const edited = loadMissions(options(cwd, cacheDir));
    expect(edited.missions.find((m) => m.file === file)?.title).toBe("Renamed Mission Title");
    expectSameRegistry(edited, loadMissions(options(cwd)));
  });

  it("ignores a mission entry that is not a mission, and a corrupt file", () => {
    const { cwd, cacheDir } = project();
    const plain = loadMissions(options(cwd));
    loadMissions(options(cwd, cacheDir));
    const path = join(cacheDir, "missions.json");
    const good = JSON.parse(readFileSync(path, "latin1")) as { entries: Record<string, { parse: { mission?: Record<string, unknown> } }> };
    const [file] = Object.keys(good.entries).filter((f) => good.entries[f]!.parse.mission);
    good.entries[file!]!.parse.mission!.phases = "three";
    writeFileSync(path, JSON.stringify(good).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`));
    expectSameRegistry(loadMissions(options(cwd, cacheDir)), plain);
    writeFileSync(path, "{ broken");
    expectSameRegistry(loadMissions(options(cwd, cacheDir)), plain);
  });
});

describe("the mission parse cache after one mission is named", () => {
  it("keeps the other missions' entries, so the next listing parses none of them again", () => {
    const { cwd, cacheDir } = project();
    const full = loadMissions(options(cwd, cacheDir));
    const cacheFile = join(cacheDir, "missions.json");
    const entries = () => Object.keys((JSON.parse(readFileSync(cacheFile, "latin1")) as { entries: object }).entries);
    const listed = entries();
    expect(listed.length).toBeGreaterThan(3);
    const named = full.missions.at(-1)!;
    // The named mission's file changed since, so this load parses it again and writes the cache.
    utimesSync(named.file, Date.now() / 1000 - 1800, Date.now() / 1000 - 1800);
    expect(loadMission(named.id, options(cwd, cacheDir)).mission.id).toBe(named.id);
    expect(entries().sort()).toEqual(listed.sort());
  });
});

describe("the parse caches' fingerprints", () => {
  /** `./agent`, `../errors`...: every module `entry` runs, through static imports (not `import type`). */
  function modulesOf(entry: string): string[] {
    const STATIC_IMPORT = /^\s*(?:import|export)\s(?!type\s)[^;]*?from\s+"(\.[^"]+)"/gm;
    const src = join(REPO, "src", "definitions");
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const [, spec] of readFileSync(file, "utf8").matchAll(STATIC_IMPORT)) visit(resolve(dirname(file), spec!.replace(/\.js$/, ".ts")));
    };
    visit(join(src, entry));
    return [...seen].map((f) => `./${relative(src, f).replace(/\.ts$/, "")}`.replace(/^\.\/\.\.\//, "../"));
  }

  it.each([
    ["agent.ts", AGENT_PARSES],
    ["mission.ts", MISSION_PARSES],
  ] as Array<[string, CacheKind<unknown>]>)("cover every module %s runs, so editing any of them invalidates the cache", (entry, kind) => {
    expect(kind.modules).toEqual(expect.arrayContaining(modulesOf(entry)));
  });
});

// ---- random agent files ------------------------------------------------------------------------

const key = fc.oneof(fc.constantFrom("name", "description", "tools", "capabilities", "hooks", "color", "model", "type", "priority", "__proto__", "constructor"), fc.stringMatching(/^[a-z_][\w-]{0,8}$/));
const scalar = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.integer().map(String),
  fc.double().map(String),
  fc.constantFrom(".inf", "-.inf", ".nan", "-0", "0x1F", "1e400", "true", "null", "~", "[a, b]", "{x: 1}", "'q'", '"\\uD800"', "Triggers on: x", "*alias", "&a x", "[unclosed", "é ü 🤝", "Ã©"),
);
const line = fc.oneof(
  fc.tuple(fc.constantFrom("", "  "), key, scalar).map(([indent, k, v]) => `${indent}${k}: ${v}`),
  fc.tuple(fc.constantFrom("", "  "), scalar).map(([indent, v]) => `${indent}- ${v}`),
  fc.constantFrom("", "# comment", "---"),
);
const agentFileText = fc
  .record({ lines: fc.array(line, { maxLength: 10 }), body: fc.string({ unit: "grapheme", maxLength: 60 }), fence: fc.boolean(), crlf: fc.boolean() })
  .map(({ lines, body, fence, crlf }) => {
    const text = fence ? `---\n${lines.join("\n")}\n---\n${body}` : `${lines.join("\n")}\n${body}`;
    return crlf ? text.replace(/\n/g, "\r\n") : text;
  });

const mdLine = fc.oneof(
  fc.tuple(fc.constantFrom("#", "##", "###"), fc.constantFrom("Mission: ", "Phase 1: ", "Phase 2: ", "Step 1: ", "Required Inputs", "Success Criteria", "ROLE", "TASK", "OUTPUT FORMAT"), scalar).map(([h, t, v]) => `${h} ${t}${v}`),
  fc.tuple(fc.constantFrom("Lead", "Support", "Deliverables", "Objective", "Mission Type", "__proto__"), scalar).map(([label, v]) => `**${label}**: ${v}`),
  fc.tuple(fc.constantFrom("- ", "- [ ] ", "1. ", "@"), scalar).map(([bullet, v]) => `${bullet}${v}`),
  fc.constantFrom("```", "```bash", "", "---", "| a | b |", "> quote"),
  scalar,
);

describe("the parse cache on random files", () => {
  it("never changes what a load returns", () => {
    const cwd = tempDir("coord-cache-fuzz-");
    const cacheDir = join(cwd, ".coord", "cache");
    mkdirSync(cacheDir, { recursive: true });
    mkdirSync(join(cwd, "agents"));
    fc.assert(
      fc.property(fc.array(fc.tuple(agentFileText, fc.constantFrom("md", "yaml")), { minLength: 1, maxLength: 4 }), (files) => {
        rmSync(join(cwd, "agents"), { recursive: true, force: true });
        mkdirSync(join(cwd, "agents"));
        files.forEach(([text, ext], i) => writeFileSync(join(cwd, "agents", `f${i}.${ext}`), text));
        age(join(cwd, "agents"));
        const plain = loadAgents(options(cwd));
        expectSameRegistry(loadAgents(options(cwd, cacheDir)), plain);
        expectSameRegistry(loadAgents(options(cwd, cacheDir)), plain);
      }),
      { numRuns: 150 },
    );
  });

  it("never changes what a mission load returns", () => {
    const cwd = tempDir("coord-cache-fuzz-");
    const cacheDir = join(cwd, ".coord", "cache");
    mkdirSync(cacheDir, { recursive: true });
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.array(mdLine, { maxLength: 20 }), fc.constantFrom("mission.md", "prompt.md", "md")), { minLength: 1, maxLength: 3 }), (files) => {
        rmSync(join(cwd, "missions"), { recursive: true, force: true });
        mkdirSync(join(cwd, "missions"));
        files.forEach(([lines, ext], i) => writeFileSync(join(cwd, "missions", `m${i}.${ext}`), lines.join("\n")));
        age(join(cwd, "missions"));
        const plain = loadMissions(options(cwd));
        expectSameRegistry(loadMissions(options(cwd, cacheDir)), plain);
        expectSameRegistry(loadMissions(options(cwd, cacheDir)), plain);
      }),
      { numRuns: 60 },
    );
  });
});
