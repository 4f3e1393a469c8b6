import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, cpSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { KEEP_REPLACED_CHUNKS_MS, keepReplacedChunks } from "../../../scripts/build.mjs";
import { BIN, REPO, cliEnv, runBinAsync, runCli, tempProject, waitUntil } from "../../helpers/cli.js";
import { startFakeOpenAI, type FakeOpenAI, type ReceivedRequest } from "../../helpers/openai-server.js";
import { callText, connectMcp } from "../mcp-client.js";
import { GROWTH_INPUTS, GROWTH_PLAN, runProject } from "../../helpers/project.js";

// The `coord` command is bundled (scripts/build.mjs) with its own copy of zod inside, while
// LangChain, left in node_modules, imports the package's zod: the schemas coord hands to
// withStructuredOutput (deliverables, the criteria judge) are made by one copy and turned into
// JSON Schema and parsed by the other. zod 4 keeps its registry of descriptions on globalThis for
// this; here the bundled command, run as users run it, must send the model the very requests the
// library sends from src/ (one zod), descriptions included, and end the same.

let fake: FakeOpenAI | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

/** The tool schemas a run offered the model, one JSON text per request that had any, sorted. */
const toolSchemas = (requests: ReceivedRequest[]) =>
  requests
    .filter((r) => r.body.tools?.length)
    .map((r) => JSON.stringify(r.body.tools))
    .sort();

describe("bin/coord.js, the bundled command", () => {
  it("sends the same structured-output schemas as the library, descriptions included, and ends the same", async () => {
    fake = await startFakeOpenAI();
    const env = { OPENAI_API_KEY: "sk-test", COORD_BASE_URL: fake.url, COORD_MODEL: "openai:gpt-4o-mini" };
    const args = ["run", "test-mission", "--inputs", "inputs", "--deliverables", "one-call", "--quiet", "--json"];
    const agents = { analyst: {}, researcher: {}, seller: {}, planner: {} };

    const library = await runCli(args, { cwd: runProject({ mission: GROWTH_PLAN, agents, inputs: GROWTH_INPUTS }), env });
    expect(library.code, library.stderr).toBe(0);
    const fromLibrary = fake.requests.splice(0);

    const bundled = await runBinAsync(args, { cwd: runProject({ mission: GROWTH_PLAN, agents, inputs: GROWTH_INPUTS }), env });
    expect(bundled.code, bundled.stderr).toBe(0);
    const fromBundle = fake.requests.splice(0);

    const schemas = toolSchemas(fromLibrary);
    // The lead's deliverables (one call a phase) and the criteria judge.
    expect(schemas.length).toBeGreaterThanOrEqual(3);
    expect(schemas.join("\n")).toMatch(/"description":"[^"]+"/);
    expect(toolSchemas(fromBundle)).toEqual(schemas);
    expect(fromBundle.length).toBe(fromLibrary.length);

    const outcome = (stdout: string) => {
      const run = JSON.parse(stdout) as { status: string; phases: Array<{ deliverables: Array<{ title: string }> }>; criteria: Array<{ text: string; verdict: string }> };
      return { status: run.status, deliverables: run.phases.flatMap((p) => p.deliverables.map((d) => d.title)), criteria: run.criteria.map((c) => `${c.verdict}: ${c.text}`) };
    };
    expect(outcome(bundled.stdout)).toEqual(outcome(library.stdout));
    expect(outcome(bundled.stdout).status).toBe("completed");
  });

  it("says in one line that coord is not built when dist/cli/ is missing (a checkout before npm install), exit 2", () => {
    const copy = tempProject({});
    mkdirSync(join(copy, "bin"));
    copyFileSync(BIN, join(copy, "bin", "coord.js"));
    const result = spawnSync(process.execPath, [join(copy, "bin", "coord.js"), "missions", "list"], { cwd: copy, env: cliEnv(), encoding: "utf8" });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`coord: coord is not built, or not wholly: ${join("dist", "cli", "main.js")} is missing (fix: run \`npm install\`, or \`npm run build\`, in coord's folder)\n`);
  });

  it("names the missing chunk when a build is not whole, exit 2", () => {
    const copy = tempProject({});
    mkdirSync(join(copy, "bin"));
    copyFileSync(BIN, join(copy, "bin", "coord.js"));
    mkdirSync(join(copy, "dist", "cli"), { recursive: true });
    // The entry as built, without the chunks it imports.
    copyFileSync(join(REPO, "dist", "cli", "main.js"), join(copy, "dist", "cli", "main.js"));
    const result = spawnSync(process.execPath, [join(copy, "bin", "coord.js"), "missions", "list"], { cwd: copy, env: cliEnv(), encoding: "utf8" });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^coord: coord is not built, or not wholly: dist[\\/]cli[\\/]chunk-\w+\.js is missing \(fix: run `npm install`, or `npm run build`, in coord's folder\)\n$/);
  });

  it("shares the parse cache with the library: a cache the command wrote is read, not rewritten, by the library of the same build", () => {
    const cwd = runProject({ mission: GROWTH_PLAN, agents: { analyst: {}, researcher: {}, seller: {}, planner: {} }, inputs: GROWTH_INPUTS });
    mkdirSync(join(cwd, ".coord"));
    // Files nobody is editing: the cache trusts them.
    const past = Date.now() / 1000 - 3600;
    for (const name of readdirSync(join(cwd, "agents"))) utimesSync(join(cwd, "agents", name), past, past);
    const listed = spawnSync(process.execPath, [BIN, "agents", "list"], { cwd, env: cliEnv(), encoding: "utf8" });
    expect(listed.status, listed.stderr).toBe(0);
    const cache = join(cwd, ".coord", "cache", "agents.json");
    const written = readFileSync(cache, "latin1");
    expect(JSON.parse(written).fingerprint).toContain(join("dist", "build.json"));
    const library = pathToFileURL(join(REPO, "dist", "index.js")).href;
    const script = `const { loadAgents } = await import(${JSON.stringify(library)}); console.log(loadAgents({ cwd: process.cwd(), cacheDir: ${JSON.stringify(join(cwd, ".coord", "cache"))} }).names().length);`;
    const loaded = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd, env: cliEnv(), encoding: "utf8" });
    expect(loaded.status, loaded.stderr).toBe(0);
    expect(Number(loaded.stdout)).toBeGreaterThan(4);
    expect(JSON.parse(readFileSync(cache, "latin1")).fingerprint).toBe(JSON.parse(written).fingerprint);
    expect(readFileSync(cache, "latin1")).toBe(written);
  });

  it("a build keeps the command's chunks an earlier build had, for a day after they were first replaced, and nothing else", () => {
    const now = Date.now();
    const from = tempProject({
      "main.js": "the replaced entry",
      "main.js.map": "{}",
      "runs-AAAA.js": "a chunk this build replaces",
      "batch-BBBB.js": "a chunk replaced an hour ago",
      "chunk-CCCC.js": "a chunk replaced two days ago",
      "chunk-SAME.js": "a chunk the new build has too",
      "replaced.json": JSON.stringify({ "batch-BBBB.js": now - 3_600_000, "chunk-CCCC.js": now - 2 * KEEP_REPLACED_CHUNKS_MS }),
    });
    const to = tempProject({ "main.js": "the new entry", "chunk-SAME.js": "a chunk the new build has too" });
    keepReplacedChunks(from, to, now);
    expect(readdirSync(to).sort()).toEqual(["batch-BBBB.js", "chunk-SAME.js", "main.js", "replaced.json", "runs-AAAA.js"]);
    expect(readFileSync(join(to, "main.js"), "utf8")).toBe("the new entry");
    // Each kept chunk's day runs from when it was first replaced, however often it is carried on.
    expect(JSON.parse(readFileSync(join(to, "replaced.json"), "utf8"))).toEqual({ "runs-AAAA.js": now, "batch-BBBB.js": now - 3_600_000 });
  });

  it("finishes a run whose reader stopped early (coord run | head -1): the run completes, exit 0", async () => {
    // The shipped mission: three phases, long enough to be mid-run when the first line is written.
    const cwd = tempProject({});
    const child = spawn(process.execPath, [BIN, "run", "sales-marketing-alignment", "--inputs", join(REPO, "examples", "acme"), "--run-id", "piped"], { cwd, env: cliEnv(), stdio: ["ignore", "pipe", "pipe"] });
    // The reader is gone before the command writes a line, as `2>&1 | head -0` would be: its
    // first line of progress already meets a closed pipe, long before the run ends.
    child.stdout.destroy();
    child.stderr.destroy();
    const code = await new Promise<number | null>((done) => child.on("close", done));
    expect(code).toBe(0);
    const shown = await runCli(["runs", "show", "piped", "--json"], { cwd });
    expect((JSON.parse(shown.stdout) as { status: string }).status).toBe("completed");
  });

  describe("a coord mcp started before a rebuild", () => {
    let checkout: string;
    /** Builds the checkout after a change to its sources; a build with type errors still builds (as npm test's does). */
    const rebuild = (...flags: string[]) => {
      const catalog = join(checkout, "src", "definitions", "mission-catalog.ts");
      writeFileSync(catalog, `${readFileSync(catalog, "utf8")}\nexport const CHANGED_${Date.now()} = true;\n`);
      const build = spawnSync(process.execPath, [join(checkout, "scripts", "build.mjs"), ...flags], { cwd: checkout, encoding: "utf8" });
      expect([0, 2], `${build.stdout}${build.stderr}`).toContain(build.status);
    };
    /** `coord mcp` from the checkout, through the MCP SDK's client; and what it printed on stderr. */
    const startMcp = async () => {
      const client = await connectMcp(checkout, {}, join(checkout, "bin", "coord.js"));
      let stderr = "";
      (client.transport as StdioClientTransport).stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      return { client, stderr: () => stderr };
    };

    // A checkout of its own (sources, scripts, bin; node_modules linked), built: its `coord mcp`
    // loads /coord list's chunk only when first asked.
    beforeAll(() => {
      checkout = tempProject({});
      for (const path of ["src", "scripts", "bin", "missions", "agents"]) cpSync(join(REPO, path), join(checkout, path), { recursive: true });
      for (const file of ["package.json", "tsconfig.json", "tsconfig.build.json"]) copyFileSync(join(REPO, file), join(checkout, file));
      symlinkSync(join(REPO, "node_modules"), join(checkout, "node_modules"), "junction");
      rebuild();
      // A whole build (tsc and esbuild) on a busy two-core machine.
    }, 120_000);
    afterAll(() => rmSync(checkout, { recursive: true, force: true }));

    it("still answers with the commands it loads after the rebuild", { timeout: 120_000 }, async () => {
      const mcp = await startMcp();
      try {
        rebuild();
        const listed = await callText(mcp.client, "slash", { text: "/coord list" });
        expect(listed.text).toMatch(/sales-marketing-alignment/);
        expect(mcp.stderr()).toBe("");
      } finally {
        await mcp.client.close();
      }
    });

    it("rebuilt from scratch under it, says it needs a restart: to its caller, and on its stderr to whoever runs it", { timeout: 120_000 }, async () => {
      // A build from scratch takes away the chunk it has yet to load.
      const mcp = await startMcp();
      try {
        rebuild("--fresh");
        const listed = await callText(mcp.client, "slash", { text: "/coord list" });
        expect(listed.text).toBe("⚠️ coord was updated while this server ran\nFix: ask its operator to restart it");
        // Written before the reply, but on another pipe: it may reach us after the reply does.
        await waitUntil(() => mcp.stderr().endsWith("\n"), { timeoutMs: 10_000 });
        expect(mcp.stderr()).toMatch(/^coord mcp: coord's files changed while this process ran \(rebuilt or upgraded\): dist[\\/]cli[\\/][\w-]+\.js is gone \(fix: restart this coord process\)\n$/);
      } finally {
        await mcp.client.close();
      }
    });
  });
});
