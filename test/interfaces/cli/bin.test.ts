import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { cleanDist } from "../../../scripts/build.mjs";
import { BIN, REPO, cliEnv, runBinAsync, runCli, tempProject } from "../../helpers/cli.js";
import { startFakeOpenAI, type FakeOpenAI, type ReceivedRequest } from "../../helpers/openai-server.js";
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
    const result = spawnSync(process.execPath, [join(copy, "bin", "coord.js"), "missions", "list"], { cwd: copy, encoding: "utf8" });
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
    const result = spawnSync(process.execPath, [join(copy, "bin", "coord.js"), "missions", "list"], { cwd: copy, encoding: "utf8" });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^coord: coord is not built, or not wholly: dist\/cli\/chunk-\w+\.js is missing \(fix: run `npm install`, or `npm run build`, in coord's folder\)\n$/);
  });

  it("shares the parse cache with the library: a cache the command wrote is read, not rewritten, by the library of the same build", () => {
    const cwd = runProject({ mission: GROWTH_PLAN, agents: { analyst: {}, researcher: {}, seller: {}, planner: {} }, inputs: GROWTH_INPUTS });
    mkdirSync(join(cwd, ".coord"));
    // Files nobody is editing: the cache trusts them.
    const past = Date.now() / 1000 - 3600;
    for (const name of readdirSync(join(cwd, "agents"))) utimesSync(join(cwd, "agents", name), past, past);
    const listed = spawnSync(process.execPath, [BIN, "agents", "list"], { cwd, encoding: "utf8" });
    expect(listed.status, listed.stderr).toBe(0);
    const cache = join(cwd, ".coord", "cache", "agents.json");
    const written = readFileSync(cache, "latin1");
    expect(JSON.parse(written).fingerprint).toContain(join("dist", "build.json"));
    const library = pathToFileURL(join(REPO, "dist", "index.js")).href;
    const script = `const { loadAgents } = await import(${JSON.stringify(library)}); console.log(loadAgents({ cwd: process.cwd(), cacheDir: ${JSON.stringify(join(cwd, ".coord", "cache"))} }).names().length);`;
    const loaded = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd, encoding: "utf8" });
    expect(loaded.status, loaded.stderr).toBe(0);
    expect(Number(loaded.stdout)).toBeGreaterThan(4);
    expect(JSON.parse(readFileSync(cache, "latin1")).fingerprint).toBe(JSON.parse(written).fingerprint);
    expect(readFileSync(cache, "latin1")).toBe(written);
  });

  it("a build keeps the command's chunks of earlier builds for a day, for the processes started from them, and nothing else", () => {
    const root = tempProject({
      "dist/index.js": "old library",
      "dist/definitions/agent.js": "old module",
      "dist/cli/main.js": "old entry",
      "dist/cli/main.js.map": "{}",
      "dist/cli/runs-OLDHASH1.js": "yesterday's chunk",
      "dist/cli/chunk-OLDHASH2.js": "last week's chunk",
    });
    const now = Date.now();
    utimesSync(join(root, "dist/cli/runs-OLDHASH1.js"), now / 1000 - 3600, now / 1000 - 3600);
    utimesSync(join(root, "dist/cli/chunk-OLDHASH2.js"), now / 1000 - 7 * 86400, now / 1000 - 7 * 86400);
    cleanDist(root, now);
    expect(readdirSync(join(root, "dist"))).toEqual(["cli"]);
    expect(readdirSync(join(root, "dist", "cli"))).toEqual(["runs-OLDHASH1.js"]);
    expect(readFileSync(join(root, "dist/cli/runs-OLDHASH1.js"), "utf8")).toBe("yesterday's chunk");
  });

  it("finishes a run whose reader stopped early (coord run | head -1): the run completes, exit 0", async () => {
    const cwd = runProject({ mission: GROWTH_PLAN, agents: { analyst: {}, researcher: {}, seller: {}, planner: {} }, inputs: GROWTH_INPUTS });
    const child = spawn(process.execPath, [BIN, "run", "test-mission", "--inputs", "inputs", "--run-id", "piped"], { cwd, env: cliEnv(), stdio: ["ignore", "pipe", "pipe"] });
    // The reader takes one line of each stream, then closes both, as `2>&1 | head -1` does.
    for (const stream of [child.stdout, child.stderr]) stream.once("data", () => stream.destroy());
    const code = await new Promise<number | null>((done) => child.on("close", done));
    expect(code).toBe(0);
    const shown = await runCli(["runs", "show", "piped", "--json"], { cwd });
    expect((JSON.parse(shown.stdout) as { status: string }).status).toBe("completed");
  });

  /**
   * A checkout of its own (sources, scripts, bin; node_modules linked), built, with `coord mcp`
   * started from it: it loads /coord list's chunk only when first asked.
   */
  async function mcpInACheckout() {
    const copy = tempProject({});
    for (const path of ["src", "scripts", "bin", "missions", "agents"]) cpSync(join(REPO, path), join(copy, path), { recursive: true });
    for (const file of ["package.json", "tsconfig.json", "tsconfig.build.json"]) copyFileSync(join(REPO, file), join(copy, file));
    symlinkSync(join(REPO, "node_modules"), join(copy, "node_modules"), "dir");
    /** Builds the checkout, after a change to its sources. */
    const rebuild = (...flags: string[]) => {
      const catalog = join(copy, "src", "definitions", "mission-catalog.ts");
      writeFileSync(catalog, `${readFileSync(catalog, "utf8")}\nexport const CHANGED_SINCE_THE_SERVER_STARTED = true;\n`);
      expect(spawnSync(process.execPath, [join(copy, "scripts", "build.mjs"), ...flags], { cwd: copy, encoding: "utf8" }).status).toBe(0);
    };
    expect(spawnSync(process.execPath, [join(copy, "scripts", "build.mjs")], { cwd: copy, encoding: "utf8" }).status).toBe(0);
    const server = spawn(process.execPath, [join(copy, "bin", "coord.js"), "mcp"], { cwd: copy, env: cliEnv(), stdio: ["pipe", "pipe", "pipe"] });
    const replies: Array<(message: { result?: { content: Array<{ text: string }> } }) => void> = [];
    let pending = "";
    let stderr = "";
    server.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    server.stdout.on("data", (chunk: Buffer) => {
      pending += chunk.toString();
      for (let end = pending.indexOf("\n"); end >= 0; end = pending.indexOf("\n")) {
        const line = pending.slice(0, end);
        pending = pending.slice(end + 1);
        replies.shift()?.(JSON.parse(line));
      }
    });
    let id = 0;
    const ask = (method: string, params: unknown) =>
      new Promise<{ result?: { content: Array<{ text: string }> } }>((answer) => {
        replies.push(answer);
        server.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params })}\n`);
      });
    await ask("initialize", { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "test", version: "1" } });
    server.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })}\n`);
    const list = async () => (await ask("tools/call", { name: "slash", arguments: { text: "/coord list" } })).result?.content[0]?.text;
    return { rebuild, list, stderr: () => stderr, stop: () => server.kill() };
  }

  it("a coord mcp started before a rebuild still answers with the commands it loads after it", async () => {
    const mcp = await mcpInACheckout();
    try {
      mcp.rebuild();
      expect(await mcp.list()).toMatch(/sales-marketing-alignment/);
      expect(mcp.stderr()).toBe("");
    } finally {
      mcp.stop();
    }
  });

  it("a server's internal error reaches its stderr, while the caller is told only that there was one", async () => {
    // A build from scratch under it takes away the chunk it has yet to load: a real failure, not a planted one.
    const mcp = await mcpInACheckout();
    try {
      mcp.rebuild("--fresh");
      expect(await mcp.list()).toBe("⚠️ internal error in coord\nFix: this is a bug in coord; please report it with what you ran");
      expect(mcp.stderr()).toMatch(/^coord mcp: internal error: Cannot find module '[^']+\/dist\/cli\/[\w-]+\.js'.* \(fix: this is a bug in coord; please report it with what you ran\)\n$/);
    } finally {
      mcp.stop();
    }
  });
});
