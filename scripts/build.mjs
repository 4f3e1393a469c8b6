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
// Both are built in a folder of their own, which then takes dist/'s place: a `coord` started
// meanwhile runs the old build whole, and two builds at once do not delete each other's files.
// Used by `prepare` (so a git install and a fresh clone get both) and, with --fresh (nothing kept
// from earlier builds), by `prepack` and the tests' global setup.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);

/** Packages bundled into the command: pure JavaScript, on the path of every read-only reply. */
const BUNDLED = new Set(["zod", "commander", "marked", "js-yaml", "dotenv", "fastest-levenshtein"]);

/** tsc's exit code when it found type errors but still wrote every output file. */
const ERRORS_OUTPUT_WRITTEN = 2;

/** The library, into `out`: tsc's output, as every module's importer sees it. Returns tsc's report when it found type errors. */
function buildLibrary(root, out) {
  const tsc = join(dirname(require.resolve("typescript/package.json")), "bin", "tsc");
  const result = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json", "--outDir", out], { cwd: root, encoding: "utf8" });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}${result.error ?? ""}`;
  if (result.status === 0) return "";
  if (result.status === ERRORS_OUTPUT_WRITTEN) return output;
  throw new Error(`tsc -p tsconfig.build.json failed:\n${output}`);
}

/** Bare imports of packages not in BUNDLED stay imports, whether package.json declares them or not. */
const externalPackages = {
  name: "external-packages",
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, ({ path }) => {
      const name = path.startsWith("@") ? path.split("/").slice(0, 2).join("/") : path.split("/")[0];
      return BUNDLED.has(name) ? undefined : { path, external: true };
    });
  },
};

/** The command, into `out`: one bundle, code-split per command. */
async function buildCommand(root, out) {
  const { build } = await import("esbuild");
  await build({
    absWorkingDir: root,
    entryPoints: { main: "src/interfaces/cli/main.ts" },
    outdir: out,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    plugins: [externalPackages],
    // Bundled CommonJS packages (commander, dotenv) call require() for Node's own modules.
    banner: { js: 'import { createRequire as __coordCreateRequire } from "node:module";\nconst require = __coordCreateRequire(import.meta.url);' },
    // Class names as written: logs (pino's err.type) and stack traces name CoordError, not _CoordError.
    keepNames: true,
    // bin/coord.js turns source maps on for --verbose, so stack traces point into src/.
    sourcemap: "linked",
    sourcesContent: false,
    logLevel: "warning",
  });
}

/** How long the chunks of a build stay after a newer build replaced it. */
export const KEEP_REPLACED_CHUNKS_MS = 24 * 60 * 60 * 1000;
/** In dist/cli/: when each chunk kept from an earlier build was first replaced. */
const REPLACED = "replaced.json";

/**
 * Carries the command's chunks of earlier builds from `from` (the dist/cli/ being replaced) into
 * `to` (the new one), for a day after a build first replaced them. A command loads a chunk when
 * it first needs it, and chunks are named by their content (`runs-4P7RKHFO.js`): a `coord serve`
 * or `coord mcp` started before a rebuild still finds its own, where removing them left it
 * failing at its next request. Named by content, a kept chunk never holds other code.
 */
export function keepReplacedChunks(from, to, now = Date.now()) {
  if (!existsSync(from)) return;
  const earlier = readReplaced(join(from, REPLACED));
  const replaced = {};
  for (const name of readdirSync(from)) {
    if (!name.endsWith(".js") || name === "main.js" || existsSync(join(to, name))) continue;
    const since = typeof earlier[name] === "number" ? earlier[name] : now;
    if (now - since >= KEEP_REPLACED_CHUNKS_MS) continue;
    copyFileSync(join(from, name), join(to, name));
    replaced[name] = since;
  }
  if (Object.keys(replaced).length) writeFileSync(join(to, REPLACED), `${JSON.stringify(replaced)}\n`);
}

/** When each kept chunk was first replaced; none when the file is missing or unreadable (its chunks then get a day from now). */
function readReplaced(file) {
  try {
    const times = JSON.parse(readFileSync(file, "utf8"));
    return times && typeof times === "object" ? times : {};
  } catch {
    return {};
  }
}

/** A build killed before its end leaves its folder (dist.building-PID, dist.replaced-PID): gone after an hour. */
function removeAbandonedBuilds(root, now = Date.now()) {
  for (const name of readdirSync(root)) {
    if (/^dist\.(building|replaced)-\d+$/.test(name) && now - statSync(join(root, name)).mtimeMs > 60 * 60 * 1000) rmSync(join(root, name), { recursive: true, force: true });
  }
}

/**
 * Builds dist/ anew, in a folder of its own that then takes dist/'s place. `fresh`: nothing kept
 * from earlier builds (`npm pack` ships the current build only). Returns tsc's type errors, if any
 * (dist/ is written all the same).
 */
export async function buildDist(root = ROOT, { fresh = false } = {}) {
  const dist = join(root, "dist");
  removeAbandonedBuilds(root);
  const next = join(root, `dist.building-${process.pid}`);
  rmSync(next, { recursive: true, force: true });
  mkdirSync(next);
  try {
    const typeErrors = buildLibrary(root, next);
    await buildCommand(root, join(next, "cli"));
    if (!fresh) keepReplacedChunks(join(dist, "cli"), join(next, "cli"));
    // One id for this build, read by the parse cache of the library and of the command alike: the
    // code that parsed a cached entry is this build's, whichever of the two made it.
    writeFileSync(join(next, "build.json"), `${JSON.stringify({ id: `${Date.now().toString(36)}-${randomBytes(6).toString("hex")}` })}\n`);
    // Two renames: dist/ is missing only between them, not for the whole build.
    const old = join(root, `dist.replaced-${process.pid}`);
    if (existsSync(dist)) renameSync(dist, old);
    renameSync(next, dist);
    rmSync(old, { recursive: true, force: true });
    return typeErrors;
  } finally {
    rmSync(next, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const typeErrors = await buildDist(ROOT, { fresh: process.argv.includes("--fresh") });
  if (typeErrors) {
    process.stderr.write(typeErrors);
    process.exitCode = ERRORS_OUTPUT_WRITTEN;
  }
}
