import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it, onTestFinished } from "vitest";
import type { RunQueue } from "../../../src/runtime/store/run-store.js";
import { SqliteRunStore } from "../../../src/runtime/store/sqlite-store.js";
import { tempProject } from "../../helpers/cli.js";

/** A project's store on the test's clock, closed when the test finishes. */
function storeOf(home: string, clock?: () => number): SqliteRunStore {
  const store = new SqliteRunStore(home, clock);
  onTestFinished(() => store.close());
  return store;
}

/** Two handles on one project's queue, as two worker processes have, with a clock the test moves. */
function queues(): { a: RunQueue; b: RunQueue; advance: (ms: number) => number } {
  const home = join(tempProject(), ".coord");
  let now = 1_000_000;
  const clock = () => now;
  return { a: storeOf(home, clock).queue, b: storeOf(home, clock).queue, advance: (ms: number) => (now += ms) };
}

describe("SqliteRunQueue", () => {
  it("hands each queued run to one worker only, oldest first", async () => {
    const { a, b, advance } = queues();
    await a.enqueue("first");
    advance(1);
    await a.enqueue("second");
    const one = await a.claim("w1", 30_000);
    const two = await b.claim("w2", 30_000);
    expect([one?.runId, two?.runId]).toEqual(["first", "second"]);
    expect(await a.claim("w1", 30_000)).toBeUndefined();
    expect(await b.queued()).toEqual([]);
  });

  it("lets another worker take a run over once its lease runs out, with a higher fence the first can no longer renew", async () => {
    const { a, b, advance } = queues();
    await a.enqueue("r");
    const first = (await a.claim("w1", 1000))!;
    advance(500);
    expect(await a.renew(first, 1000)).toBe(true);
    expect(await a.holds(first)).toBe(true);
    advance(1001);
    expect(await a.holds(first)).toBe(false);
    const second = (await b.claim("w2", 1000))!;
    expect(second.runId).toBe("r");
    expect(second.fence).toBeGreaterThan(first.fence);
    expect(await a.renew(first, 1000)).toBe(false);
    expect(await b.holds(second)).toBe(true);
    // The first worker finishing late changes nothing: the run is the second's.
    await a.finish(first);
    expect(await b.holds(second)).toBe(true);
  });

  it("makes a finished run claimable again only when it is queued again (an approval, a resume)", async () => {
    const { a, b } = queues();
    await a.enqueue("r");
    const lease = (await a.claim("w1", 1000))!;
    await a.finish(lease);
    expect(await b.claim("w2", 1000)).toBeUndefined();
    await b.enqueue("r");
    expect((await b.claim("w2", 1000))?.runId).toBe("r");
  });

  it("takes the first decision on a paused run and refuses a second while it is queued or worked on", async () => {
    const { a, b } = queues();
    expect(await a.decide("paused", { action: "reject", note: "more numbers" })).toBe(true);
    expect(await b.decide("paused", { action: "approve" })).toBe(false);
    const lease = (await b.claim("w", 1000))!;
    expect(lease.decision).toEqual({ action: "reject", note: "more numbers" });
    expect(await a.decide("paused", { action: "approve" })).toBe(false);
    await b.finish(lease);
    expect(await a.decide("paused", { action: "approve" })).toBe(true);
  });

  it("brings a queue file of the first schema up to date by itself, keeping its runs", async () => {
    const home = join(tempProject(), ".coord");
    mkdirSync(home, { recursive: true });
    const old = new Database(join(home, "checkpoints.sqlite"));
    old.exec("CREATE TABLE coord_jobs (run_id TEXT PRIMARY KEY, state TEXT NOT NULL, worker TEXT, lease_until INTEGER, fence INTEGER NOT NULL DEFAULT 0, queued_at INTEGER NOT NULL)");
    old.exec("CREATE TABLE coord_queue_version (version INTEGER NOT NULL); INSERT INTO coord_queue_version VALUES (1)");
    old.prepare("INSERT INTO coord_jobs (run_id, state, queued_at) VALUES ('kept', 'queued', 1)").run();
    old.close();
    const queue = storeOf(home).queue;
    expect(await queue.queued()).toEqual(["kept"]);
    expect(await queue.decide("other", { action: "approve" })).toBe(true);
    expect((await queue.claim("w", 1000))?.runId).toBe("kept");
  });
});
