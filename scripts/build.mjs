// `npm run build`: dist/ from src/, in two parts.
//  1. The library (tsc): one JavaScript file and one declaration file per module, which
//     `import "coord-missions"` loads.
//  2. The `coord` command (esbuild): src/interfaces/cli/main.ts bundled into dist/cli/, with the
//     packages its read-only replies load inside it, split so that each command still loads only
//     its own code. Node 20 loads one module at a time and has no compile cache: zod alone is 95
//     module files and about 80 ms to import; bundled, tree-shaken, it is one file of 180 KB
//     (bench/startup.js times the replies; issue #12 wants them under 300 ms). Every other
//     package stays in node_modules and is imported from there when a command needs it, as the
//     library imports it.
// Used by `prepare` (so a git install and a fresh clone get both), by the tests' global setup, and
// with --fresh by `prepack`.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);

/** Packages bundled into the command: pure JavaScript, on the path of every read-only reply. */
const BUNDLED = new Set(["zod", "commander", "marked", "js-yaml", "dotenv", "fastest-levenshtein"]);

/** tsc's exit code when it found type errors but still wrote every output file. */
const ERRORS_OUTPUT_WRITTEN = 2;

/** The library: tsc's output, as every module's importer sees it. Returns tsc's report when it found type errors. */
function buildLibrary(root) {
  const tsc = join(dirname(require.resolve("typescript/package.json")), "bin", "tsc");
  const result = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: root, encoding: "utf8" });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}${result.error ?? ""}`;
  if (result.status === 0) return "";
  if (result.status === ERRORS_OUTPUT_WRITTEN) return output;
  throw new Error(`tsc -p tsconfig.build.json failed:\n${output}`);
}

/** The command: one bundle, code-split per command, every dependency but BUNDLED left external. */
async function buildCommand(root) {
  const { build } = await import("esbuild");
  const { dependencies = {}, optionalDependencies = {} } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const external = Object.keys({ ...dependencies, ...optionalDependencies }).filter((name) => !BUNDLED.has(name)).flatMap((name) => [name, `${name}/*`]);
  await build({
    absWorkingDir: root,
    entryPoints: { main: "src/interfaces/cli/main.ts" },
    outdir: "dist/cli",
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    external,
    // Bundled CommonJS packages (commander, dotenv) call require() for Node's own modules.
    banner: { js: 'import { createRequire as __coordCreateRequire } from "node:module";\nconst require = __coordCreateRequire(import.meta.url);' },
    // `--verbose` stack traces point into src/ (main.ts turns source maps on for them).
    // Class names as written: logs (pino's err.type) and stack traces name CoordError, not _CoordError.
    keepNames: true,
    sourcemap: "linked",
    sourcesContent: false,
    logLevel: "warning",
  });
}

/** How long chunks of earlier builds are kept for the processes started from them. */
const KEEP_EARLIER_CHUNKS_MS = 24 * 60 * 60 * 1000;

/**
 * Empties dist/ but for the command's chunks of earlier builds made in the last day. A command
 * loads a chunk when it first needs it, and chunks are named by their content (`runs-4P7RKHFO.js`):
 * a `coord serve` or `coord mcp` started before a rebuild still finds its own, where removing them
 * left it failing at its next request. Named by content, a kept chunk never holds other code.
 */
export function cleanDist(root, now = Date.now()) {
  const dist = join(root, "dist");
  const cli = join(dist, "cli");
  if (!existsSync(dist)) return;
  for (const name of readdirSync(dist)) if (name !== "cli") rmSync(join(dist, name), { recursive: true, force: true });
  if (!existsSync(cli)) return;
  for (const name of readdirSync(cli)) {
    const file = join(cli, name);
    const earlierChunk = name.endsWith(".js") && name !== "main.js" && now - statSync(file).mtimeMs < KEEP_EARLIER_CHUNKS_MS;
    if (!earlierChunk) rmSync(file, { recursive: true, force: true });
  }
}

/**
 * Builds dist/ anew. `fresh`: nothing kept from earlier builds (`npm pack` ships the current build
 * only). Returns tsc's type errors, if any (dist/ is written all the same).
 */
export async function buildDist(root = ROOT, { fresh = false } = {}) {
  if (fresh) rmSync(join(root, "dist"), { recursive: true, force: true });
  else cleanDist(root);
  const typeErrors = buildLibrary(root);
  await buildCommand(root);
  // One id for this build, read by the parse cache of the library and of the command alike: the
  // code that parsed a cached entry is this build's, whichever of the two made it.
  writeFileSync(join(root, "dist", "build.json"), `${JSON.stringify({ id: `${Date.now().toString(36)}-${randomBytes(6).toString("hex")}` })}\n`);
  return typeErrors;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const typeErrors = await buildDist(ROOT, { fresh: process.argv.includes("--fresh") });
  if (typeErrors) {
    process.stderr.write(typeErrors);
    process.exitCode = ERRORS_OUTPUT_WRITTEN;
  }
}
