// Bench section: startup (issue #12), side by side in one run, each with its target.
//  - Cold start of the replies that only read the store or the definitions: `coord slash
//    "/coord help|list|status"`, `coord runs list|show`, `coord missions list`, `coord agents
//    list`, in a temp project with one finished run, against bare node; with the LangChain
//    modules each loads (bench/trace-imports.js), which must be none.
//  - 1,000 agent files loaded as `coord agents list` loads them: parsing every file (no cache),
//    parsing and writing the parse cache (first load), and from the cache written by an earlier
//    process, each in fresh processes (bench/load-worker.js); then whole `coord agents list
//    --agents DIR` processes without and with the cache.
// Every measurement is a fresh process; the variants take turns (round robin) so drift in the
// machine's load falls on all of them alike. Prints numbers; never fails on them.
// Standalone: node --import tsx bench/startup.js [agents dir]  (`npm run bench` runs it in bench/run.js).
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
// The tests' project helpers (TypeScript: `npm run bench` runs node with tsx).
import { GROWTH_INPUTS, GROWTH_PLAN, agentMarkdown } from "../test/helpers/project.ts";
import { median, table, verdict } from "./measure.js";

const CLI_TARGET_MS = 300;
const LOAD_TARGET_MS = 150;
const CLI_RUNS = 9;
const LOAD_PROCESSES = 5;
const AGENT_LIST_RUNS = 5;
const BENCH_DIR = fileURLToPath(new URL(".", import.meta.url));

/** The read-only replies of issue #12, as a user types them in the project. */
const READ_ONLY = [
  ["slash", "/coord help"],
  ["slash", "/coord list"],
  ["slash", "/coord status growth"],
  ["runs", "list"],
  ["runs", "show", "growth"],
  ["missions", "list"],
  ["agents", "list"],
];

/** The replies among them that parse agent or mission files. */
const PARSING = [
  ["slash", "/coord list"],
  ["missions", "list"],
  ["agents", "list"],
];

const LOAD_VARIANTS = [
  { id: "coord-discovery", label: "no cache: parse every file" },
  { id: "coord-cache-cold", label: "first load: parse, write the cache" },
  { id: "coord-cache-warm", label: "cache written by an earlier process" },
];

/** Variables of the machine that would change what coord does (as test/helpers/cli.ts's cliEnv). */
const MACHINE_SETTING = /^(COORD_|OPENAI_|ANTHROPIC_|GOOGLE_|MISTRAL_|GROQ_|OLLAMA_|LANGCHAIN_|LANGSMITH_)|_API_KEY$|_BASE_URL$/;
const cleanEnv = (extra = {}) => ({ ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !MACHINE_SETTING.test(k))), NO_COLOR: "1", ...extra });


function runNode(args, options = {}) {
  const result = spawnSync(process.execPath, args, { encoding: "utf8", env: cleanEnv(), ...options });
  if (result.status !== 0) throw new Error(`node ${args.join(" ")} exited with ${result.status}\n${result.stderr}`);
  return result;
}

/** Wall time of a whole process, spawn to exit, as a user would see it. */
function timeProcess(args, options) {
  const start = performance.now();
  runNode(args, { ...options, stdio: "ignore" });
  return performance.now() - start;
}

/** Sets every file under `dir` an hour back: files nobody is editing, which the parse cache trusts. */
function age(dir) {
  const past = Date.now() / 1000 - 3600;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) utimesSync(join(entry.parentPath, entry.name), past, past);
  }
}

/** A project with the Growth Plan mission, its agents and inputs, and one finished offline run `growth`. */
function projectWithRun(root, bin) {
  const cwd = join(root, "project");
  const files = { "missions/test-mission.md": GROWTH_PLAN };
  for (const name of ["analyst", "researcher", "seller", "planner"]) files[`agents/${name}.md`] = agentMarkdown(name);
  for (const [id, text] of Object.entries(GROWTH_INPUTS)) files[`inputs/${id}.md`] = text;
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(cwd, path, ".."), { recursive: true });
    writeFileSync(join(cwd, path), text);
  }
  runNode([bin, "run", "test-mission", "--inputs", "inputs", "--run-id", "growth", "--quiet"], { cwd });
  return cwd;
}

/** Module file URLs a command loads, recorded by bench/trace-imports.js. */
function tracedModules(args, cwd, traceFile, env = {}) {
  writeFileSync(traceFile, "");
  runNode(["--import", join(BENCH_DIR, "trace-imports.js"), ...args], { cwd, env: cleanEnv({ ...env, TRACE_FILE: traceFile }) });
  return [...new Set(readFileSync(traceFile, "utf8").split("\n").filter(Boolean))];
}

const isLangChain = (url) => /\/node_modules\/(@langchain\/|langchain\/)/.test(url);

// ---------- the read-only commands ----------

function benchCommands(bin, cwd, root) {
  const label = (args) => `coord ${args.map((a) => (a.includes(" ") ? `"${a}"` : a)).join(" ")}`;
  // As users run them, the parse cache under .coord/cache is warm after the first run; the
  // commands that parse definitions also run with it out of reach (COORD_HOME in a folder that
  // does not exist, where no cache is written), as on a first run or after an edit of every file.
  const noCache = { COORD_HOME: join(root, "no-such-folder", "home") };
  const commands = [
    { label: "node -e 0 (bare node)", args: ["-e", "0"] },
    ...READ_ONLY.map((args) => ({ label: label(args), args: [bin, ...args] })),
    ...PARSING.map((args) => ({ label: `${label(args)}, no parse cache`, args: [bin, ...args], env: noCache })),
  ];
  const times = commands.map(() => []);
  for (let run = 0; run < CLI_RUNS; run++) commands.forEach((command, i) => times[i].push(timeProcess(command.args, { cwd, env: cleanEnv(command.env) })));
  const traceFile = join(root, "trace.txt");
  return commands.map((command, i) => {
    const modules = i === 0 ? [] : tracedModules(command.args, cwd, traceFile, command.env);
    return { label: command.label, median: median(times[i]), min: Math.min(...times[i]), modules: modules.length, nodeModules: modules.filter((url) => url.includes("/node_modules/")).length, langchain: modules.filter(isLangChain).length };
  });
}

// ---------- 1,000 agent files ----------

function runLoadWorker(repoRoot, variant, dir, cache) {
  const { stdout } = runNode([join(BENCH_DIR, "load-worker.js"), variant, dir, cache], { cwd: repoRoot });
  return JSON.parse(stdout);
}

function benchLoad(repoRoot, agentsDir, root) {
  const caches = { "coord-discovery": join(root, "cache-unused"), "coord-cache-cold": join(root, "cache-cold"), "coord-cache-warm": join(root, "cache-warm") };
  for (const dir of Object.values(caches)) mkdirSync(dir, { recursive: true });
  // The warm variant's cache, written by a process of its own before any timing.
  runLoadWorker(repoRoot, "coord-cache-cold", agentsDir, caches["coord-cache-cold"]);
  const warmFile = join(caches["coord-cache-warm"], "agents.json");
  copyFileSync(join(caches["coord-cache-cold"], "agents.json"), warmFile);
  const cached = Object.keys(JSON.parse(readFileSync(warmFile, "latin1")).entries).length;
  const samples = new Map(LOAD_VARIANTS.map((v) => [v.id, []]));
  for (let round = 0; round < LOAD_PROCESSES; round++) {
    for (const { id } of LOAD_VARIANTS) samples.get(id).push(runLoadWorker(repoRoot, id, agentsDir, caches[id]));
  }
  const variants = LOAD_VARIANTS.map(({ id, label }) => {
    const runs = samples.get(id);
    return { id, label, importMs: median(runs.map((r) => r.importMs)), coldMs: median(runs.map((r) => r.coldMs)), last: runs.at(-1) };
  });
  return { variants, cached, cacheBytes: statSync(warmFile).size };
}

/** Whole `coord agents list --agents DIR` processes: the cache removed before each, or left from the one before. */
function benchAgentsList(bin, agentsDir, root) {
  const cwd = join(root, "list-project");
  const cache = join(cwd, ".coord", "cache", "agents.json");
  mkdirSync(join(cwd, ".coord", "cache"), { recursive: true });
  const args = [bin, "agents", "list", "--agents", agentsDir, "--quiet"];
  const cold = [];
  const warm = [];
  for (let run = 0; run < AGENT_LIST_RUNS; run++) {
    rmSync(cache, { force: true });
    cold.push(timeProcess(args, { cwd }));
    warm.push(timeProcess(args, { cwd }));
  }
  const output = (keep) => {
    if (!keep) rmSync(cache, { force: true });
    return runNode(args, { cwd }).stdout;
  };
  const same = output(false) === output(true);
  return { cold: median(cold), warm: median(warm), same };
}

// ---------- section ----------

/** Runs the section in `root` (a temp folder), on the agent files of `agentsDir` (1,000 in `npm run bench`). */
export async function benchStartup(repoRoot, agentsDir, root) {
  const bin = join(repoRoot, "bin", "coord.js");
  mkdirSync(root, { recursive: true });
  age(agentsDir);
  const files = readdirSync(agentsDir).length;
  const cwd = projectWithRun(root, bin);
  return { files, cwd, commands: benchCommands(bin, cwd, root), load: benchLoad(repoRoot, agentsDir, root), agentsList: benchAgentsList(bin, agentsDir, root) };
}

export function reportStartup({ files, commands, load, agentsList }, { table, verdict }) {
  const ms = (value) => value.toFixed(1);
  const ratio = (value, base) => `${(value / base).toFixed(2)}x`;
  const bare = commands[0];
  console.log(`\nStartup of the read-only replies (${CLI_RUNS} runs each, wall time of the whole process, in a project with one finished run;`);
  console.log("the parse cache in .coord/cache is warm after each command's first run, as users meet it, unless the line says otherwise)\n");
  console.log(
    table(
      ["command", "median ms", "min ms", "vs bare node", `target < ${CLI_TARGET_MS} ms`, "LangChain modules", "module files", "of them in node_modules"],
      commands.map((c, i) => [c.label, ms(c.median), ms(c.min), ratio(c.median, bare.median), i === 0 ? "" : verdict(c.median, CLI_TARGET_MS), i === 0 ? "" : c.langchain, i === 0 ? "" : c.modules, i === 0 ? "" : c.nodeModules]),
    ),
  );
  const loading = commands.filter((c) => c.langchain > 0);
  console.log(loading.length ? `LangChain loaded by: ${loading.map((c) => c.label).join(", ")}` : "no read-only reply loads a LangChain module");

  const byId = Object.fromEntries(load.variants.map((v) => [v.id, v]));
  const plain = byId["coord-discovery"];
  const { agents, diagnostics } = plain.last;
  console.log(`\n${files.toLocaleString("en")} agent files loaded as \`coord agents list\` loads them (${agents} agents, ${diagnostics} diagnostics), each the median of ${LOAD_PROCESSES} fresh processes`);
  console.log(`the cache: ${load.cached} files in ${(load.cacheBytes / 1024 / 1024).toFixed(1)} MB; load = the first load in the process, after importing coord (import not included)\n`);
  console.log(
    table(
      ["load", "import ms", "load ms", "vs no cache", `target < ${LOAD_TARGET_MS} ms`, "same result"],
      load.variants.map((v) => [
        v.label,
        ms(v.importMs),
        ms(v.coldMs),
        ratio(v.coldMs, plain.coldMs),
        verdict(v.coldMs, LOAD_TARGET_MS),
        v.last.agents === agents && v.last.diagnostics === diagnostics ? "yes" : "NO",
      ]),
    ),
  );
  console.log(
    `\nwhole \`coord agents list --agents DIR\` over the ${files.toLocaleString("en")} files (median of ${AGENT_LIST_RUNS}): ` +
      `${ms(agentsList.cold)} ms without a cache (it writes one), ${ms(agentsList.warm)} ms with it (${ratio(agentsList.warm, agentsList.cold)}); ` +
      `same output: ${agentsList.same ? "yes" : "NO"}`,
  );
}

// ---------- standalone ----------

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const repoRoot = resolve(BENCH_DIR, "..");
  const root = mkdtempSync(join(tmpdir(), "coord-bench-startup-"));
  try {
    let agentsDir = process.argv[2] && resolve(process.argv[2]);
    if (!agentsDir) {
      // 1,000 copies of the committed corpus sample's agents, as bench/run.js builds them.
      agentsDir = join(root, "agents");
      mkdirSync(agentsDir);
      const sample = join(repoRoot, "test", "fixtures", "corpus-sample");
      const sources = readdirSync(sample, { recursive: true })
        .map((relative) => join(sample, relative))
        .filter((file) => !file.includes("claude-flow-history") && (file.endsWith(".yaml") || (file.endsWith(".md") && readFileSync(file, "utf8").startsWith("---"))))
        .sort();
      for (let i = 0; i < 1000; i++) copyFileSync(sources[i % sources.length], join(agentsDir, `${String(i + 1).padStart(4, "0")}-${basename(sources[i % sources.length])}`));
    }
    if (!existsSync(agentsDir)) throw new Error(`${agentsDir} is not a folder`);
    console.log(`coord bench: startup (node ${process.version}, ${availableParallelism()} cores)`);
    reportStartup(await benchStartup(repoRoot, agentsDir, join(root, "startup")), { table, verdict });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
