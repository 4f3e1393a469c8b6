import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli.js";
import { GROWTH_INPUTS, GROWTH_PLAN, runProject } from "../../helpers/project.js";

const AGENTS = { analyst: {}, researcher: {}, seller: {}, planner: {} };

/** A project whose `clients/` holds one inputs folder per client, each with its own churn figure. */
function clientsProject(clients: Record<string, string>): string {
  const cwd = runProject({ mission: GROWTH_PLAN, agents: AGENTS, inputs: {} });
  const files: Record<string, string> = {};
  for (const [client, churn] of Object.entries(clients)) {
    files[`clients/${client}/market-brief.md`] = GROWTH_INPUTS["market-brief"].replace("14%", churn);
    files[`clients/${client}/sales-notes.md`] = GROWTH_INPUTS["sales-notes"];
  }
  for (const [path, text] of Object.entries(files)) {
    const full = join(cwd, path);
    mkdirSync(join(full, ".."), { recursive: true });
    writeFileSync(full, text);
  }
  return cwd;
}

describe("coord batch", () => {
  it("runs the mission once per subfolder of --inputs-each and reports every run in a table", async () => {
    const cwd = clientsProject({ acme: "11%", globex: "22%", initech: "33%" });
    const r = await runCli(["batch", "test-mission", "--inputs-each", "clients", "--max-parallel", "2", "--json"], { cwd });
    expect(r.code, r.stderr).toBe(0);
    const records = JSON.parse(r.stdout) as Array<{ runId: string; status: string; runDir: string }>;
    expect(records.map((x) => x.status)).toEqual(["completed", "completed", "completed"]);
    // Each run read its own client's inputs.
    records.forEach((record, i) => {
      const churn = ["11%", "22%", "33%"][i]!;
      const text = readdirSync(join(record.runDir, "deliverables")).map((f) => readFileSync(join(record.runDir, "deliverables", f), "utf8")).join("\n");
      expect(text).toContain(churn);
    });
    const table = await runCli(["batch", "test-mission", "--inputs-each", "clients", "--quiet"], { cwd });
    expect(table.stdout.split("\n")[0]).toMatch(/^RUN\s+INPUTS\s+STATUS\s+TOKENS$/);
    expect(table.stdout).toMatch(/acme\s+completed/);
  }, 60_000);

  it("checks every run before queuing any: a subfolder missing an input stops the batch with nothing queued", async () => {
    const cwd = clientsProject({ acme: "11%", globex: "22%" });
    rmSync(join(cwd, "clients", "globex", "sales-notes.md"));
    const r = await runCli(["batch", "test-mission", "--inputs-each", "clients"], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("missing required input: sales-notes");
    expect(existsSync(join(cwd, ".coord", "runs")) ? readdirSync(join(cwd, ".coord", "runs")).filter((f) => f.endsWith(".json")) : []).toEqual([]);
  });

  it("names a missing or empty --inputs-each folder as a user error", async () => {
    const cwd = clientsProject({});
    expect((await runCli(["batch", "test-mission", "--inputs-each", "nowhere"], { cwd })).stderr).toContain("--inputs-each nowhere is not a folder");
    const empty = await runCli(["batch", "test-mission", "--inputs-each", "agents"], { cwd });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("has no subfolders");
  });
});
