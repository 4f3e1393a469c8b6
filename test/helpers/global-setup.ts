import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * Builds dist/ from the current src/ once per vitest run (`npm run build`), so the few tests that
 * run the real bin/coord.js never run a stale build. In-process tests do not need it.
 */
export default function setup(): void {
  const tsc = join(dirname(createRequire(import.meta.url).resolve("typescript/package.json")), "bin", "tsc");
  const build = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: REPO, encoding: "utf8" });
  if (build.status !== 0) {
    throw new Error(`building dist/ for the bin tests failed (npm run build):\n${build.stdout}${build.stderr}${build.error ?? ""}`);
  }
}
