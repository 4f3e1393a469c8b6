import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isCoordError } from "../../src/errors.js";
import { isRunLocked, lockRun } from "../../src/runtime/lock.js";
import { tempProject } from "../helpers/cli.js";

const lockPath = (home: string, id: string) => join(home, "runs", `${id}.lock`);

describe("run locks", () => {
  it("let one holder at a time and free the run when released", () => {
    const home = join(tempProject(), ".coord");
    const release = lockRun(home, "r1");
    expect(isRunLocked(home, "r1")).toBe(true);
    const second = (() => {
      try {
        lockRun(home, "r1");
      } catch (error) {
        return error;
      }
    })();
    expect(isCoordError(second) && second.code).toBe("RUN_BUSY");
    release();
    expect(existsSync(lockPath(home, "r1"))).toBe(false);
    lockRun(home, "r1")();
  });

  it("take over a lock left by a process that died, but not one held by a live process", () => {
    const home = join(tempProject(), ".coord");
    mkdirSync(join(home, "runs"), { recursive: true });
    writeFileSync(lockPath(home, "dead"), "999999999");
    const release = lockRun(home, "dead");
    release();
    writeFileSync(lockPath(home, "live"), String(process.ppid));
    expect(() => lockRun(home, "live")).toThrow(new RegExp(`process ${process.ppid}`));
  });
});
