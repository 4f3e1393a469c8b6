import { spawnSync } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { StructuredToolInterface } from "@langchain/core/tools";
import { fileTools, toolsForAgent } from "../../src/models/tools.js";
import { isRetryable } from "../../src/models/retry.js";
import { tempProject } from "../helpers/cli.js";

function project(): string {
  const dir = tempProject({
    "notes/plan.md": "Onboarding plan\nChurn is 14%\n",
    ".env": "OPENAI_API_KEY=sk-secret\n",
    ".mcp.json": "{}",
    ".coord/runs/x.json": "{}",
    "deep/a/b/c.md": "Deep churn notes\n",
  });
  mkdirSync(join(dir, "empty"));
  symlinkSync("/etc", join(dir, "out"));
  return dir;
}

describe("agent file tools", () => {
  it("read files inside the project and refuse ../, symlinks out and secrets", async () => {
    const dir = project();
    const { read } = fileTools([dir]);
    expect(await read.invoke({ path: "notes/plan.md" })).toContain("Churn is 14%");
    expect(await read.invoke({ path: "../../etc/hostname" })).toMatch(/^Error: refused: .* outside/);
    expect(await read.invoke({ path: "out/hostname" })).toMatch(/^Error: refused: .* outside/);
    expect(await read.invoke({ path: ".env" })).toMatch(/^Error: refused: .env holds secrets/);
    expect(await read.invoke({ path: ".coord/runs/x.json" })).toMatch(/^Error: refused/);
    expect(await read.invoke({ path: "missing.md" })).toBe("Error: no such file or folder: missing.md");
  });

  it("list, glob and grep without showing private files, and grep takes plain text", async () => {
    const dir = project();
    const tools = fileTools([dir]);
    const listing = String(await tools.ls.invoke({}));
    expect(listing).toContain("notes/");
    expect(listing).not.toContain(".env");
    expect(String(await tools.glob.invoke({ pattern: "**" })).split("\n").sort()).toEqual(["deep/a/b/c.md", "notes/plan.md"]);
    expect(String(await tools.glob.invoke({ pattern: "**/*.md" })).split("\n").sort()).toEqual(["deep/a/b/c.md", "notes/plan.md"]);
    expect(String(await tools.grep.invoke({ pattern: "CHURN" })).split("\n").sort()).toEqual(["deep/a/b/c.md:1: Deep churn notes", "notes/plan.md:2: Churn is 14%"]);
    expect(await tools.grep.invoke({ pattern: "sk-secret" })).toBe("no matches");
    // A pattern that would backtrack forever as a regular expression is just text here.
    writeFileSync(join(dir, "notes", "a.md"), `${"a".repeat(40)}!\n`);
    expect(await tools.grep.invoke({ pattern: "(a+)+$" })).toBe("no matches");
  });

});

/** The glob and grep tools exactly as an agent whose frontmatter says `tools: Glob, Grep` gets them. */
function globAndGrep(dir: string): { glob: StructuredToolInterface; grep: StructuredToolInterface } {
  const [glob, grep] = toolsForAgent(["Glob", "Grep"], [dir]);
  return { glob: glob!, grep: grep! };
}

function globProject(): string {
  const dir = tempProject({
    "README.md": "churn at the top\n",
    "notes/a.md": "churn in a\n",
    "notes/b.md": "b\n",
    "notes/c.txt": "churn in c\n",
    "notes/ab.md": "ab\n",
    "deep/x/y/z.md": "deep churn\n",
    ".github/workflows/ci.yml": "on: push\n",
    ".env": "OPENAI_API_KEY=sk-secret\n",
    ".coord/runs/x.md": "churn checkpoint\n",
  });
  symlinkSync(tempProject({ "leak.md": "churn outside\n" }), join(dir, "out"));
  return dir;
}

const lines = async (tool: StructuredToolInterface, args: Record<string, string>) => String(await tool.invoke(args)).split("\n").filter(Boolean).sort();

describe("glob and grep patterns", () => {
  it("glob: ** reaches top-level and nested files, * and ? stay inside one folder", async () => {
    const { glob } = globAndGrep(globProject());
    expect(await lines(glob, { pattern: "**/*.md" })).toEqual(["README.md", "deep/x/y/z.md", "notes/a.md", "notes/ab.md", "notes/b.md"]);
    expect(await lines(glob, { pattern: "*.md" })).toEqual(["README.md"]);
    expect(await lines(glob, { pattern: "notes/?.md" })).toEqual(["notes/a.md", "notes/b.md"]);
    expect(await lines(glob, { pattern: "*.md", path: "notes" })).toEqual(["a.md", "ab.md", "b.md"]);
  });

  it("glob: braces and character classes", async () => {
    const { glob } = globAndGrep(globProject());
    expect(await lines(glob, { pattern: "notes/*.{md,txt}" })).toEqual(["notes/a.md", "notes/ab.md", "notes/b.md", "notes/c.txt"]);
    expect(await lines(glob, { pattern: "{deep,notes}/**/z.md" })).toEqual(["deep/x/y/z.md"]);
    expect(await lines(glob, { pattern: "notes/[ab].md" })).toEqual(["notes/a.md", "notes/b.md"]);
    expect(await lines(glob, { pattern: "notes/[!a]*" })).toEqual(["notes/b.md", "notes/c.txt"]);
  });

  it("glob: dotfiles only when the pattern names them, private files and paths outside never", async () => {
    const { glob } = globAndGrep(globProject());
    expect(await lines(glob, { pattern: "**/*.yml" })).toEqual([]);
    expect(await lines(glob, { pattern: ".github/**/*.yml" })).toEqual([".github/workflows/ci.yml"]);
    expect(await lines(glob, { pattern: ".env*" })).toEqual([]);
    expect(await lines(glob, { pattern: ".coord/**" })).toEqual([]);
    expect(await lines(glob, { pattern: "out/**" })).toEqual([]);
    expect(await lines(glob, { pattern: "../**" })).toEqual([]);
    expect(await glob.invoke({ pattern: "**", path: "out" })).toMatch(/^Error: refused: .* outside/);
    expect(await glob.invoke({ pattern: "**", path: ".." })).toMatch(/^Error: refused: .* outside/);
  });

  it("grep: a glob filters the files searched, matching names at any depth when it has no /", async () => {
    const { grep } = globAndGrep(globProject());
    expect(await lines(grep, { pattern: "churn", glob: "*.md" })).toEqual(["README.md:1: churn at the top", "deep/x/y/z.md:1: deep churn", "notes/a.md:1: churn in a"]);
    expect(await lines(grep, { pattern: "churn", glob: "notes/*.{txt,csv}" })).toEqual(["notes/c.txt:1: churn in c"]);
    expect(await lines(grep, { pattern: "churn", glob: "deep/**" })).toEqual(["deep/x/y/z.md:1: deep churn"]);
    expect(await lines(grep, { pattern: "churn", glob: "[ab].md" })).toEqual(["notes/a.md:1: churn in a"]);
    expect(await lines(grep, { pattern: "churn" })).toEqual(["README.md:1: churn at the top", "deep/x/y/z.md:1: deep churn", "notes/a.md:1: churn in a", "notes/c.txt:1: churn in c"]);
  });
});

describe("grep and files that are not regular", () => {
  it("skips a FIFO it is pointed at or finds in a folder, never blocking on it", async () => {
    const dir = project();
    expect(spawnSync("mkfifo", [join(dir, "notes", "pipe.md")]).status).toBe(0);
    const { grep } = fileTools([dir]);
    expect(await grep.invoke({ pattern: "churn", path: "notes" })).toContain("notes/plan.md:2: Churn is 14%");
    expect(await grep.invoke({ pattern: "churn", path: "notes/pipe.md" })).toBe("no matches");
  });
});

describe("isRetryable", () => {
  it("retries 429, 5xx and network failures found anywhere in the cause chain, not 4xx mistakes", () => {
    const http = (status: number) => Object.assign(new Error(`status ${status}`), { status });
    expect([429, 500, 503].map((s) => isRetryable(http(s)))).toEqual([true, true, true]);
    expect([400, 401, 404].map((s) => isRetryable(http(s)))).toEqual([false, false, false]);
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    const wrapped = new Error("Connection error.", { cause: new Error("fetch failed", { cause: refused }) });
    expect(isRetryable(wrapped)).toBe(true);
    expect(isRetryable(new Error("Unexpected token in JSON"))).toBe(false);
  });
});
