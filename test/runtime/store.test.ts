import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseAgent } from "../../src/definitions/agent.js";
import { parseMission } from "../../src/definitions/mission.js";
import { SettingsSchema } from "../../src/definitions/schemas/settings.js";
import { lockFile, specFile } from "../../src/runtime/paths.js";
import { checkRunId, homeDir, newRunId, type RunSpec } from "../../src/runtime/store.js";
import { loadSpec, saveSpec } from "../../src/runtime/store/specs.js";
import { SqliteRunStore } from "../../src/runtime/store/sqlite-store.js";
import { agentText, readFixture, tempDir } from "../definitions/fixtures.js";
import { rejection, thrown } from "../helpers/errors.js";

function specOf(runId: string, cwd: string): RunSpec {
  const { file, text } = readFixture("units", "growth-plan.md");
  const settings = SettingsSchema.parse({
    models: { default: "openai:gpt-4o-mini" },
    mcpServers: { docs: { command: "docs-server", env: { DOCS_TOKEN: "tok-secret-123" } }, wiki: { url: "https://wiki.example/mcp", headers: { Authorization: "Bearer wiki-secret-456" } } },
  });
  return {
    runId,
    mission: parseMission(text, file).mission!,
    agents: [parseAgent(agentText("analyst"), join(cwd, "agents", "analyst.md")).agent!],
    inputs: { "market-brief": "Churn is 14%.", "sales-notes": "Deals stall." },
    inputSources: { "market-brief": "inputs/market-brief.md", "sales-notes": "--input" },
    extra: [{ name: "pricing.csv", text: "plan,price" }],
    notProvided: ["brand-voice"],
    runDir: join(cwd, "runs", runId),
    inputsDir: join(cwd, "inputs"),
    cwd,
    model: "openai:gpt-4o-mini",
    settings,
    startedAt: "2026-01-01T00:00:00.000Z",
  };
}

describe("run ids", () => {
  it("are refused with RUN_ID_INVALID when they could point outside the runs folder, or are empty or too long", () => {
    for (const id of ["../x", "a/b", "", "x".repeat(129), "a\\b", "a..b", ".hidden", "-flag", "two words"]) {
      const error = thrown(() => checkRunId(id));
      expect(error.code, id).toBe("RUN_ID_INVALID");
      expect(error.hint).toBe("use letters, digits, '.', '_' and '-' only");
    }
  });

  it("may be any plain name up to 128 characters", () => {
    for (const id of ["a", "growth-plan-20260101-000000-ab12", "v1.2_final", "x".repeat(128)]) expect(() => checkRunId(id), id).not.toThrow();
  });

  it("are checked before loadSpec looks for the run, so no path is ever built from a bad one", async () => {
    const home = tempDir("coord-store-");
    writeFileSync(join(home, "x.json"), "{}");
    const store = new SqliteRunStore(home);
    expect((await rejection(loadSpec(store, "../x"))).code).toBe("RUN_ID_INVALID");
    await store.close();
  });

  it("made from a mission id with spaces, other scripts or dots are plain", () => {
    const now = new Date("2026-03-04T05:06:07.890Z");
    const cases: Array<[string, RegExp]> = [
      ["Growth Plan", /^Growth-Plan-20260304-050607-[a-z0-9]{1,4}$/],
      ["市场 框架", /^run-20260304-050607-[a-z0-9]{1,4}$/],
      ["Café launch 2.0", /^Caf-launch-2\.0-20260304-050607-[a-z0-9]{1,4}$/],
      ["../../etc/passwd", /^etc-passwd-20260304-050607-[a-z0-9]{1,4}$/],
      ["a..b...c.", /^a\.b\.c-20260304-050607-[a-z0-9]{1,4}$/],
      ["...", /^run-20260304-050607-[a-z0-9]{1,4}$/],
      ["", /^run-20260304-050607-[a-z0-9]{1,4}$/],
    ];
    for (const [mission, shape] of cases) {
      const id = newRunId(mission, now);
      expect(id, mission).toMatch(shape);
      expect(() => checkRunId(id), mission).not.toThrow();
    }
  });

  it("made from any mission id are valid", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 80 }), (mission) => {
        checkRunId(newRunId(mission));
      }),
      { numRuns: 100 },
    );
  });

  it("of the same mission sort by start time", () => {
    const times = ["2026-01-02T03:04:05Z", "2026-01-10T00:00:00Z", "2026-11-01T23:59:59Z", "2027-01-01T00:00:00Z"].map((t) => new Date(t));
    const ids = times.map((t) => newRunId("Growth Plan", t));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("stay within 128 characters for a very long mission id", () => {
    const id = newRunId("a".repeat(500));
    expect(id.length).toBeLessThanOrEqual(128);
    expect(() => checkRunId(id)).not.toThrow();
  });
});

describe("run specs", () => {
  it("are saved and loaded back, with the MCP servers left out since they may hold tokens", async () => {
    const cwd = tempDir("coord-store-");
    const home = homeDir(cwd, { home: ".coord" });
    const store = new SqliteRunStore(home);
    const spec = specOf("growth-plan-1", cwd);
    await saveSpec(store, spec);
    const text = readFileSync(specFile(home, spec.runId), "utf8");
    expect(text).not.toContain("tok-secret-123");
    expect(text).not.toContain("wiki-secret-456");
    expect(await loadSpec(store, spec.runId)).toEqual({ ...spec, settings: { ...spec.settings, mcpServers: {} } });
    // The caller's spec is left as it was.
    expect(Object.keys(spec.settings.mcpServers)).toEqual(["docs", "wiki"]);
    await store.close();
  });

  it("are listed by run id, sorted, ignoring the lock files beside them", async () => {
    const home = join(tempDir("coord-store-"), ".coord");
    const store = new SqliteRunStore(home);
    expect(await store.runIds()).toEqual([]);
    for (const id of ["b-run", "a-run", "c-run"]) await saveSpec(store, specOf(id, home));
    writeFileSync(lockFile(home, "a-run"), "123");
    expect(await store.runIds()).toEqual(["a-run", "b-run", "c-run"]);
    await store.close();
  });

  it("that do not exist fail with RUN_NOT_FOUND, suggesting close run ids to the CLI and to remote callers", async () => {
    const home = join(tempDir("coord-store-"), ".coord");
    const store = new SqliteRunStore(home);
    await saveSpec(store, specOf("growth-plan-20260101-000000-ab12", home));
    const error = await rejection(loadSpec(store, "growth-plan-20260101-000000-ab13"));
    expect(error.code).toBe("RUN_NOT_FOUND");
    expect(error.message).toBe(`no run "growth-plan-20260101-000000-ab13" in ${home}`);
    expect(error.hint).toBe("did you mean growth-plan-20260101-000000-ab12?");
    expect(error.hints.remote).toBe("did you mean growth-plan-20260101-000000-ab12?");
    await store.close();
  });

  it("that do not exist, with no close run id, say where to look, differently for the CLI and remote callers", async () => {
    const home = join(tempDir("coord-store-"), ".coord");
    const store = new SqliteRunStore(home);
    const error = await rejection(loadSpec(store, "nothing-like-it"));
    expect(error.code).toBe("RUN_NOT_FOUND");
    expect(error.hint).toContain("coord runs list");
    expect(error.hints.remote).not.toContain("coord");
    expect(existsSync(home)).toBe(false);
    await store.close();
  });

  it("written by an older coord, without settings, are refused as RUN_NOT_FOUND naming the run", async () => {
    const home = join(tempDir("coord-store-"), ".coord");
    const store = new SqliteRunStore(home);
    const { settings: _settings, ...old } = specOf("old-run", home);
    await saveSpec(store, specOf("old-run", home));
    writeFileSync(specFile(home, "old-run"), JSON.stringify(old));
    const error = await rejection(loadSpec(store, "old-run"));
    expect(error.code).toBe("RUN_NOT_FOUND");
    expect(error.message).toBe('run "old-run" was started by an older coord and cannot be continued by this one');
    expect(error.file).toBeUndefined();
    expect(error.hint).toBe("start the mission again");
    await store.close();
  });

  it("live under the project's home folder, or an absolute one as given", () => {
    const cwd = tempDir("coord-store-");
    expect(homeDir(cwd, { home: ".coord" })).toBe(join(cwd, ".coord"));
    expect(homeDir(cwd, { home: "/var/lib/coord" })).toBe("/var/lib/coord");
  });
});
