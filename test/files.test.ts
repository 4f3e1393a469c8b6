import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, realpathSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { confine, FileRefusal, formatBytes, PathRefusal, readRegularFile, walkFiles } from "../src/files.js";
import { tempProject } from "./helpers/cli.js";

const CAN_MKFIFO = process.platform !== "win32" && spawnSync("mkfifo", ["--version"]).error === undefined;

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

describe("walkFiles and special files", () => {
  it.skipIf(!CAN_MKFIFO)("lists a FIFO by name, so its reader can refuse it out loud", () => {
    const dir = tempProject({ "a.md": "" });
    expect(spawnSync("mkfifo", [join(dir, "pipe.md")]).status).toBe(0);
    expect(walkFiles(dir, (name) => name.endsWith(".md"))).toEqual([join(dir, "a.md"), join(dir, "pipe.md")]);
  });
});

describe("readRegularFile", () => {
  /** The refusal readRegularFile throws, or undefined when it reads. */
  function refusal(path: string, maxBytes = 1_000): FileRefusal | undefined {
    try {
      readRegularFile(path, { maxBytes });
      return undefined;
    } catch (error) {
      expect(error).toBeInstanceOf(FileRefusal);
      return error as FileRefusal;
    }
  }

  it("reads a regular file, through a link too, as UTF-8", () => {
    const dir = tempProject({ "note.md": "caf\u00e9 \ud83e\udd1d" });
    symlinkSync(join(dir, "note.md"), join(dir, "link.md"));
    expect(readRegularFile(join(dir, "note.md"), { maxBytes: 100 })).toEqual({ text: "caf\u00e9 \ud83e\udd1d", truncated: false });
    expect(readRegularFile(join(dir, "link.md"), { maxBytes: 100 }).text).toBe("caf\u00e9 \ud83e\udd1d");
  });

  it.skipIf(!CAN_MKFIFO)("refuses a FIFO without opening it, so nothing blocks", () => {
    const dir = tempProject();
    expect(spawnSync("mkfifo", [join(dir, "pipe")]).status).toBe(0);
    expect(refusal(join(dir, "pipe"))).toMatchObject({ reason: "not-regular", message: "it is a named pipe (FIFO), not a regular file" });
  });

  it.skipIf(!existsSync("/dev/zero"))("refuses a device reached through a link", () => {
    const dir = tempProject();
    symlinkSync("/dev/zero", join(dir, "zero.md"));
    expect(refusal(join(dir, "zero.md"))).toMatchObject({ reason: "not-regular", message: "it is a character device, not a regular file" });
  });

  it("refuses a folder, a missing file and a broken link", () => {
    const dir = tempProject();
    mkdirSync(join(dir, "x.md"));
    symlinkSync(join(dir, "gone"), join(dir, "broken.md"));
    expect(refusal(join(dir, "x.md"))).toMatchObject({ reason: "not-regular", message: "it is a folder, not a regular file" });
    expect(refusal(join(dir, "missing.md"))).toMatchObject({ reason: "missing" });
    expect(refusal(join(dir, "broken.md"))).toMatchObject({ reason: "missing" });
  });

  it("refuses a file over the limit from its size alone, and reads one exactly at it", () => {
    const dir = tempProject({ "at.md": "x".repeat(1_000), "over.md": "x".repeat(1_001) });
    writeFileSync(join(dir, "sparse.md"), "");
    truncateSync(join(dir, "sparse.md"), 3 * 1024 * 1024 * 1024);
    expect(readRegularFile(join(dir, "at.md"), { maxBytes: 1_000 }).text).toHaveLength(1_000);
    expect(refusal(join(dir, "over.md"))).toMatchObject({ reason: "too-large", message: "it is 1001 bytes, over the 1000 bytes limit" });
    expect(refusal(join(dir, "over.md"), 1_000)).toMatchObject({ message: "it is 1001 bytes, over the 1000 bytes limit" });
    truncateSync(join(dir, "over.md"), 5 * 1024 * 1024 + 1);
    expect(refusal(join(dir, "over.md"), 5 * 1024 * 1024)).toMatchObject({ message: "it is 5,242,881 bytes, over the 5 MB limit" });
    expect(refusal(join(dir, "sparse.md"), 5 * 1024 * 1024)).toMatchObject({ reason: "too-large", message: "it is 3 GB, over the 5 MB limit" });
  });

  it("reads files of every size one after another, each its own text and nothing of the one before", () => {
    const sizes = [10, 70_000, 3, 2 * 1024 * 1024, 0, 65_536, 5, 1024 * 1024 + 1, 1];
    const files = Object.fromEntries(sizes.map((size, i) => [`f${i}.md`, String.fromCharCode(97 + i).repeat(size)]));
    const dir = tempProject(files);
    for (const [name, text] of Object.entries(files)) {
      expect(readRegularFile(join(dir, name), { maxBytes: 3 * 1024 * 1024 })).toEqual({ text, truncated: false });
    }
    const long = readRegularFile(join(dir, "f3.md"), { maxBytes: 100_000, truncate: true });
    expect(long).toEqual({ text: "d".repeat(100_000), truncated: true });
    expect(readRegularFile(join(dir, "f2.md"), { maxBytes: 100 }).text).toBe("ccc");
  });

  it("reads a file whose reads answer less than asked before its end, as procfs files do, whole", () => {
    // /proc/self/maps has a size of 0 and is read a page at a time.
    const text = readRegularFile("/proc/self/maps", { maxBytes: 5 * 1024 * 1024 }).text;
    expect(text.length).toBeGreaterThan(4096);
    expect(text.split("\n").filter((line) => /^[0-9a-f]+-[0-9a-f]+ /.test(line)).length).toBeGreaterThan(50);
  });

  it("returns the start of a longer file when asked to truncate", () => {
    const dir = tempProject({ "long.md": "abcdef" });
    expect(readRegularFile(join(dir, "long.md"), { maxBytes: 4, truncate: true })).toEqual({ text: "abcd", truncated: true });
    expect(readRegularFile(join(dir, "long.md"), { maxBytes: 6, truncate: true })).toEqual({ text: "abcdef", truncated: false });
  });
});

describe("formatBytes", () => {
  it("writes sizes as people read them", () => {
    expect([0, 1_023, 1_536, 5 * 1024 * 1024, 64 * 1024 * 1024, 3 * 1024 ** 3].map(formatBytes)).toEqual(["0 bytes", "1023 bytes", "1.5 KB", "5 MB", "64 MB", "3 GB"]);
  });
});
