import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fileTools, globToRegExp } from "../../src/models/tools.js";
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

  it("turns glob patterns into anchored expressions", () => {
    expect(globToRegExp("*.md").test("a.md")).toBe(true);
    expect(globToRegExp("*.md").test("x/a.md")).toBe(false);
    expect(globToRegExp("docs/**/?.md").test("docs/a/b/c.md")).toBe(true);
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
