import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, REPO, cliEnv, runCli } from "../../helpers/cli.js";
import { GROWTH_INPUTS, GROWTH_PLAN, runProject } from "../../helpers/project.js";

// Issue #12: the replies that only read the store or the definitions load no LangChain, since
// importing it alone takes several times what such a reply needs, and no package from
// node_modules but the SQLite driver: the packages they need (zod, commander, marked, js-yaml...)
// are bundled into dist/cli/ (scripts/build.mjs), since Node 20 loading them file by file took
// most of a reply's time. Each command runs as users run it (the real bin/coord.js, dist/ built by
// the global setup) under bench/trace-imports.js, which records every module file the process
// loads, ESM and CommonJS. How fast they start is measured side by side by `npm run bench`
// (bench/startup.js), never here.

const TRACER = join(REPO, "bench", "trace-imports.js");
const LANGCHAIN = /\/node_modules\/(?:@langchain\/|langchain\/)/;
/** The package a node_modules URL belongs to (`zod`, `@langchain/core`). */
const packageOf = (url: string) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];
/** What a read-only reply may load from node_modules: the store's native driver, which cannot be bundled. */
const UNBUNDLED = new Set(["better-sqlite3"]);

let cwd: string;
let traces: string;

/** The module file URLs `coord ARGS` loads in the project, and how it ended. */
function traced(args: string[]): { code: number; stdout: string; stderr: string; modules: string[] } {
  const traceFile = join(traces, `trace-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(traceFile, "");
  const result = spawnSync(process.execPath, ["--import", TRACER, BIN, ...args], { cwd, env: cliEnv({ TRACE_FILE: traceFile }), encoding: "utf8", timeout: 60_000 });
  const modules = [...new Set(readFileSync(traceFile, "utf8").split("\n").filter(Boolean))];
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr, modules };
}

beforeAll(async () => {
  cwd = runProject({ mission: GROWTH_PLAN, agents: { analyst: {}, researcher: {}, seller: {}, planner: {} }, inputs: GROWTH_INPUTS });
  traces = mkdtempSync(join(tmpdir(), "coord-trace-"));
  // A finished run, offline, so `runs show` and `/coord status` have something to read.
  const run = await runCli(["run", "test-mission", "--inputs", "inputs", "--run-id", "growth", "--quiet"], { cwd });
  expect(run.code, run.stderr).toBe(0);
});

afterAll(() => rmSync(traces, { recursive: true, force: true }));

/** Each read-only command, and a piece of the answer that shows it did its work. */
const READ_ONLY: Array<{ args: string[]; shows: RegExp }> = [
  { args: ["slash", "/coord help"], shows: /runs multi-agent missions/ },
  { args: ["slash", "/coord list"], shows: /`test-mission` Growth Plan/ },
  { args: ["missions", "list"], shows: /test-mission\s+Growth Plan/ },
  { args: ["agents", "list"], shows: /analyst\s+specialist/ },
  { args: ["slash", "/coord status growth"], shows: /run `growth` · ✅ completed/ },
  { args: ["runs", "list"], shows: /growth\s+test-mission\s+completed/ },
  { args: ["runs", "show", "growth"], shows: /run growth: completed, 3 deliverables/ },
];

describe("read-only commands start without LangChain", () => {
  it("the tracer sees LangChain when a process does load it", () => {
    const traceFile = join(traces, "control.txt");
    writeFileSync(traceFile, "");
    const control = spawnSync(process.execPath, ["--import", TRACER, "--input-type=module", "-e", "await import('@langchain/langgraph')"], { cwd: REPO, env: cliEnv({ TRACE_FILE: traceFile }) });
    expect(control.status).toBe(0);
    expect(readFileSync(traceFile, "utf8").split("\n").filter((url) => LANGCHAIN.test(url)).length).toBeGreaterThan(10);
  });

  for (const { args, shows } of READ_ONLY) {
    it(`coord ${args.join(" ")} loads no LangChain module and no package left out of the bundle`, () => {
      const result = traced(args);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(shows);
      expect(result.modules.filter((url) => url.includes("/dist/cli/")).length, "the tracer saw no chunk of the bundle: is it loaded?").toBeGreaterThan(0);
      expect(result.modules.filter((url) => LANGCHAIN.test(url))).toEqual([]);
      const unbundled = new Set(result.modules.map(packageOf).filter((name) => name !== undefined && !UNBUNDLED.has(name)));
      expect([...unbundled], "packages loaded from node_modules: bundle them (scripts/build.mjs) or import them where they are needed").toEqual([]);
    });
  }
});

describe("the CLI's parse cache", () => {
  it("keeps parsed agents and missions under the project's .coord/cache, and lists the same", async () => {
    rmSync(join(cwd, ".coord", "cache"), { recursive: true, force: true });
    const agents = await runCli(["agents", "list", "--json"], { cwd });
    const missions = await runCli(["missions", "list", "--json"], { cwd });
    expect(agents.code, agents.stderr).toBe(0);
    expect(missions.code, missions.stderr).toBe(0);
    // The project ran, so it has .coord: the first listing made the cache there.
    expect(existsSync(join(cwd, ".coord", "cache", "agents.json"))).toBe(true);
    expect(existsSync(join(cwd, ".coord", "cache", "missions.json"))).toBe(true);
    expect(await runCli(["agents", "list", "--json"], { cwd })).toEqual(agents);
    expect(await runCli(["missions", "list", "--json"], { cwd })).toEqual(missions);
    const slashList = await runCli(["slash", "/coord list"], { cwd });
    expect(slashList.stdout).toMatch(/`test-mission` Growth Plan/);
  });

  it("creates no cache in a folder coord never ran in", async () => {
    const fresh = mkdtempSync(join(tmpdir(), "coord-fresh-"));
    const r = await runCli(["agents", "list"], { cwd: fresh });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(fresh, ".coord"))).toBe(false);
  });

  it("follows COORD_HOME, and a broken config file only costs the cache", async () => {
    const home = join(cwd, "elsewhere");
    mkdirSync(home, { recursive: true });
    const moved = await runCli(["agents", "list"], { cwd, env: { COORD_HOME: home } });
    expect(moved.code, moved.stderr).toBe(0);
    expect(existsSync(join(home, "cache", "agents.json"))).toBe(true);

    writeFileSync(join(cwd, "coord.config.json"), "{ not json");
    try {
      const broken = await runCli(["agents", "list"], { cwd });
      expect(broken.code, broken.stderr).toBe(0);
      expect(broken.stdout).toMatch(/analyst\s+specialist/);
    } finally {
      rmSync(join(cwd, "coord.config.json"));
    }
  });
});
