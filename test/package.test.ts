/**
 * The npm package end to end, as a user gets it: `npm pack`, install the tarball into an empty
 * project, run a shipped mission offline through the installed `coord` bin, import the library
 * from plain ESM, run the embedding example against it, and type-check a TypeScript consumer
 * with `skipLibCheck: false`. Slow (installing compiles better-sqlite3): one describe, one install.
 * Everything happens in a temporary folder outside the repository, removed afterwards.
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const PKG = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as {
  name: string;
  version: string;
  main: string;
  types: string;
  bin: Record<string, string>;
  exports: Record<string, string | Record<string, string>>;
};
const TSC = join(dirname(createRequire(import.meta.url).resolve("typescript/package.json")), "bin", "tsc");
const INSTALL_TIMEOUT = 300_000;

/** The machine's coord settings, provider keys and npm's script variables change what a command does. */
const NOT_INHERITED = /^(COORD_|OPENAI_|ANTHROPIC_|GOOGLE_|MISTRAL_|GROQ_|OLLAMA_|LANGCHAIN_|LANGSMITH_|npm_|INIT_CWD$)|_API_KEY$|_BASE_URL$/i;
const env: Record<string, string> = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined && !NOT_INHERITED.test(e[0])));
env.NO_COLOR = "1";

function run(command: string, args: string[], cwd: string, timeout = 120_000): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, env, encoding: "utf8", timeout, maxBuffer: 64 * 1024 * 1024 });
}

function ok(result: SpawnSyncReturns<string>, what: string): string {
  if (result.status !== 0) throw new Error(`${what} failed (exit ${result.status}${result.error ? `, ${result.error.message}` : ""}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  files: Array<{ path: string }>;
}

describe("the npm package", () => {
  let work: string;
  let project: string;
  let packed: PackResult;
  let paths: string[];

  beforeAll(() => {
    // dist/ is built from src/ once per vitest run (test/helpers/global-setup.ts); packing with
    // --ignore-scripts ships that build instead of rebuilding dist/ under the other tests' feet.
    if (!existsSync(join(REPO, PKG.main))) throw new Error(`${PKG.main} is missing: run \`npm run build\` first`);
    work = mkdtempSync(join(tmpdir(), "coord-package-"));
    const out = ok(run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", work], REPO), "npm pack");
    packed = (JSON.parse(out) as PackResult[])[0]!;
    paths = packed.files.map((f) => f.path);

    project = join(work, "project");
    mkdirSync(project);
    // An empty ESM project; better-sqlite3 (the checkpoint store) must run its install script.
    writeFileSync(join(project, "package.json"), `${JSON.stringify({ name: "consumer", version: "1.0.0", private: true, type: "module", allowScripts: { "better-sqlite3": true } }, null, 2)}\n`);
    // @types/node as any TypeScript project on Node has it: the library's types mention Node's.
    ok(
      run("npm", ["install", join(work, packed.filename), "@types/node@^20", "--no-audit", "--no-fund", "--prefer-offline"], project, INSTALL_TIMEOUT),
      "npm install of the tarball",
    );
  }, INSTALL_TIMEOUT + 30_000);

  // Removing an installed package's node_modules takes a while on a busy machine.
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it("holds the build, the bin, the shipped agents, missions, hooks and schemas, and no sources, tests or fixtures", () => {
    const targets = [PKG.main, PKG.types, ...Object.values(PKG.bin), ...Object.values(PKG.exports).flatMap((e) => (typeof e === "string" ? [e] : Object.values(e)))];
    for (const target of targets) expect(paths, target).toContain(target.replace(/^\.\//, ""));
    expect(paths).toContain("missions/sales-marketing-alignment.mission.md");
    expect(paths).toContain("schemas/agent.schema.json");
    expect(paths).toContain("hooks/post-mission");
    expect(paths).toContain("README.md");
    expect(paths.filter((p) => p.startsWith("agents/")).length).toBeGreaterThan(0);
    const unwanted = paths.filter((p) => /^(src|test|bench|scripts|examples|docs|coverage|runs|\.coord|node_modules)\//.test(p) || /fixtures|\.test\.|\.map$|^tsconfig|^vitest/.test(p));
    expect(unwanted).toEqual([]);
    // The library (dist/, a file per module) and the command bundled on its own (dist/cli/, about 1 MB).
    expect(packed.unpackedSize).toBeLessThan(3_000_000);
  });

  it("runs a shipped mission offline through the installed coord bin", () => {
    const inputs = join(project, "inputs");
    cpSync(join(REPO, "examples", "acme"), inputs, { recursive: true });
    const r = run("npx", ["--no", "coord", "run", "sales-marketing-alignment", "--inputs", "inputs", "--json"], project);
    expect(r.status, r.stderr).toBe(0);
    const record = JSON.parse(r.stdout) as { runId: string; status: string; model: string; phases: Array<{ deliverables: Array<{ file: string }> }> };
    expect(record).toMatchObject({ status: "completed", model: "offline" });
    const runDir = join(project, "runs", record.runId);
    expect(existsSync(join(runDir, "report.md"))).toBe(true);
    const files = record.phases.flatMap((p) => p.deliverables.map((d) => d.file));
    expect(files.length).toBeGreaterThan(0);
    expect(readdirSync(join(runDir, "deliverables")).length).toBe(files.length);
    // Checkpoints went to the project's .coord/ (better-sqlite3 works), not into the package.
    expect(readdirSync(join(project, ".coord")).some((f) => f.endsWith(".sqlite"))).toBe(true);
  });

  it("imports from plain ESM: compiles and runs a mission, and a missing input fails with INPUT_MISSING", () => {
    writeFileSync(
      join(project, "library.mjs"),
      `import { CoordError, OfflineChatModel, compileMission, loadAgents, loadMission, recursionLimitFor } from "coord-missions";
const { mission } = loadMission("sales-marketing-alignment");
const graph = compileMission(mission, { agents: loadAgents(), model: new OfflineChatModel({}) });
const inputs = Object.fromEntries(mission.inputs.map((i) => [i.id, i.title + ": details."]));
const state = await graph.invoke({ inputs }, { recursionLimit: recursionLimitFor(mission) });
console.log("deliverables", Object.values(state.deliverables).flatMap((d) => Object.keys(d)).length);
try {
  await graph.invoke({ inputs: {} });
} catch (error) {
  console.log("missing", error instanceof CoordError && error.code, error.message);
}
`,
    );
    const out = ok(run(process.execPath, ["library.mjs"], project), "node library.mjs");
    const count = Number(/deliverables (\d+)/.exec(out)?.[1]);
    expect(count).toBeGreaterThan(0);
    expect(out).toMatch(/missing INPUT_MISSING .*marketing-framework/);
  });

  it("serves its missions to LangGraph: langgraph init imports coord by its name, and each exported graph takes the mission's inputs", () => {
    const init = run("npx", ["--no", "coord", "langgraph", "init", "--approve"], project);
    expect(init.status, init.stderr).toBe(0);
    // The project resolves @langchain/langgraph (installed with coord): nothing to warn about.
    expect(init.stderr).toBe("");
    const module = readFileSync(join(project, "coord-graphs.mjs"), "utf8");
    expect(module).toContain('import { missionGraph } from "coord-missions";');
    writeFileSync(
      join(project, "graphs.mjs"),
      `const graphs = await import("./coord-graphs.mjs");
const graph = await graphs.sales_marketing_alignment;
console.log("inputs", Object.keys(graph.builder._inputRuntimeDefinition.shape.inputs.shape).join(","));
console.log("nodes", Object.keys(graph.nodes).filter((n) => n.endsWith("_review")).join(","));
`,
    );
    const out = ok(run(process.execPath, ["graphs.mjs"], project), "node graphs.mjs");
    expect(out).toMatch(/^inputs marketing-framework,sales-framework,customer-journey-data,lead-flow-analysis$/m);
    expect(out).toMatch(/^nodes p1_review,p2_review,p3_review$/m);
  });

  it("runs examples/embed/swarm.mjs against the installed package", () => {
    cpSync(join(REPO, "examples", "embed"), join(project, "examples", "embed"), { recursive: true });
    cpSync(join(REPO, "examples", "acme"), join(project, "examples", "acme"), { recursive: true });
    const out = ok(run(process.execPath, [join("examples", "embed", "swarm.mjs")], project), "node examples/embed/swarm.mjs");
    expect(out).toMatch(/^subgraph: \d+ deliverables/m);
    expect(out).toMatch(/^approval: reject, approve/m);
    expect(out).toMatch(/^tool: sales_marketing_alignment -> /m);
  });

  it("type-checks a TypeScript consumer with skipLibCheck false (nodenext)", () => {
    writeFileSync(
      join(project, "consumer.ts"),
      `import { Annotation, Command, END, MemorySaver, START, StateGraph } from "@langchain/langgraph";
import * as coord from "coord-missions";
import {
  CoordError,
  MissionState,
  OfflineChatModel,
  compileMission,
  loadAgents,
  loadMission,
  missionTool,
  recursionLimitFor,
  runMission,
  type Agent,
  type CompileOptions,
  type LoadOptions,
  type MissionStateValue,
  type ReviewDecision,
  type RunOutcome,
} from "coord-missions";

const load: LoadOptions = { agentDirs: ["my-agents"], missionDirs: ["my-missions"], cwd: process.cwd() };
const { mission } = loadMission("sales-marketing-alignment", load);
const agents: Agent[] = loadAgents(load).agents;
const options: CompileOptions = { agents, model: new OfflineChatModel({}), approve: true };
const Parent = Annotation.Root({ ...MissionState.spec, summary: Annotation<string>() });
const parent = new StateGraph(Parent)
  .addNode("mission", compileMission(mission, options))
  .addNode("summarize", (state: typeof Parent.State) => ({ summary: Object.keys(state.deliverables).join(",") }))
  .addEdge(START, "mission")
  .addEdge("mission", "summarize")
  .addEdge("summarize", END)
  .compile({ checkpointer: new MemorySaver() });
const config = { configurable: { thread_id: "t" }, recursionLimit: recursionLimitFor(mission) };
await parent.invoke({ inputs: { "marketing-framework": "..." } }, config);
const decision: ReviewDecision = { action: "reject", note: "more detail" };
await parent.invoke(new Command({ resume: decision }), config);
const state: MissionStateValue = await compileMission(mission, { agents, model: new OfflineChatModel({}) }).invoke({ inputs: {} });
const tool = missionTool(mission, { agents: loadAgents(), model: new OfflineChatModel({}) });
const outcome: RunOutcome = await runMission({ mission: "sales-marketing-alignment", inputsDir: "inputs", settings: { approve: true }, env: process.env });
const missing = new CoordError("INPUT_MISSING", "x").code;
export const used = [coord, state.deliverables, state.calls, state.reviews, tool.name, outcome.exitCode, missing];
`,
    );
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { target: "ES2022", module: "nodenext", moduleResolution: "nodenext", strict: true, skipLibCheck: false, noEmit: true, types: ["node"] },
        files: ["consumer.ts"],
      }),
    );
    const r = run(process.execPath, [TSC, "-p", "tsconfig.json"], project);
    expect(`${r.stdout}${r.stderr}`).toBe("");
    expect(r.status).toBe(0);
  });
});
