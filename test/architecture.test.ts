import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "./helpers/cli.js";

const STATIC_IMPORT = /^\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"/gm;

/** Packages reached from `entry` through static imports only (dynamic import() is lazy on purpose). */
function staticPackages(entry: string): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const [, spec] of readFileSync(file, "utf8").matchAll(STATIC_IMPORT)) {
      if (spec!.startsWith(".")) visit(resolve(dirname(file), spec!.replace(/\.js$/, ".ts")));
      else packages.add(spec!);
    }
  };
  visit(entry);
  return packages;
}

describe("architecture", () => {
  it("the CLI entry and the definitions commands import no LangChain or LangGraph eagerly", () => {
    for (const entry of ["src/interfaces/cli/main.ts", "src/interfaces/cli/commands/agents.ts", "src/interfaces/cli/commands/missions.ts"]) {
      const packages = [...staticPackages(join(REPO, entry))];
      expect(packages.filter((p) => /^(@langchain\/|langchain)/.test(p)), entry).toEqual([]);
    }
  });

  it("definitions import nothing from runtime, models or interfaces", () => {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const [, spec] of readFileSync(file, "utf8").matchAll(STATIC_IMPORT)) {
        if (!spec!.startsWith(".")) continue;
        const target = resolve(dirname(file), spec!.replace(/\.js$/, ".ts"));
        expect(target, `${file} imports ${spec}`).not.toMatch(/src\/(runtime|models|interfaces)\//);
        visit(target);
      }
    };
    visit(join(REPO, "src/definitions/load.ts"));
    expect(seen.size).toBeGreaterThan(5);
  });
});
