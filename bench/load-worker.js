// One load variant in a fresh process, so every variant starts equally cold (no JIT warmup
// shared with the bench runner or another variant).
// Usage: node bench/load-worker.js <variant> <dir> [cache folder]  ->  one JSON line on stdout.
// The coord-cache-* variants load as `coord agents list` does, with the parse cache in the given
// folder: -cold removes its file before each load (parse every file, then write the cache),
// -warm finds it written by an earlier process (bench/startup.js warms it first).
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { median } from "./measure.js";

const WARM_REPEATS = 5;
// The module `coord agents list` loads: agents only, without the mission parser.
const COORD_LOAD = new URL("../dist/definitions/agent-registry.js", import.meta.url).href;
const isYamlFile = (file) => /\.ya?ml$/i.test(file);

/** Counts files whose YAML parsed and files that threw (some corpus frontmatter is invalid YAML). */
function parseAll(files, parseOne) {
  let parsed = 0;
  let failed = 0;
  for (const file of files) {
    try {
      parseOne(file, readFileSync(file, "utf8"));
      parsed++;
    } catch {
      failed++;
    }
  }
  return { parsed, failed };
}

// Each variant imports its library (timed separately) and returns a function that loads every file.
const VARIANTS = {
  async "gray-matter"() {
    const { default: matter } = await import("gray-matter");
    // The `{}` options turn off gray-matter's cache keyed by file content: without it, repeated
    // files and warm repeats would return cached results instead of parsing.
    // A .yaml agent has no `---` fence, so it goes straight to gray-matter's own YAML engine.
    return (files) =>
      parseAll(files, (file, text) => (isYamlFile(file) ? matter.engines.yaml.parse(text) : matter(text, {})));
  },

  async "js-yaml"() {
    const { load } = await import("js-yaml");
    const FRONTMATTER = /^---\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/;
    return (files) =>
      parseAll(files, (file, text) => {
        if (isYamlFile(file)) return load(text);
        const match = FRONTMATTER.exec(text);
        return match ? load(match[1]) : undefined;
      });
  },

  async "coord-files"() {
    const { loadAgentFiles } = await import(COORD_LOAD);
    return (files) => summarize(loadAgentFiles(files));
  },

  async "coord-discovery"(dir) {
    const { loadAgents } = await import(COORD_LOAD);
    return () => summarize(loadAgents({ agentDirs: [dir], cwd: dir, builtin: false }));
  },

  async "coord-cache-cold"(dir, cacheDir) {
    const { loadAgents } = await import(COORD_LOAD);
    return () => {
      rmSync(join(cacheDir, "agents.json"), { force: true });
      return summarize(loadAgents({ agentDirs: [dir], cwd: dir, builtin: false, cacheDir }));
    };
  },

  async "coord-cache-warm"(dir, cacheDir) {
    const { loadAgents } = await import(COORD_LOAD);
    return () => summarize(loadAgents({ agentDirs: [dir], cwd: dir, builtin: false, cacheDir }));
  },
};

function summarize(registry) {
  const duplicates = registry.diagnostics.filter((d) => d.code === "AGENT_DUPLICATE").length;
  return { agents: registry.agents.length, diagnostics: registry.diagnostics.length, duplicates };
}

function timed(fn) {
  const start = performance.now();
  const result = fn();
  return { ms: performance.now() - start, result };
}


const [variant, dir, cache] = process.argv.slice(2);
if (!VARIANTS[variant] || !dir || (variant.startsWith("coord-cache-") && !cache)) {
  console.error(`usage: load-worker.js <${Object.keys(VARIANTS).join("|")}> <dir> [cache folder]`);
  process.exit(2);
}
// Listing the folder is setup, not measured (coord-discovery lists it itself, inside its timing).
const files = readdirSync(dir).sort().map((name) => join(dir, name));

const importStart = performance.now();
const load = await VARIANTS[variant](dir, cache);
const importMs = performance.now() - importStart;

const cold = timed(() => load(files));
const warm = Array.from({ length: WARM_REPEATS }, () => timed(() => load(files)).ms);

process.stdout.write(`${JSON.stringify({ variant, files: files.length, importMs, coldMs: cold.ms, warmMs: median(warm), ...cold.result })}\n`);
