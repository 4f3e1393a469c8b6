import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** coord's name on npm: what a project's `import` of coord says. */
export const PACKAGE_NAME = "coord-missions";

/**
 * The folder coord is installed in (its package.json, shipped `agents/` and `missions/`): the first
 * folder up from this module with a package.json. Found, not counted, because this module runs at
 * three depths: compiled one file per module (dist/), bundled into the command (dist/cli/), and
 * from source (src/, in the tests).
 */
export const PACKAGE_ROOT = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) return dirname(from);
  }
}

/** coord's version, from its package.json. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")) as { version: string }).version;
}
