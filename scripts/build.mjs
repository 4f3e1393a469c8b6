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
// Used by `prepare` (so a git install and a fresh clone get both) and by the tests' global setup.
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
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
    sourcemap: "linked",
    sourcesContent: false,
    logLevel: "warning",
  });
}

/** Builds dist/ from scratch. Returns tsc's type errors, if any (dist/ is written all the same). */
export async function buildDist(root = ROOT) {
  rmSync(join(root, "dist"), { recursive: true, force: true });
  const typeErrors = buildLibrary(root);
  await buildCommand(root);
  return typeErrors;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const typeErrors = await buildDist();
  if (typeErrors) {
    process.stderr.write(typeErrors);
    process.exitCode = ERRORS_OUTPUT_WRITTEN;
  }
}
