import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "./helpers/cli.js";

const STATIC_IMPORT = /^\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"/gm;
// `import type` is erased from the JavaScript, so it loads nothing at run time.
const TYPE_IMPORT = /^\s*(?:import|export)\s+type\s/;
const SRC = join(REPO, "src");

function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

/** Static imports of a file: relative ones as absolute .ts paths, packages by name. */
function importsOf(file: string, runtimeOnly = false): { local: string[]; packages: string[] } {
  const local: string[] = [];
  const packages: string[] = [];
  for (const [statement, spec] of readFileSync(file, "utf8").matchAll(STATIC_IMPORT)) {
    if (runtimeOnly && TYPE_IMPORT.test(statement)) continue;
    if (spec!.startsWith(".")) local.push(resolve(dirname(file), spec!.replace(/\.js$/, ".ts")));
    else packages.push(spec!);
  }
  return { local, packages };
}

/** Packages reached from `entry` through static imports only (dynamic import() is lazy on purpose). */
function staticPackages(entry: string): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const imports = importsOf(file, true);
    imports.packages.forEach((p) => packages.add(p));
    imports.local.forEach(visit);
  };
  visit(entry);
  return packages;
}

const layer = (file: string) => relative(SRC, file).split("/")[0]!;
// Arrows point one way: interfaces -> service -> runtime -> models -> definitions (errors, files and package for all).
const RANK: Record<string, number> = { "errors.ts": 0, "files.ts": 0, "package.ts": 0, definitions: 1, models: 2, runtime: 3, service: 4, interfaces: 5, "index.ts": 6 };

describe("architecture", () => {
  it("the CLI entry and the definitions commands import no LangChain or LangGraph eagerly", () => {
    for (const entry of ["src/interfaces/cli/main.ts", "src/interfaces/cli/commands/agents.ts", "src/interfaces/cli/commands/missions.ts"]) {
      const packages = [...staticPackages(join(REPO, entry))];
      expect(packages.filter((p) => /^(@langchain\/|langchain|@modelcontextprotocol)/.test(p)), entry).toEqual([]);
    }
  });

  it("every import points down the layers: interfaces -> runtime -> models -> definitions", () => {
    const upward: string[] = [];
    for (const file of sourceFiles()) {
      for (const target of importsOf(file).local) {
        if (RANK[layer(target)]! > RANK[layer(file)]!) upward.push(`${relative(SRC, file)} -> ${relative(SRC, target)}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it("has no import cycles", () => {
    const graph = new Map(sourceFiles().map((f) => [f, importsOf(f).local]));
    const state = new Map<string, "visiting" | "done">();
    const cycles: string[] = [];
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === "done") return;
      if (state.get(file) === "visiting") {
        cycles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(SRC, f)).join(" -> "));
        return;
      }
      state.set(file, "visiting");
      for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
      state.set(file, "done");
    };
    for (const file of graph.keys()) visit(file, []);
    expect(cycles).toEqual([]);
  });
});
