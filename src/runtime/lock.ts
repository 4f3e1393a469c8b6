import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { CoordError } from "../errors.js";
import { lockFile } from "./paths.js";

// Runs this process is working on: a server handles many requests in one process, so the pid in
// a lock file alone cannot tell two of its own requests apart.
const held = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Takes a run for this process, so two resumes or approvals can never drive the same run at
 * once (the second would skip a review or redo a step). A lock left by a process that died is
 * taken over. Synchronous on purpose: callers take it before their first await.
 */
export function lockRun(home: string, runId: string): () => void {
  const file = lockFile(home, runId);
  const busy = (owner?: number) =>
    new CoordError("RUN_BUSY", `run "${runId}" is being worked on by ${owner && owner !== process.pid ? `process ${owner}` : "another request"}`, {
      hint: `wait for it to finish; if no coord process is running it, delete ${file}`,
      hints: { remote: "wait for the run to finish or pause, then try again" },
    });
  if (held.has(file)) throw busy();
  mkdirSync(dirname(file), { recursive: true });
  if (!tryCreate(file)) {
    const owner = readOwner(file);
    if (owner !== undefined && owner !== process.pid && alive(owner)) throw busy(owner);
    takeOver(file, owner, busy);
  }
  held.add(file);
  return () => {
    held.delete(file);
    rmSync(file, { force: true });
  };
}

function tryCreate(file: string): boolean {
  try {
    writeFileSync(file, String(process.pid), { flag: "wx" });
    return true;
  } catch {
    return false;
  }
}

function readOwner(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, "utf8"));
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Replaces a dead process's lock so that of two processes doing this at once only one wins: the
 * stale file is moved aside (an atomic rename), checked to be the one seen dead, and the lock
 * is then created exclusively again.
 */
function takeOver(file: string, deadOwner: number | undefined, busy: (owner?: number) => CoordError): void {
  const aside = `${file}.${process.pid}.stale`;
  try {
    renameSync(file, aside);
  } catch {
    throw busy();
  }
  const moved = readOwner(aside);
  if (moved !== deadOwner) {
    // Someone else's fresh lock was moved: put it back and step aside.
    renameSync(aside, file);
    throw busy(moved);
  }
  rmSync(aside, { force: true });
  if (!tryCreate(file)) throw busy(readOwner(file));
}

/** Whether some request of this process or another live process holds the run. */
export function isRunLocked(home: string, runId: string): boolean {
  const file = lockFile(home, runId);
  if (held.has(file)) return true;
  try {
    const owner = Number(readFileSync(file, "utf8"));
    return Number.isInteger(owner) && alive(owner);
  } catch {
    return false;
  }
}
