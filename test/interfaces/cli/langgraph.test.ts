import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { Client } from "@langchain/langgraph-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initLanggraph } from "../../../src/service/langgraph-project.js";
import { REPO, cliEnv, runCli, waitUntil } from "../../helpers/cli.js";
import { thrown } from "../../helpers/errors.js";
import { startFakeOpenAI, type FakeOpenAI } from "../../helpers/openai-server.js";
import { GROWTH_INPUTS, GROWTH_PLAN, runProject } from "../../helpers/project.js";

// The LangGraph dev server as users start it (`npx @langchain/langgraph-cli dev`), on loopback,
// over a project that `coord langgraph init` prepared, driven with LangGraph's own SDK.
const LANGGRAPH_CLI = join(REPO, "node_modules", ".bin", "langgraphjs");
const AGENTS = { analyst: {}, researcher: {}, seller: {}, planner: {} };
const GRAPH = "test-mission";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let fake: FakeOpenAI;
let project: string;
let server: ChildProcess;
let serverLog = "";
let client: Client;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  project = runProject({ mission: GROWTH_PLAN, agents: AGENTS, inputs: GROWTH_INPUTS });
  // The model and key as `coord run` reads them, from the project's .env.
  writeFileSync(join(project, ".env"), `COORD_MODEL=openai:gpt-4o-mini\nOPENAI_API_KEY=sk-test\nCOORD_BASE_URL=${fake.url}\n`);
  // The server resolves @langchain/langgraph from the project, as where coord is installed in it.
  symlinkSync(join(REPO, "node_modules"), join(project, "node_modules"), "dir");
  const init = await runCli(["langgraph", "init", "--approve"], { cwd: project });
  expect(init.code, init.stderr).toBe(0);
  expect(init.stderr).toBe("");

  const port = await freePort();
  server = spawn(process.execPath, [LANGGRAPH_CLI, "dev", "--no-browser", "--no-reload", "--host", "127.0.0.1", "--port", String(port)], {
    cwd: project,
    env: cliEnv({ LANGSMITH_TRACING: "false" }),
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  server.stdout!.on("data", (d: Buffer) => (serverLog += d.toString()));
  server.stderr!.on("data", (d: Buffer) => (serverLog += d.toString()));
  const apiUrl = `http://127.0.0.1:${port}`;
  let up = false;
  const poll = setInterval(() => {
    fetch(`${apiUrl}/ok`).then((res) => (up = res.ok), () => {});
  }, 200);
  try {
    await waitUntil(() => up, { timeoutMs: 90_000, child: { exitCode: server.exitCode, stderrText: () => serverLog } });
  } finally {
    clearInterval(poll);
  }
  client = new Client({ apiUrl });
}, 120_000);

afterAll(async () => {
  // The dev server runs its workers as children of its own: the whole group goes.
  if (server?.pid) {
    try {
      process.kill(-server.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  await fake?.close();
});

describe("coord langgraph init", () => {
  it("writes langgraph.json naming every mission's graph, and the module exporting them", () => {
    const config = JSON.parse(readFileSync(join(project, "langgraph.json"), "utf8")) as { graphs: Record<string, string>; env?: string };
    expect(config.graphs[GRAPH]).toBe("./coord-graphs.mjs:test_mission");
    expect(config.graphs["sales-marketing-alignment"]).toBe("./coord-graphs.mjs:sales_marketing_alignment");
    expect(config.env).toBe(".env");
    const module = readFileSync(join(project, "coord-graphs.mjs"), "utf8");
    expect(module).toMatch(/^\/\/ Written by `coord langgraph init`/);
    expect(module).toContain('export const test_mission = missionGraph("test-mission", { cwd, settings });');
    expect(module).toContain("const settings = { approve: true };");
  });

  it("keeps graphs that are not coord's and changes nothing when run again; refuses a module it did not write", async () => {
    const dir = runProject({ mission: GROWTH_PLAN, agents: AGENTS, inputs: {} });
    writeFileSync(join(dir, "langgraph.json"), JSON.stringify({ graphs: { mine: "./src/agent.ts:graph" }, dependencies: ["."] }));
    const first = await runCli(["langgraph", "init"], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^wrote coord-graphs\.mjs and langgraph\.json$/m);
    expect(first.stdout).toMatch(/test-mission +inputs: market-brief, sales-notes/);
    // This project has no node_modules: the server could not load the graphs' LangGraph from it.
    expect(first.stderr).toMatch(/loads @langchain\/langgraph from the project, which has none: install coord in it first/);
    const config = JSON.parse(readFileSync(join(dir, "langgraph.json"), "utf8")) as Record<string, unknown>;
    expect(config).toMatchObject({ dependencies: ["."], graphs: { mine: "./src/agent.ts:graph", "test-mission": "./coord-graphs.mjs:test_mission" } });
    expect(readFileSync(join(dir, "coord-graphs.mjs"), "utf8")).toContain("const settings = {};");

    const again = await runCli(["langgraph", "init"], { cwd: dir });
    expect(again.stdout).toMatch(/up to date/);

    writeFileSync(join(dir, "coord-graphs.mjs"), "export const graph = 1;\n");
    const refused = await runCli(["langgraph", "init"], { cwd: dir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/coord-graphs\.mjs.*not written by coord.*--force/s);
    expect((await runCli(["langgraph", "init", "--force"], { cwd: dir })).code).toBe(0);
  });

  it("names a broken langgraph.json and a missing agent, without a stack trace", async () => {
    const dir = runProject({ mission: GROWTH_PLAN, agents: { analyst: {} }, inputs: {} });
    writeFileSync(join(dir, "langgraph.json"), "{ graphs: ");
    const broken = await runCli(["langgraph", "init"], { cwd: dir });
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/^coord: langgraph\.json: not valid JSON: .*\(fix: fix its JSON syntax/);
    expect(existsSync(join(dir, "coord-graphs.mjs"))).toBe(false);

    writeFileSync(join(dir, "langgraph.json"), "{}");
    const partial = await runCli(["langgraph", "init"], { cwd: dir });
    expect(partial.code, partial.stderr).toBe(0);
    // The mission whose agents are missing is left out (it would stop the server starting), and said so.
    expect(partial.stderr).toMatch(/^coord: left out test-mission: .*"researcher"/m);
    expect(JSON.parse(readFileSync(join(dir, "langgraph.json"), "utf8")).graphs).not.toHaveProperty(GRAPH);
  });
  it("refuses a langgraph.json that is a named pipe or huge at once, and a half-written one is never left", async () => {
    const dir = runProject({ mission: GROWTH_PLAN, agents: AGENTS, inputs: {} });
    const config = join(dir, "langgraph.json");
    expect(spawnSync("mkfifo", [config]).status).toBe(0);
    const fifo = await runCli(["langgraph", "init"], { cwd: dir });
    expect(fifo.code).toBe(2);
    expect(fifo.stderr).toMatch(/langgraph\.json: not read: it is a named pipe/);
    rmSync(config);
    writeFileSync(config, `{"graphs": {}, "pad": "${"x".repeat(2 * 1024 * 1024)}"}`);
    const huge = await runCli(["langgraph", "init"], { cwd: dir });
    expect(huge.code).toBe(2);
    expect(huge.stderr).toMatch(/langgraph\.json: not read: .*over the 1 MB limit/);
    expect(existsSync(join(dir, "coord-graphs.mjs"))).toBe(false);
  });
});

describe("coord langgraph init, on names and files that get in its way", () => {
  it("gives a mission named like the module's own bindings or a reserved word a name of its own, so the module loads", async () => {
    const dir = runProject({ mission: GROWTH_PLAN, agents: AGENTS, inputs: {} });
    for (const id of ["settings", "class", "cwd", "2024-plan"]) writeFileSync(join(dir, "missions", `${id}.md`), GROWTH_PLAN);
    const init = await runCli(["langgraph", "init"], { cwd: dir });
    expect(init.code, init.stderr).toBe(0);
    const module = readFileSync(join(dir, "coord-graphs.mjs"), "utf8");
    for (const line of ['export const settings_2 = missionGraph("settings"', 'export const class_2 = missionGraph("class"', 'export const cwd_2 = missionGraph("cwd"', 'export const _2024_plan = missionGraph("2024-plan"']) {
      expect(module).toContain(line);
    }
    const check = spawnSync(process.execPath, ["--check", join(dir, "coord-graphs.mjs")], { encoding: "utf8" });
    expect(check.status, check.stderr).toBe(0);
  });

  it("keeps a graph of the user's own under a mission's id, and leaves the mission out, saying so", async () => {
    const dir = runProject({ mission: GROWTH_PLAN, agents: AGENTS, inputs: {} });
    // Written by hand without ./ : still recognised as coord's on the next init, so it is replaced.
    writeFileSync(join(dir, "langgraph.json"), `\ufeff${JSON.stringify({ graphs: { "test-mission": "./src/mine.ts:graph", "sales-marketing-alignment": "coord-graphs.mjs:old_name" } })}`);
    const init = await runCli(["langgraph", "init"], { cwd: dir });
    expect(init.code, init.stderr).toBe(0);
    expect(init.stderr).toMatch(/^coord: left out test-mission: langgraph\.json serves a graph of its own under that id, which is kept$/m);
    const graphs = (JSON.parse(readFileSync(join(dir, "langgraph.json"), "utf8")) as { graphs: Record<string, string> }).graphs;
    expect(graphs["test-mission"]).toBe("./src/mine.ts:graph");
    expect(graphs["sales-marketing-alignment"]).toBe("./coord-graphs.mjs:sales_marketing_alignment");
  });

  it("says in one line that it cannot write a file, with exit 2, and leaves the old one whole", async () => {
    const dir = runProject({ mission: GROWTH_PLAN, agents: AGENTS, inputs: {} });
    // The temporary file it writes through cannot be made: a folder holds its name (this holds for root too).
    mkdirSync(join(dir, `coord-graphs.mjs.${process.pid}.tmp`));
    const init = await runCli(["langgraph", "init"], { cwd: dir });
    expect(init.code).toBe(2);
    expect(init.stderr).toMatch(/^coord: coord-graphs\.mjs: cannot write: .*\(fix: run it where you may write the project's files\)\n$/);
    expect(existsSync(join(dir, "coord-graphs.mjs"))).toBe(false);
    expect(thrown(() => initLanggraph({ cwd: dir })).code).toBe("FILE_UNWRITABLE");
  });
});

describe("the missions served by the LangGraph dev server", () => {
  it("offers each mission as an assistant whose input schema names the mission's inputs", async () => {
    const assistants = await client.assistants.search({ graphId: GRAPH });
    expect(assistants).toHaveLength(1);
    const schemas = await client.assistants.getSchemas(assistants[0]!.assistant_id);
    const inputs = (schemas.input_schema as { properties: { inputs: { properties: Record<string, { description: string }> } } }).properties.inputs.properties;
    expect(Object.keys(inputs)).toEqual(["market-brief", "sales-notes"]);
    expect(inputs["market-brief"]!.description).toBe("the market brief (required)");
  });

  it("runs a thread to each approval, redoes a phase rejected with a note, and ends with every deliverable and the criteria checked", async () => {
    const thread = await client.threads.create();
    const asked = fake.requests.length;
    const first = (await client.runs.wait(thread.thread_id, GRAPH, { input: { inputs: GROWTH_INPUTS } })) as Record<string, unknown>;
    const interrupt = (first.__interrupt__ as Array<{ value: { phase: number; deliverables: string[] } }>)[0]!;
    expect(interrupt.value).toMatchObject({ phase: 1, deliverables: ["Churn analysis", "Stall analysis"] });
    // The agents worked through the model the project's .env names.
    expect(fake.requests.length).toBeGreaterThan(asked);

    await client.runs.wait(thread.thread_id, GRAPH, { command: { resume: { action: "reject", note: "Quote the churn figure" } } });
    let state = await client.threads.getState<{ approvals: Record<string, { action: string; note?: string }> }>(thread.thread_id);
    expect(state.next).toEqual(["p1_review"]);
    expect(Object.values(state.values.approvals)).toMatchObject([{ phase: 1, action: "reject", note: "Quote the churn figure" }]);
    // The lead wrote the phase again with the note in its request.
    expect(fake.requests.some((q) => JSON.stringify(q.body).includes("Quote the churn figure"))).toBe(true);

    await client.runs.wait(thread.thread_id, GRAPH, { command: { resume: { action: "approve" } } });
    await client.runs.wait(thread.thread_id, GRAPH, { command: { resume: { action: "approve" } } });
    state = await client.threads.getState(thread.thread_id);
    expect(state.next).toEqual([]);
    const values = state.values as unknown as { deliverables: Record<string, Record<string, string>>; criteria: Array<{ verdict: string }> };
    expect(Object.keys(values.deliverables)).toEqual(["1", "2"]);
    expect(Object.keys(values.deliverables["2"]!)).toEqual(["Onboarding plan"]);
    expect(values.criteria.length).toBeGreaterThan(0);
  });

  it("streams each step's update as it finishes", async () => {
    const thread = await client.threads.create();
    const nodes = new Set<string>();
    for await (const chunk of client.runs.stream(thread.thread_id, GRAPH, { input: { inputs: GROWTH_INPUTS }, streamMode: "updates" })) {
      if (chunk.event === "updates") for (const node of Object.keys(chunk.data as object)) nodes.add(node);
    }
    expect([...nodes]).toEqual(expect.arrayContaining(["p1_support_researcher", "p1_support_seller", "p1_lead"]));
  });

  it("refuses input that is not the mission's, and names a missing input", async () => {
    const thread = await client.threads.create();
    const run = await client.runs.create(thread.thread_id, GRAPH, { input: { inputs: { "market-brief": "x" } } });
    await client.runs.join(thread.thread_id, run.run_id);
    const done = await client.runs.get(thread.thread_id, run.run_id);
    expect(done.status).toBe("error");
    expect(serverLog).toMatch(/INPUT_MISSING|missing required input.*sales-notes/);
  });
});
