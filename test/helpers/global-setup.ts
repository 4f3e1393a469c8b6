import { spawnSync } from "node:child_process";
import type { TestProject } from "vitest/node";
import { startTestPostgres } from "./postgres-server.js";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** scripts/build.mjs exit code when tsc found type errors but dist/ was written all the same. */
const ERRORS_OUTPUT_WRITTEN = 2;

/**
 * Builds dist/ from the current src/ once per vitest run (`npm run build`), so the few tests that
 * run the real bin/coord.js or the embedding example never run a stale build. In-process tests
 * do not need it. Type errors do not stop the run (tsc still writes dist/, and `npm test`'s
 * typecheck step reports them); a build that writes nothing does.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  buildDist();
  // PostgreSQL for the store tests: the one COORD_TEST_DATABASE_URL names, else one of our own.
  const postgres = await startTestPostgres(process.env.COORD_TEST_DATABASE_URL);
  project.provide("postgresUrl", postgres.url);
  return postgres.stop;
}

function buildDist(): void {
  // Fresh: the package test ships this build, which must hold no chunk of an earlier one.
  const build = spawnSync(process.execPath, [join(REPO, "scripts", "build.mjs"), "--fresh"], { cwd: REPO, encoding: "utf8" });
  if (build.status === 0) return;
  const output = `${build.stdout ?? ""}${build.stderr ?? ""}${build.error ?? ""}`;
  if (build.status === ERRORS_OUTPUT_WRITTEN) {
    process.stderr.write(`global setup: dist/ built from src/ with type errors (npm run typecheck lists them):\n${output}\n`);
    return;
  }
  throw new Error(`building dist/ for the bin tests failed (npm run build):\n${output}`);
}
