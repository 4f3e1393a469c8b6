import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BIN, runBinAsync, runCli, tempProject } from "../../helpers/cli.js";
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

describe("the bundled command", () => {
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
    expect(result.stderr).toBe("coord: coord is not built: dist/cli/main.js is missing (fix: run `npm install`, or `npm run build`, in coord's folder)\n");
  });
});
