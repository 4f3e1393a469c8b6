import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isCoordError } from "../../src/errors.js";
import { isRunLocked, lockRun } from "../../src/runtime/lock.js";
import { tempProject } from "../helpers/cli.js";

const lockPath = (cwd: string, id: string) => join(cwd, ".coord", "runs", `${id}.lock`);

describe("run locks", () => {
  it("let one holder at a time and free the run when released", () => {
    const cwd = tempProject();
    const release = lockRun(cwd, "r1");
    expect(isRunLocked(cwd, "r1")).toBe(true);
    const second = (() => {
      try {
        lockRun(cwd, "r1");
      } catch (error) {
        return error;
      }
    })();
    expect(isCoordError(second) && second.code).toBe("RUN_BUSY");
    release();
    expect(existsSync(lockPath(cwd, "r1"))).toBe(false);
    lockRun(cwd, "r1")();
  });

  it("take over a lock left by a process that died, but not one held by a live process", () => {
    const cwd = tempProject();
    mkdirSync(join(cwd, ".coord", "runs"), { recursive: true });
    writeFileSync(lockPath(cwd, "dead"), "999999999");
    const release = lockRun(cwd, "dead");
    release();
    writeFileSync(lockPath(cwd, "live"), String(process.ppid));
    expect(() => lockRun(cwd, "live")).toThrow(new RegExp(`process ${process.ppid}`));
  });
});
