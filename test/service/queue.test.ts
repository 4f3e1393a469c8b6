import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { RunQueue } from "../../src/service/queue.js";
import { tempProject } from "../helpers/cli.js";

/** Two handles on one project's queue, as two worker processes have, with a clock the test moves. */
function queues() {
  const home = join(tempProject(), ".coord");
  let now = 1_000_000;
  const clock = () => now;
  return { a: new RunQueue(home, clock), b: new RunQueue(home, clock), advance: (ms: number) => (now += ms) };
}

describe("RunQueue", () => {
  it("hands each queued run to one worker only, oldest first", () => {
    const { a, b, advance } = queues();
    a.enqueue("first");
    advance(1);
    a.enqueue("second");
    const one = a.claim("w1", 30_000);
    const two = b.claim("w2", 30_000);
    expect([one?.runId, two?.runId]).toEqual(["first", "second"]);
    expect(a.claim("w1", 30_000)).toBeUndefined();
    expect(b.queued()).toEqual([]);
  });

  it("lets another worker take a run over once its lease runs out, with a higher fence the first can no longer renew", () => {
    const { a, b, advance } = queues();
    a.enqueue("r");
    const first = a.claim("w1", 1000)!;
    advance(500);
    expect(a.renew(first, 1000)).toBe(true);
    expect(a.holds(first)).toBe(true);
    advance(1001);
    expect(a.holds(first)).toBe(false);
    const second = b.claim("w2", 1000)!;
    expect(second.runId).toBe("r");
    expect(second.fence).toBeGreaterThan(first.fence);
    expect(a.renew(first, 1000)).toBe(false);
    expect(b.holds(second)).toBe(true);
    // The first worker finishing late changes nothing: the run is the second's.
    a.finish(first);
    expect(b.holds(second)).toBe(true);
  });

  it("makes a finished run claimable again only when it is queued again (an approval, a resume)", () => {
    const { a, b } = queues();
    a.enqueue("r");
    const lease = a.claim("w1", 1000)!;
    a.finish(lease);
    expect(b.claim("w2", 1000)).toBeUndefined();
    b.enqueue("r");
    expect(b.claim("w2", 1000)?.runId).toBe("r");
  });

  it("takes the first decision on a paused run and refuses a second while it is queued or worked on", () => {
    const { a, b } = queues();
    expect(a.decide("paused", { action: "reject", note: "more numbers" })).toBe(true);
    expect(b.decide("paused", { action: "approve" })).toBe(false);
    const lease = b.claim("w", 1000)!;
    expect(lease.decision).toEqual({ action: "reject", note: "more numbers" });
    expect(a.decide("paused", { action: "approve" })).toBe(false);
    b.finish(lease);
    expect(a.decide("paused", { action: "approve" })).toBe(true);
  });

  it("brings a queue file of the first schema up to date by itself, keeping its runs", () => {
    const home = join(tempProject(), ".coord");
    mkdirSync(home, { recursive: true });
    const old = new Database(join(home, "checkpoints.sqlite"));
    old.exec("CREATE TABLE coord_jobs (run_id TEXT PRIMARY KEY, state TEXT NOT NULL, worker TEXT, lease_until INTEGER, fence INTEGER NOT NULL DEFAULT 0, queued_at INTEGER NOT NULL)");
    old.exec("CREATE TABLE coord_queue_version (version INTEGER NOT NULL); INSERT INTO coord_queue_version VALUES (1)");
    old.prepare("INSERT INTO coord_jobs (run_id, state, queued_at) VALUES ('kept', 'queued', 1)").run();
    old.close();
    const queue = new RunQueue(home);
    expect(queue.queued()).toEqual(["kept"]);
    expect(queue.decide("other", { action: "approve" })).toBe(true);
    expect(queue.claim("w", 1000)?.runId).toBe("kept");
  });
});
