import { describe, expect, it } from "vitest";
import { runCli, tempProject } from "../../helpers/cli.js";
import { GROWTH_INPUTS, GROWTH_PLAN, runProject } from "../../helpers/project.js";

const AGENTS = { analyst: {}, researcher: {}, seller: {}, planner: {} };

/** One line on stderr, no stack, exit code as given: coord's error voice for a flag it cannot use. */
function expectOneLine(r: { code: number; stderr: string }, code: number, text: string): void {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stderr).toContain(text);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe("coord run's flags for issue #12 and #13", () => {
  it("refuses a --deliverables, --context-tokens or --max-redos it cannot use, before any step, naming the flag", async () => {
    const cwd = runProject({ mission: GROWTH_PLAN, agents: AGENTS, inputs: GROWTH_INPUTS });
    const base = ["run", "test-mission", "--inputs", "inputs"];
    expectOneLine(await runCli([...base, "--deliverables", "all-at-once"], { cwd }), 2, '--deliverables must be parallel or one-call, not "all-at-once"');
    expectOneLine(await runCli([...base, "--context-tokens", "lots"], { cwd }), 2, '--context-tokens must be a whole number of 1 or more, not "lots"');
    expectOneLine(await runCli([...base, "--max-redos", "-1"], { cwd }), 2, '--max-redos must be a whole number of 1 or more, not "-1"');
    expectOneLine(await runCli([...base, "--judge-model", "nope"], { cwd }), 2, "nope");
    // Phase 1's supports and its lead's plan start together: whichever asks first is refused.
    const small = await runCli([...base, "--context-tokens", "500"], { cwd });
    expectOneLine(small, 1, "phase 1's request to ");
    expect(small.stderr).toMatch(/request to (researcher|seller|analyst) needs about \d+ tokens/);
  });

  it("takes --deliverables one-call and --max-redos 0 (gates that pause at once)", async () => {
    const cwd = runProject({ mission: GROWTH_PLAN, agents: AGENTS, inputs: GROWTH_INPUTS });
    const r = await runCli(["run", "test-mission", "--inputs", "inputs", "--deliverables", "one-call", "--gate", "--max-redos", "0", "--json"], { cwd });
    expect([0, 3]).toContain(r.code);
    const record = JSON.parse(r.stdout) as { phases: Array<{ calls: Array<{ role: string; attempts: number }> }> };
    expect(record.phases[0]!.calls.filter((c) => c.role === "lead").map((c) => c.attempts)).toEqual([1]);
  });
});

describe("--db and COORD_DATABASE_URL", () => {
  it("refuses a URL that is not postgres:// with one line and exit 2, and names an unreachable database without its password, exit 1", async () => {
    const cwd = tempProject();
    expectOneLine(await runCli(["runs", "list", "--db", "mysql://127.0.0.1/x"], { cwd }), 2, 'the database URL "mysql://127.0.0.1/x" cannot be used');
    const unreachable = await runCli(["runs", "list"], { cwd, env: { COORD_DATABASE_URL: "postgres://coord:hunter2@127.0.0.1:1/none" } });
    expectOneLine(unreachable, 1, "cannot reach the database at postgres://coord:***@127.0.0.1:1/none");
    expect(unreachable.stderr).not.toContain("hunter2");
  });
});
