import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { CoordError } from "../errors.js";
import { coordHome } from "./store.js";

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

function lockFile(cwd: string, runId: string): string {
  return join(coordHome(cwd), "runs", `${runId}.lock`);
}

/**
 * Takes a run for this process, so two resumes or approvals can never drive the same run at
 * once (the second would skip a review or redo a step). A lock left by a process that died is
 * taken over. Synchronous on purpose: callers take it before their first await.
 */
export function lockRun(cwd: string, runId: string): () => void {
  const file = lockFile(cwd, runId);
  const busy = () =>
    new CoordError("RUN_BUSY", `run "${runId}" is being worked on by another coord process or request`, {
      hint: `wait for it to finish, then see \`coord runs show ${runId}\``,
    });
  if (held.has(file)) throw busy();
  mkdirSync(dirname(file), { recursive: true });
  try {
    writeFileSync(file, String(process.pid), { flag: "wx" });
  } catch {
    const owner = Number(readFileSync(file, "utf8"));
    if (Number.isInteger(owner) && owner !== process.pid && alive(owner)) throw busy();
    writeFileSync(file, String(process.pid));
  }
  held.add(file);
  return () => {
    held.delete(file);
    rmSync(file, { force: true });
  };
}

/** Whether some request of this process or another live process holds the run. */
export function isRunLocked(cwd: string, runId: string): boolean {
  const file = lockFile(cwd, runId);
  if (held.has(file)) return true;
  try {
    const owner = Number(readFileSync(file, "utf8"));
    return Number.isInteger(owner) && alive(owner);
  } catch {
    return false;
  }
}
