import pg from "pg";
import { describe, expect, it } from "vitest";
import { parseDatabaseUrl, PostgresRunStore } from "../../../src/runtime/store/postgres-store.js";
import { tempProject } from "../../helpers/cli.js";
import { postgresSchemaUrl } from "../../helpers/postgres.js";

/** Two handles on one queue, each with a pool of its own, as two worker machines have. */
async function queues() {
  const url = postgresSchemaUrl();
  const a = await PostgresRunStore.open(tempProject(), `${url}&application_name=worker-a`);
  const b = await PostgresRunStore.open(tempProject(), `${url}&application_name=worker-b`);
  return { a: a.queue, b: b.queue, storeA: a, url };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("the postgres queue", () => {
  it("hands each queued run to one worker only, oldest first", async () => {
    const { a, b } = await queues();
    await a.enqueue("first");
    await a.enqueue("second");
    const [one, two] = [await a.claim("w1", 30_000), await b.claim("w2", 30_000)];
    expect([one?.runId, two?.runId]).toEqual(["first", "second"]);
    expect(await a.claim("w1", 30_000)).toBeUndefined();
    expect(await b.queued()).toEqual([]);
  });

  it("never leases one run twice when many workers claim at once", async () => {
    const { a, b } = await queues();
    const ids = Array.from({ length: 20 }, (_, i) => `run-${String(i).padStart(2, "0")}`);
    for (const id of ids) await a.enqueue(id);
    const claims = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).claim(`w${i}`, 30_000)));
    const taken = claims.filter((c) => c).map((c) => c!.runId);
    expect(taken.sort()).toEqual(ids);
  });

  it("lets another worker take a run over once its lease runs out (on the database's clock), with a higher fence", async () => {
    const { a, b } = await queues();
    await a.enqueue("r");
    const first = (await a.claim("w1", 300))!;
    expect(await a.renew(first, 300)).toBe(true);
    expect(await b.claim("w2", 300)).toBeUndefined();
    await sleep(400);
    expect(await a.holds(first)).toBe(false);
    const second = (await b.claim("w2", 30_000))!;
    expect(second.runId).toBe("r");
    expect(second.fence).toBeGreaterThan(first.fence);
    expect(await a.renew(first, 300)).toBe(false);
    // The first worker finishing late changes nothing: the run is the second's.
    await a.finish(first);
    expect(await b.holds(second)).toBe(true);
    expect(await b.isActive("r")).toBe(true);
    await b.finish(second);
    expect(await b.isActive("r")).toBe(false);
  });

  it("takes the first decision on a paused run and refuses a second while it is queued or worked on", async () => {
    const { a, b } = await queues();
    expect(await a.decide("paused", { action: "reject", note: "more numbers" })).toBe(true);
    expect(await b.decide("paused", { action: "approve" })).toBe(false);
    const lease = (await b.claim("w", 30_000))!;
    expect(lease.decision).toEqual({ action: "reject", note: "more numbers" });
    expect(await a.decide("paused", { action: "approve" })).toBe(false);
    await b.finish(lease);
    expect(await a.decide("paused", { action: "approve" })).toBe(true);
    expect(await a.forget("paused")).toBe(false);
  });

  it("tells listening workers at once when a run is queued", async () => {
    const { a, storeA } = await queues();
    let heard = 0;
    const stop = await storeA.listen(() => heard++);
    try {
      await a.enqueue("wake-up");
      for (let i = 0; i < 50 && heard === 0; i++) await sleep(20);
      expect(heard).toBeGreaterThan(0);
    } finally {
      await stop();
    }
  });

  it("keeps its tables in the URL's schema, leaving the rest of the database alone", async () => {
    const { url } = await queues();
    const { connectionString, schema } = parseDatabaseUrl(url);
    const client = new pg.Client({ connectionString });
    await client.connect();
    try {
      const { rows } = await client.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name", [schema]);
      expect(rows.map((r) => r.table_name)).toEqual(["checkpoint_blobs", "checkpoint_migrations", "checkpoint_writes", "checkpoints", "coord_jobs", "coord_runs", "coord_schema_version"]);
    } finally {
      await client.end();
    }
  });
});
