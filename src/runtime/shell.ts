import { spawn } from "node:child_process";

export interface ShellResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/**
 * Runs a shell snippet (an agent hook or a project hook) with a timeout. The child gets its
 * own process group so a timeout also stops whatever the snippet started.
 */
export function runShell(
  command: string,
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number; stdin?: string; args?: string[]; file?: boolean },
): Promise<ShellResult> {
  return new Promise((resolvePromise) => {
    let child;
    try {
      child = options.file
        ? spawn(command, options.args ?? [], { cwd: options.cwd, env: options.env, detached: true })
        : spawn("/bin/sh", ["-c", command], { cwd: options.cwd, env: options.env, detached: true });
    } catch (error) {
      // spawn throws synchronously for some failures (E2BIG: an environment too large).
      resolvePromise({ code: 127, stdout: "", stderr: `${(error as Error).message}\n`, timedOut: false });
      return;
    }
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdin.on("error", () => {});
    child.stdin.end(options.stdin ?? "");
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    }, options.timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      resolvePromise({ code: 127, stdout, stderr: `${stderr}${error.message}\n`, timedOut });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr, timedOut });
    });
  });
}
