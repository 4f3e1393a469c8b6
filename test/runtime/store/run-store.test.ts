import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterEach, describe, expect, inject, it } from "vitest";
import { exportRun } from "../../../src/runtime/export.js";
import { getRun, listRuns, resumeRun, runMission } from "../../../src/runtime/run.js";
import { readSavedRun } from "../../../src/runtime/saved-run.js";
import { loadSpec } from "../../../src/runtime/store/specs.js";
import { openStore } from "../../../src/runtime/store/open-store.js";
import { parseDatabaseUrl } from "../../../src/runtime/store/postgres-store.js";
import type { RunStore } from "../../../src/runtime/store/run-store.js";
import { tempProject } from "../../helpers/cli.js";
import { rejection } from "../../helpers/errors.js";
import { postgresSchemaUrl } from "../../helpers/postgres.js";
import { GROWTH_INPUTS, GROWTH_PLAN, runProject } from "../../helpers/project.js";

const AGENTS = { analyst: {}, researcher: {}, seller: {}, planner: {} };

/** Both stores, as a project's settings choose them: SQLite under .coord/, or a Postgres schema of the test's own. */
const BACKENDS = [
  { kind: "sqlite", database: () => undefined },
  { kind: "postgres", database: () => postgresSchemaUrl() },
] as const;

const opened: RunStore[] = [];
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
});

async function open(cwd: string, database: string | undefined): Promise<RunStore> {
  const store = await openStore(cwd, { home: ".coord", ...(database && { database }) });
  opened.push(store);
  return store;
}

describe.each(BACKENDS)("the $kind store", ({ kind, database }) => {
  it("keeps a whole run: spec, record, checkpoints; show, list and export read it back", async () => {
    const cwd = runProject({ mission: GROWTH_PLAN, agents: AGENTS, inputs: GROWTH_INPUTS });
    const settings = { ...(database() && { database: database()! }) };
    const db = settings.database;
    const outcome = await runMission({ cwd, mission: "test-mission", inputsDir: join(cwd, "inputs"), runId: "whole", settings: { ...(db && { database: db }) } });
    expect(outcome.record.status).toBe("completed");

    const store = await open(cwd, db);
    expect(store.kind).toBe(kind);
    const spec = await loadSpec(store, "whole");
    expect(spec.mission.title).toBe(outcome.record.title);
    // The database URL is the process's, never kept with a run: it may hold a password.
    expect(JSON.stringify(spec)).not.toContain("coord_t_");
    expect((await getRun("whole", { cwd, settings: { ...(db && { database: db }) } })).status).toBe("completed");
    expect((await listRuns({ cwd, settings: { ...(db && { database: db }) } })).map((r) => r.runId)).toEqual(["whole"]);

    const { state, stop } = await readSavedRun(store, spec);
    expect(stop.status).toBe("completed");
    expect(Object.keys(state.deliverables)).toHaveLength(2);

    const out = join(tempProject(), "out");
    const exported = await exportRun(store, "whole", { outDir: out });
    expect(exported.files).toContain("report.md");
    for (const file of exported.files) expect(existsSync(join(out, file)), file).toBe(true);
    const original = readFileSync(join(cwd, "runs", "whole", outcome.record.phases[1]!.deliverables[0]!.file), "utf8");
    expect(readFileSync(join(out, outcome.record.phases[1]!.deliverables[0]!.file), "utf8")).toBe(original);
  });

  it("pauses for approval and continues from the store with the decision, running no finished step again", async () => {
    const cwd = runProject({ mission: GROWTH_PLAN, agents: AGENTS, inputs: GROWTH_INPUTS });
    const db = database();
    const settings = { approve: true, ...(db && { database: db }) };
    const first = await runMission({ cwd, mission: "test-mission", inputsDir: join(cwd, "inputs"), runId: "paused", settings });
    expect(first.record.status).toBe("paused");
    expect(first.record.phases.map((p) => p.status)).toEqual(["awaiting-approval", "pending"]);
    const steps: string[] = [];
    const second = await resumeRun("paused", { cwd, settings, decision: { action: "approve" }, onEvent: (e) => void (e.type === "step" && e.state === "start" && steps.push(`${e.phase}/${e.agent}`)) });
    expect(second.record.phases.map((p) => p.status)).toEqual(["completed", "awaiting-approval"]);
    expect(steps.every((s) => s.startsWith("2/"))).toBe(true);
    expect(steps.length).toBeGreaterThan(0);
    const store = await open(cwd, db);
    expect((await store.readRecord(await loadSpec(store, "paused")))?.approvals?.[0]).toMatchObject({ phase: 1, action: "approve" });
  });

  it("keeps only a finished run's last checkpoint, which still reads whole", async () => {
    const cwd = runProject({ mission: GROWTH_PLAN, agents: AGENTS, inputs: GROWTH_INPUTS });
    const db = database();
    await runMission({ cwd, mission: "test-mission", inputsDir: join(cwd, "inputs"), runId: "compact", settings: { ...(db && { database: db }) } });
    const store = await open(cwd, db);
    const saver = await store.checkpointer();
    const history = [];
    for await (const tuple of saver.list({ configurable: { thread_id: "compact" } })) history.push(tuple);
    // Compacted when the run finished: one checkpoint per namespace is left.
    expect(history).toHaveLength(1);
    expect(await store.dropHistory("compact")).toEqual({ checkpoints: 0, writes: 0 });
    const { state } = await readSavedRun(store, await loadSpec(store, "compact"));
    expect(Object.values(state.deliverables[2] ?? {}).every((text) => text.length > 0)).toBe(true);
  });

  it("keeps who started a run from a chat, and forgets everything of a run it deletes", async () => {
    const cwd = runProject({ mission: GROWTH_PLAN, agents: AGENTS, inputs: GROWTH_INPUTS });
    const db = database();
    await runMission({ cwd, mission: "test-mission", inputsDir: join(cwd, "inputs"), runId: "owned", settings: { ...(db && { database: db }) } });
    const store = await open(cwd, db);
    await store.saveOwner("owned", { slackUser: "U123", responseUrl: "https://hooks.slack.com/x" });
    expect(await store.readOwner("owned")).toEqual({ slackUser: "U123", responseUrl: "https://hooks.slack.com/x" });
    await store.deleteRun("owned");
    expect(await store.findSpec("owned")).toBeUndefined();
    expect(await store.readOwner("owned")).toEqual({});
    expect(await (await store.checkpointer()).getTuple({ configurable: { thread_id: "owned" } })).toBeUndefined();
    expect((await rejection(loadSpec(store, "owned"))).code).toBe("RUN_NOT_FOUND");
  });
});

describe("the postgres store", () => {
  it("lets a run started in one project folder be shown from any other: nothing is read from files", async () => {
    const db = postgresSchemaUrl();
    const cwd = runProject({ mission: GROWTH_PLAN, agents: AGENTS, inputs: GROWTH_INPUTS });
    await runMission({ cwd, mission: "test-mission", inputsDir: join(cwd, "inputs"), runId: "shared", settings: { database: db } });
    const elsewhere = tempProject();
    const record = await getRun("shared", { cwd: elsewhere, settings: { database: db } });
    expect(record.status).toBe("completed");
    expect((await rejection(getRun("shared", { cwd: elsewhere }))).code).toBe("RUN_NOT_FOUND");
  });

  it("lets only one of two machines approve the same paused run at once; the other is told it is busy", async () => {
    const db = postgresSchemaUrl();
    const cwd = runProject({ mission: GROWTH_PLAN, agents: AGENTS, inputs: GROWTH_INPUTS });
    await runMission({ cwd, mission: "test-mission", inputsDir: join(cwd, "inputs"), runId: "contested", settings: { database: db, approve: true } });
    // Two project folders, two lock files: only the database can tell the two apart.
    const machines = [cwd, tempProject()];
    const results = await Promise.allSettled(machines.map((folder) => resumeRun("contested", { cwd: folder, settings: { database: db }, decision: { action: "approve" } })));
    const busy = results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason as { code: string; message: string });
    expect(busy.map((e) => e.code)).toEqual(["RUN_BUSY"]);
    expect(busy[0]!.message).toContain("on another machine");
    const record = await getRun("contested", { cwd, settings: { database: db } });
    expect(record.approvals?.map((a) => a.phase)).toEqual([1]);
  });

  it("brings a database up to date by itself when many processes open it at once", async () => {
    const db = postgresSchemaUrl();
    const { connectionString, schema } = parseDatabaseUrl(db);
    // Four pools of their own (a process keeps one per URL), as four processes starting together would have.
    const { PostgresRunStore, closePostgresPools } = await import("../../../src/runtime/store/postgres-store.js");
    const stores = await Promise.all([1, 2, 3, 4].map((n) => PostgresRunStore.open(tempProject(), `${db}&application_name=coord-test-${n}`)));
    expect(stores).toHaveLength(4);
    const client = new pg.Client({ connectionString });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT version FROM "${schema}".coord_schema_version`);
      expect(rows).toEqual([{ version: 1 }]);
    } finally {
      await client.end();
      await closePostgresPools();
    }
  });

  it("says which database it cannot reach, without its password, and stops in time", async () => {
    const error = await rejection(openStore(tempProject(), { home: ".coord", database: "postgres://coord:secret@127.0.0.1:1/nowhere" }));
    expect(error.code).toBe("DATABASE_UNREACHABLE");
    expect(error.message).toContain("postgres://coord:***@127.0.0.1:1/nowhere");
    expect(error.message).not.toContain("secret");
  });

  it("refuses a database URL it cannot use with a one-line fix", async () => {
    for (const url of ["mysql://127.0.0.1/x", "not a url", `${inject("postgresUrl")}?schema=a;drop`]) {
      const error = await rejection(openStore(tempProject(), { home: ".coord", database: url }));
      expect(error.code, url).toBe("CONFIG_INVALID");
      expect(error.hint).toContain("postgres://");
    }
  });
});
