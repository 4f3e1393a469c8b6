import { spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { isCoordError } from "../../../src/errors.js";
import { serve } from "../../../src/interfaces/cli/commands/serve.js";
import type { Io } from "../../../src/interfaces/cli/io.js";
import { BIN, cliEnv, runCli, tempProject } from "../../helpers/cli.js";
import { GROWTH_PLAN } from "../../helpers/project.js";

function io(cwd: string): Io & { lines: string[] } {
  const lines: string[] = [];
  return { out: (t) => lines.push(t), err: (t) => lines.push(t), errStream: { write: () => true }, env: {}, cwd, json: false, quiet: false, verbose: false, lines };
}

describe("coord serve", () => {
  it("refuses a port another program holds with SERVE_PORT_BUSY, naming the fix", async () => {
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(0, "127.0.0.1", r));
    const port = String((holder.address() as AddressInfo).port);
    try {
      const error = await serve(io(tempProject()), { host: "127.0.0.1", port }, {}).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isCoordError(error) && error.code).toBe("SERVE_PORT_BUSY");
      expect(isCoordError(error) && error.hint).toContain("another --port");
      // Through the command line: one line, exit 2.
      const r = await runCli(["serve", "--port", port], { cwd: tempProject() });
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`coord: cannot listen on 127.0.0.1:${port}: EADDRINUSE (fix: choose another --port (0 picks a free one))\n`);
    } finally {
      holder.close();
    }
  });

  it("refuses a port that is not a number as a usage error", async () => {
    const r = await runCli(["serve", "--port", "0x50"], { cwd: tempProject() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--port 0x50 is not a port number");
  });

  it("lists the project's missions through its parse cache, as the read-only commands do", async () => {
    const cwd = tempProject({ "missions/test-mission.md": GROWTH_PLAN });
    mkdirSync(join(cwd, ".coord"));
    const server = spawn(process.execPath, [BIN, "serve", "--port", "0", "--workers", "0"], { cwd, env: cliEnv(), stdio: ["ignore", "pipe", "pipe"] });
    try {
      const url = await new Promise<string>((found, failed) => {
        server.stdout.on("data", (chunk: Buffer) => {
          const match = /listening on (\S+)/.exec(chunk.toString());
          if (match) found(match[1]!);
        });
        server.on("exit", (code) => failed(new Error(`coord serve exited with ${code}`)));
      });
      const page = await fetch(`${url}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("Growth Plan");
      expect(existsSync(join(cwd, ".coord", "cache", "missions.json"))).toBe(true);
    } finally {
      server.kill();
    }
  });
});
