import { mkdirSync, realpathSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { confine, PathRefusal, walkFiles } from "../src/files.js";
import { tempProject } from "./helpers/cli.js";

describe("walkFiles", () => {
  it("lists files recursively, sorted, without node_modules, .git or dist", () => {
    const dir = tempProject({
      "b.md": "",
      "a/z.md": "",
      "a/b.md": "",
      "a/c.txt": "",
      "node_modules/pkg/readme.md": "",
      ".git/config.md": "",
      "dist/out.md": "",
      "a/dist/also.md": "",
    });
    expect(walkFiles(dir, (name) => name.endsWith(".md"))).toEqual([join(dir, "a/b.md"), join(dir, "a/z.md"), join(dir, "b.md")]);
  });

  it("does not enter a symlinked folder, so nothing outside is listed", () => {
    const outside = tempProject({ "secret.md": "" });
    const dir = tempProject({ "inside.md": "" });
    symlinkSync(outside, join(dir, "link"));
    expect(walkFiles(dir, (name) => name.endsWith(".md"))).toEqual([join(dir, "inside.md")]);
  });

  it("returns nothing for a missing or empty folder", () => {
    const dir = tempProject();
    mkdirSync(join(dir, "empty"));
    expect(walkFiles(join(dir, "empty"), () => true)).toEqual([]);
    expect(walkFiles(join(dir, "missing"), () => true)).toEqual([]);
  });
});

describe("confine", () => {
  const setup = () => {
    const outside = tempProject({ "secret.txt": "outside" });
    const dir = tempProject({
      "notes/plan.md": "plan",
      ".env": "KEY=1",
      ".env.local": "KEY=2",
      ".git/config": "[core]",
      ".coord/x": "{}",
      "coord.config.json": "{}",
      "sub/.mcp.json": "{}",
    });
    symlinkSync(join(outside, "secret.txt"), join(dir, "link.txt"));
    return { dir, outside };
  };

  it("accepts a file inside, relative to the first folder or absolute in any, as its real path", () => {
    const { dir, outside } = setup();
    expect(confine("notes/plan.md", [dir])).toBe(realpathSync(join(dir, "notes/plan.md")));
    expect(confine(join(dir, "notes/plan.md"), [dir])).toBe(realpathSync(join(dir, "notes/plan.md")));
    expect(confine(join(outside, "secret.txt"), [dir, outside])).toBe(realpathSync(join(outside, "secret.txt")));
    expect(confine(".", [dir])).toBe(realpathSync(dir));
  });

  it("refuses .. traversal, absolute paths elsewhere and symlinks leading out", () => {
    const { dir, outside } = setup();
    const outsideMessage = /^refused: .* is outside the folders/;
    expect(() => confine(`../${realpathSync(outside).split("/").pop()}/secret.txt`, [dir])).toThrow(outsideMessage);
    expect(() => confine("notes/../../", [dir])).toThrow(outsideMessage);
    expect(() => confine(join(outside, "secret.txt"), [dir])).toThrow(outsideMessage);
    expect(() => confine("/etc/hostname", [dir])).toThrow(PathRefusal);
    expect(() => confine("link.txt", [dir])).toThrow(outsideMessage);
  });

  it("refuses secrets and coord's own state anywhere inside", () => {
    const { dir } = setup();
    for (const path of [".env", ".env.local", ".git/config", ".git", ".coord/x", "coord.config.json", "sub/.mcp.json"]) {
      expect(() => confine(path, [dir]), path).toThrow(/^refused: .* holds secrets or coord's own state$/);
    }
  });

  it("names a missing path without saying whether it would be allowed", () => {
    const { dir } = setup();
    expect(() => confine("missing.md", [dir])).toThrow(new PathRefusal("no such file or folder: missing.md"));
    expect(() => confine("../nowhere-at-all", [dir])).toThrow("no such file or folder: ../nowhere-at-all");
  });
});
