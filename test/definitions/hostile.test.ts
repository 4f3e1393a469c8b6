import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readdirSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isCoordError, type Diagnostic } from "../../src/errors.js";
import { parseAgent } from "../../src/definitions/agent.js";
import { loadAgents } from "../../src/definitions/agent-registry.js";
import { MAX_DEFINITION_BYTES, readText } from "../../src/definitions/discover.js";
import { loadMission, loadMissionFile, loadMissions } from "../../src/definitions/mission-catalog.js";
import { MARKDOWN_LIMITS } from "../../src/definitions/markdown.js";
import { parseMission } from "../../src/definitions/mission.js";
import { fileTools } from "../../src/models/tools.js";
import { runCli, tempProject } from "../helpers/cli.js";
import { GROWTH_PLAN, agentMarkdown } from "../helpers/project.js";
import { agentText, lineStartingWith } from "./fixtures.js";

// Generous: each hostile file here used to take from 8 seconds to forever. Refusals take milliseconds.
const FAST_MS = 5_000;

/** Runs `fn`, returning its result and how long it took. */
function timed<T>(fn: () => T): { value: T; ms: number } {
  const start = performance.now();
  const value = fn();
  return { value, ms: performance.now() - start };
}

/**
 * A "billion laughs" agent: anchor `a` holds nine long strings and each next anchor nine aliases
 * of the one before, so nine levels expand to 9^9 strings. ~11 KB on disk.
 */
function aliasBomb(name = "bomb", stringLength = 1_100): string {
  const lol = JSON.stringify("lol ".repeat(stringLength / 4));
  const lines = ["---", `name: ${name}`, "description: An agent whose frontmatter explodes.", `a: &a [${Array(9).fill(lol).join(", ")}]`];
  const anchors = "abcdefghi";
  for (let i = 1; i < anchors.length; i++) lines.push(`${anchors[i]}: &${anchors[i]} [${Array(9).fill(`*${anchors[i - 1]}`).join(", ")}]`);
  return [...lines, "---", "", "You are a bomb.", ""].join("\n");
}

function codes(diagnostics: Diagnostic[]): string[] {
  return diagnostics.map((d) => d.code);
}

/** A named pipe; false where mkfifo is not available (Windows). */
function makeFifo(path: string): boolean {
  return spawnSync("mkfifo", [path]).status === 0 && lstatSync(path).isFIFO();
}

const servers: Server[] = [];
afterAll(() => servers.forEach((server) => server.close()));

/** A listening unix socket at `path`, closed after the tests. */
async function makeSocket(path: string): Promise<void> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(path, resolve));
}

const HAS_MKFIFO = process.platform !== "win32" && spawnSync("mkfifo", ["--version"]).error === undefined;
const HAS_DEV_ZERO = existsSync("/dev/zero");

describe("alias bombs in agent frontmatter", () => {
  it("refuses an 11 KB billion-laughs agent as AGENT_YAML_INVALID at the alias that explodes, in milliseconds", () => {
    const text = aliasBomb();
    expect(text.length).toBeGreaterThan(10_000);
    expect(text.length).toBeLessThan(12_000);
    const { value: parsed, ms } = timed(() => parseAgent(text, "agents/bomb.md"));
    expect(ms).toBeLessThan(FAST_MS);
    expect(parsed.agent).toBeUndefined();
    expect(parsed.diagnostics).toHaveLength(1);
    // a: 9 strings (~10 KB), b: ~90 KB, c: ~810 KB, and the first *c of d passes the 1,000,000 limit.
    expect(parsed.diagnostics[0]).toMatchObject({ code: "AGENT_YAML_INVALID", severity: "error", file: "agents/bomb.md", line: lineStartingWith(text, "d:") });
    expect(parsed.diagnostics[0]!.message).toMatch(/alias bomb/);
  });

  it("refuses the same bomb written as a .yaml agent, with the line in the file", () => {
    const text = aliasBomb().split("\n").slice(1, -4).join("\n").replace(/\n---$/, "");
    const parsed = parseAgent(text, "agents/bomb.yaml");
    expect(parsed.diagnostics).toMatchObject([{ code: "AGENT_YAML_INVALID", line: lineStartingWith(text, "d:") }]);
  });

  it("refuses an alias inside its own anchor, whose data would be a cycle no JSON can hold", () => {
    const text = "---\nname: loop\ndescription: x\nself: &self\n  again: *self\n---\nbody\n";
    const parsed = parseAgent(text, "agents/loop.md");
    expect(parsed.diagnostics).toMatchObject([{ code: "AGENT_YAML_INVALID", line: 5 }]);
    expect(parsed.diagnostics[0]!.message).toMatch(/inside its own anchor/);
  });

  it("keeps anchors and aliases used the ordinary way", () => {
    const text = "---\nname: reuser\ndescription: x\ntools: &tools [Read, Grep]\nfallback_tools: *tools\n---\nbody\n";
    const parsed = parseAgent(text, "agents/reuser.md");
    expect(parsed.diagnostics).toEqual([]);
    expect(parsed.agent?.extra).toEqual({ fallback_tools: ["Read", "Grep"] });
  });

  it("refuses YAML nested a hundred thousand levels deep at its line, without the slow explanation", () => {
    const text = `---\nname: deep\ndescription: x\nnested: ${"[".repeat(100_000)}\n---\nbody\n`;
    const { value: parsed, ms } = timed(() => parseAgent(text, "agents/deep.md"));
    expect(ms).toBeLessThan(FAST_MS);
    expect(parsed.diagnostics).toMatchObject([{ code: "AGENT_YAML_INVALID", line: 4 }]);
    expect(parsed.diagnostics[0]!.message).toMatch(/nesting deeper than 100 levels/);
  });

  it("loads a folder holding a bomb quickly, keeping every other agent", () => {
    const dir = tempProject({ "agents/bomb.md": aliasBomb(), "agents/fine.md": agentText("fine") });
    const { value: registry, ms } = timed(() => loadAgents({ cwd: dir, builtin: false }));
    expect(ms).toBeLessThan(FAST_MS);
    expect(registry.names()).toEqual(["fine"]);
    expect(codes(registry.diagnostics)).toEqual(["AGENT_YAML_INVALID"]);
  });
});

describe("agent and mission folders holding files that are not regular files", () => {
  it.skipIf(!HAS_MKFIFO)("skips a FIFO with FILE_UNREADABLE without opening it (opening would block forever)", () => {
    const dir = tempProject({ "agents/fine.md": agentText("fine"), "missions/README.md": "" });
    expect(makeFifo(join(dir, "agents", "pipe.md"))).toBe(true);
    expect(makeFifo(join(dir, "missions", "pipe.mission.md"))).toBe(true);
    const { value: registry, ms } = timed(() => loadAgents({ cwd: dir, builtin: false }));
    expect(ms).toBeLessThan(FAST_MS);
    expect(registry.names()).toEqual(["fine"]);
    expect(registry.diagnostics).toMatchObject([{ code: "FILE_UNREADABLE", file: join(dir, "agents", "pipe.md") }]);
    expect(registry.diagnostics[0]!.message).toMatch(/named pipe \(FIFO\), not a regular file/);
    expect(codes(loadMissionFile(join(dir, "missions", "pipe.mission.md")).diagnostics)).toEqual(["FILE_UNREADABLE"]);
    expect(loadMissions({ cwd: dir, builtin: false }).missions).toEqual([]);
  });

  it.skipIf(!HAS_DEV_ZERO)("skips a link to /dev/zero (a device that never ends) with FILE_UNREADABLE", () => {
    const dir = tempProject({ "agents/fine.md": agentText("fine"), "missions/README.md": "" });
    symlinkSync("/dev/zero", join(dir, "agents", "zero.md"));
    symlinkSync("/dev/zero", join(dir, "missions", "zero.md"));
    const { value: registry, ms } = timed(() => loadAgents({ cwd: dir, builtin: false }));
    expect(ms).toBeLessThan(FAST_MS);
    expect(registry.diagnostics).toMatchObject([{ code: "FILE_UNREADABLE", file: join(dir, "agents", "zero.md") }]);
    expect(registry.diagnostics[0]!.message).toMatch(/character device/);
    expect(() => loadMission("zero", { cwd: dir, builtin: false })).toThrow(expect.objectContaining({ code: "FILE_UNREADABLE" }));
  });

  it.skipIf(process.platform === "win32")("skips a unix socket with FILE_UNREADABLE", async () => {
    const dir = tempProject({ "agents/fine.md": agentText("fine") });
    await makeSocket(join(dir, "agents", "socket.md"));
    const registry = loadAgents({ cwd: dir, builtin: false });
    expect(registry.names()).toEqual(["fine"]);
    expect(registry.diagnostics).toMatchObject([{ code: "FILE_UNREADABLE" }]);
    expect(registry.diagnostics[0]!.message).toMatch(/a socket, not a regular file/);
  });

  it("never reads a folder named like an agent file: a real one is searched, a link to one is skipped", () => {
    const dir = tempProject({ "agents/x.md/inner.md": agentText("inner"), "elsewhere/y.md": agentText("y") });
    symlinkSync(join(dir, "elsewhere"), join(dir, "agents", "link.md"));
    const registry = loadAgents({ cwd: dir, builtin: false });
    expect(registry.names()).toEqual(["inner"]);
    expect(registry.diagnostics).toMatchObject([{ code: "FILE_UNREADABLE", file: join(dir, "agents", "link.md") }]);
    expect(registry.diagnostics[0]!.message).toMatch(/a folder, not a regular file/);
    expect(readText(join(dir, "agents", "x.md"))).toMatchObject({ code: "FILE_UNREADABLE" });
  });

  it("refuses a file over 5 MB with FILE_TOO_LARGE naming it and its size, without reading it", () => {
    const dir = tempProject({ "agents/fine.md": agentText("fine"), "missions/huge.md": "" });
    // Sparse: the size is what a stat reports, and no byte of it is ever read.
    writeFileSync(join(dir, "agents", "huge.md"), "");
    truncateSync(join(dir, "agents", "huge.md"), 64 * 1024 * 1024);
    truncateSync(join(dir, "missions", "huge.md"), MAX_DEFINITION_BYTES + 1);
    const { value: registry, ms } = timed(() => loadAgents({ cwd: dir, builtin: false }));
    expect(ms).toBeLessThan(FAST_MS);
    expect(registry.names()).toEqual(["fine"]);
    expect(registry.diagnostics).toMatchObject([{ code: "FILE_TOO_LARGE", severity: "error", file: join(dir, "agents", "huge.md") }]);
    expect(registry.diagnostics[0]!.message).toBe("file not read: it is 64 MB, over the 5 MB limit for agent and mission files");
    expect(loadMissionFile(join(dir, "missions", "huge.md")).diagnostics[0]!.message).toBe(
      "file not read: it is 5,242,881 bytes, over the 5 MB limit for agent and mission files",
    );
    truncateSync(join(dir, "missions", "huge.md"), MAX_DEFINITION_BYTES);
    expect(readText(join(dir, "missions", "huge.md"))).toHaveLength(MAX_DEFINITION_BYTES);
  });
});

describe("the agents' read tool", () => {
  it.skipIf(!HAS_MKFIFO)("refuses a FIFO and a socket inside the project instead of blocking on them", async () => {
    const dir = tempProject({ "notes.md": "plain" });
    expect(makeFifo(join(dir, "pipe.txt"))).toBe(true);
    await makeSocket(join(dir, "socket.txt"));
    const { read } = fileTools([dir]);
    expect(await read.invoke({ path: "pipe.txt" })).toBe("Error: refused: pipe.txt: it is a named pipe (FIFO), not a regular file");
    expect(await read.invoke({ path: "socket.txt" })).toBe("Error: refused: socket.txt: it is a socket, not a regular file");
    expect(await read.invoke({ path: "notes.md" })).toBe("plain");
  });

  it("returns the start of a huge file without reading all of it", async () => {
    const dir = tempProject({ "big.txt": "" });
    truncateSync(join(dir, "big.txt"), 1024 * 1024 * 1024);
    const { read } = fileTools([dir]);
    const { value: text, ms } = await (async () => {
      const start = performance.now();
      const value = (await read.invoke({ path: "big.txt" })) as string;
      return { value, ms: performance.now() - start };
    })();
    expect(ms).toBeLessThan(FAST_MS);
    expect(text).toHaveLength(200_000);
  });
});

describe("markdown the parser would take minutes on", () => {
  it.each([
    ["blockquotes", "> "],
    ["lists", "- "],
    ["ordered lists", "1. "],
  ])("refuses %s nested 40,000 deep on one line as MARKDOWN_TOO_COMPLEX at that line", (_kind, marker) => {
    const text = `# Mission: Deep\n\n## Mission Phases\n\n${marker.repeat(40_000)}x\n`;
    const { value: parsed, ms } = timed(() => parseMission(text, "missions/deep.md"));
    expect(ms).toBeLessThan(FAST_MS);
    expect(parsed.mission).toBeUndefined();
    expect(parsed.diagnostics).toMatchObject([{ code: "MARKDOWN_TOO_COMPLEX", severity: "error", file: "missions/deep.md", line: 5 }]);
    expect(parsed.diagnostics[0]!.message).toMatch(/nest more than 32 levels/);
  });

  it.each([
    ["list items indented two more each line", (i: number) => `${"  ".repeat(i)}- a`],
    ["numbered items indented two more each line", (i: number) => `${"  ".repeat(i)}1. a`],
    ["list items indented a tab more each line", (i: number) => `${"\t".repeat(i)}- a`],
    ["list items nested inside a quote", (i: number) => `> ${"  ".repeat(i)}- a`],
  ])("refuses %s 1,000 levels deep, which took 9 s to parse, at the line past the limit", (_shape, line) => {
    const lines = Array.from({ length: 1_000 }, (_, i) => line(i));
    const text = `# Mission: Deep\n\n## Mission Phases\n\n${lines.join("\n")}\n`;
    const { value: parsed, ms } = timed(() => parseMission(text, "missions/deep.md"));
    expect(ms).toBeLessThan(FAST_MS);
    expect(parsed.diagnostics).toMatchObject([{ code: "MARKDOWN_TOO_COMPLEX", line: 5 + MARKDOWN_LIMITS.nesting }]);
    expect(parsed.diagnostics[0]!.message).toMatch(/quotes or lists nest more than 32 levels deep/);
  });

  it.each([
    ["white space past each bullet (tabs)", (i: number) => `${"  ".repeat(i)}-${"\t".repeat(2 + 1_000 - i)}x`],
    ["white space past each bullet (spaces)", (i: number) => `${"  ".repeat(i)}-${" ".repeat(5 + 3 * (400 - i))}x`],
  ])("counts nesting from the bullets, so %s cannot hide 400 levels", (_shape, line) => {
    const text = `# Mission: Deep\n\n${Array.from({ length: 400 }, (_, i) => line(i)).join("\n")}\n`;
    const { value: parsed, ms } = timed(() => parseMission(text, "missions/deep.md"));
    expect(ms).toBeLessThan(FAST_MS);
    expect(codes(parsed.diagnostics)).toEqual(["MARKDOWN_TOO_COMPLEX"]);
  });

  it.each([
    ["a quote", "> a\nb\n>\n"],
    ["a quote in a quote", "> > a\nb\n>\n"],
    ["a list in a quote", "> - a\nlazy\n>\n"],
  ])("refuses %s that goes on without its > and back thousands of times (each time re-read to the end: 15 s at 100 KB)", (_shape, unit) => {
    const { value: parsed, ms } = timed(() => parseMission(`# Mission: Lazy\n\n${unit.repeat(12_000)}`, "missions/lazy.md"));
    expect(ms).toBeLessThan(FAST_MS);
    expect(parsed.diagnostics).toMatchObject([{ code: "MARKDOWN_TOO_COMPLEX", message: expect.stringMatching(/without its > and back too many times/) }]);
  });

  it("reads a heading's title from its first 2,000 characters: an unclosed <!-- repeated in a long heading parses at once", () => {
    const text = `# Mission: ${"<!--".repeat(80_000)}\n\n### Phase 1: Go\n\n**Lead**: @a\n`;
    const { value: parsed, ms } = timed(() => parseMission(text, "missions/comment.md"));
    expect(ms).toBeLessThan(FAST_MS);
    expect(parsed.mission!.phases.map((p) => p.title)).toEqual(["Go"]);
  });

  it("accepts lists nested up to the limit, and twenty such lists one after another", () => {
    const nested = Array.from({ length: MARKDOWN_LIMITS.nesting }, (_, i) => `${"  ".repeat(i)}- step ${i}`).join("\n");
    const text = `# Mission: Nested\n\n### Phase 1: Go\n\n**Lead**: @a\n\n${`${nested}\n\nText.\n\n`.repeat(20)}`;
    const parsed = parseMission(text, "missions/nested.md");
    expect(codes(parsed.diagnostics)).not.toContain("MARKDOWN_TOO_COMPLEX");
    expect(parsed.mission!.phases[0]!.steps).toHaveLength(20);
    expect(parsed.mission!.phases[0]!.steps[0]).toMatch(/^step 0\n- step 1\n    - step 2/);
  });

  it("accepts nesting up to the limit", () => {
    const text = `# Mission: Nested\n\n### Phase 1: Go\n\n**Lead**: @a\n\n${"> ".repeat(MARKDOWN_LIMITS.nesting)}x\n`;
    expect(codes(parseMission(text, "missions/nested.md").diagnostics)).not.toContain("MARKDOWN_TOO_COMPLEX");
  });

  it.each([
    ["thousands of separate quotes", "> x\n\n".repeat(20_000), /too many separate quotes and lists/],
    ["a quoted paragraph with thousands of lazy lines", `> x\n${"y\n".repeat(20_000)}`, /more than 100 lines without its >/],
    ["unmatched emphasis", "*_".repeat(20_000), /emphasis markers/],
    ["nested brackets", `${"[".repeat(10_000)}${"]".repeat(10_000)}`, /brackets/],
  ])("refuses %s, which would parse in quadratic time", (_shape, text, message) => {
    const { value: parsed, ms } = timed(() => parseMission(text, "missions/slow.md"));
    expect(ms).toBeLessThan(FAST_MS);
    expect(codes(parsed.diagnostics)).toEqual(["MARKDOWN_TOO_COMPLEX"]);
    expect(parsed.diagnostics[0]!.message).toMatch(message);
  });

  it("throws the refusal as a CoordError when the mission is named", () => {
    const dir = tempProject({ "missions/deep.md": `# Deep\n\n${"> ".repeat(1_000)}x\n` });
    let thrown: unknown;
    try {
      loadMission("deep", { cwd: dir, builtin: false });
    } catch (error) {
      thrown = error;
    }
    expect(isCoordError(thrown)).toBe(true);
    expect(thrown).toMatchObject({ code: "MARKDOWN_TOO_COMPLEX", line: 3 });
  });
});

describe("prompt templates with thousands of placeholders on one line", () => {
  const template = (count: number) =>
    `# ROLE\n\nYou are a writer.\n\n# INPUT\n\n${Array.from({ length: count }, (_, i) => `field ${i} of the brief: [PLACE HOLDER ${i}]`).join(" ")}\n\n# OUTPUT FORMAT\n\n## Draft\n\nWrite it.\n`;

  it("gives 2,000 placeholders short descriptions: the label since the previous placeholder", () => {
    const text = template(2_000);
    const parsed = parseMission(text, "missions/many.prompt.md");
    expect(parsed.diagnostics).toEqual([]);
    const inputs = parsed.mission!.inputs;
    expect(inputs).toHaveLength(2_000);
    expect(inputs[1]).toMatchObject({ title: "PLACE HOLDER 1", description: "field 1 of the brief" });
    expect(Math.max(...inputs.map((i) => i.description.length))).toBeLessThanOrEqual(200);
    // Was 38.6 MB for 2,000 placeholders on a 39 KB line.
    expect(JSON.stringify(parsed.mission).length).toBeLessThan(10 * text.length);
  });

  it("caps a description at 200 characters when the label before it is longer", () => {
    const text = `# ROLE\n\nYou are x.\n\n# INPUT\n\n${"word ".repeat(1_000)}: [LONG LABEL]\n\n# OUTPUT FORMAT\n\n## A\n\nx\n`;
    const [input] = parseMission(text, "missions/long.prompt.md").mission!.inputs;
    expect(input!.description.length).toBeLessThanOrEqual(200);
    expect(input!.description).toMatch(/^word( word)+$/);
  });

  it("refuses 10,000 on one line with MARKDOWN_TOO_COMPLEX instead of crashing with Invalid string length", () => {
    const parsed = parseMission(template(10_000), "missions/huge.prompt.md");
    expect(parsed.diagnostics).toMatchObject([{ code: "MARKDOWN_TOO_COMPLEX", line: 7 }]);
  });
});

describe("CLI commands on a project holding hostile files", () => {
  /** The Growth Plan project, plus an alias bomb, a FIFO and a link to /dev/zero among its agents. */
  function hostileProject(): string {
    const agents = Object.fromEntries(["analyst", "researcher", "seller", "planner"].map((name) => [`agents/${name}.md`, agentMarkdown(name)]));
    const dir = tempProject({ ...agents, "agents/bomb.md": aliasBomb(), "missions/test-mission.md": GROWTH_PLAN });
    if (HAS_MKFIFO) makeFifo(join(dir, "agents", "pipe.md"));
    if (HAS_DEV_ZERO) symlinkSync("/dev/zero", join(dir, "agents", "zero.md"));
    return dir;
  }

  /** Total bytes of the regular files under `dir`. */
  function folderBytes(dir: string): number {
    return readdirSync(dir, { withFileTypes: true, recursive: true })
      .filter((entry) => entry.isFile())
      .reduce((sum, entry) => sum + lstatSync(join(entry.parentPath, entry.name)).size, 0);
  }

  async function cli(args: string[], cwd: string) {
    const start = performance.now();
    const result = await runCli(args, { cwd, env: {} });
    return { ...result, ms: performance.now() - start };
  }

  it("agents list and agents validate finish and name each refused file", async () => {
    const cwd = hostileProject();
    const list = await cli(["agents", "list", "--json"], cwd);
    expect(list.ms).toBeLessThan(FAST_MS);
    expect(list.code).toBe(0);
    const names = (JSON.parse(list.stdout) as Array<{ name: string }>).map((a) => a.name);
    expect(names).toEqual(expect.arrayContaining(["analyst", "planner", "researcher", "seller"]));
    expect(names).not.toContain("bomb");

    const validate = await cli(["agents", "validate", "--json"], cwd);
    expect(validate.ms).toBeLessThan(FAST_MS);
    expect(validate.code).toBe(2);
    const { diagnostics } = JSON.parse(validate.stdout) as { diagnostics: Diagnostic[] };
    const bomb = diagnostics.find((d) => d.file?.endsWith("bomb.md"));
    expect(bomb).toMatchObject({ code: "AGENT_YAML_INVALID", line: lineStartingWith(aliasBomb(), "d:") });
    const unreadable = diagnostics.filter((d) => d.code === "FILE_UNREADABLE").map((d) => d.file!.split(/[\\/]/).pop());
    expect(unreadable.sort()).toEqual([...(HAS_MKFIFO ? ["pipe.md"] : []), ...(HAS_DEV_ZERO ? ["zero.md"] : [])]);
  });

  it("agents show names the refused agent as not found, and shows the others", async () => {
    const cwd = hostileProject();
    const bomb = await cli(["agents", "show", "bomb"], cwd);
    expect(bomb.ms).toBeLessThan(FAST_MS);
    expect(bomb.code).toBe(2);
    expect(bomb.stderr).toContain('no agent named "bomb"');
    const planner = await cli(["agents", "show", "planner", "--json"], cwd);
    expect(planner.code).toBe(0);
    expect(JSON.parse(planner.stdout)).toMatchObject({ name: "planner" });
  });

  it("run completes the mission offline without the bomb, and saves a small run", async () => {
    const cwd = hostileProject();
    const run = await cli(["run", "test-mission", "--input", "market-brief=Churn 14%", "--input", "sales-notes=Stalls", "--run-id", "hostile", "--no-hooks"], cwd);
    expect(run.ms).toBeLessThan(30_000);
    expect(run.stderr).not.toMatch(/RangeError|Invalid string length|heap/);
    expect(run.code).toBe(0);
    // The bomb once saved a 34.7 MB run spec from a 435-byte file.
    expect(folderBytes(cwd)).toBeLessThan(2_000_000);
  });

  it("run refuses a mission that asks for the refused agent, quickly", async () => {
    const cwd = hostileProject();
    writeFileSync(join(cwd, "missions", "test-mission.md"), GROWTH_PLAN.replace(/@planner/g, "@bomb"));
    const run = await cli(["run", "test-mission", "--input", "market-brief=x", "--input", "sales-notes=y", "--no-hooks"], cwd);
    expect(run.ms).toBeLessThan(FAST_MS);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('"bomb" (not found)');
  });

  it("missions validate reports a mission nested too deep, with its line", async () => {
    const cwd = hostileProject();
    mkdirSync(join(cwd, "missions", "more"), { recursive: true });
    writeFileSync(join(cwd, "missions", "more", "deep.md"), `# Mission: Deep\n\n${"> ".repeat(40_000)}x\n`);
    const validate = await cli(["missions", "validate", "missions/more/deep.md", "--json"], cwd);
    expect(validate.ms).toBeLessThan(FAST_MS);
    expect(validate.code).toBe(2);
    const { diagnostics } = JSON.parse(validate.stdout) as { diagnostics: Diagnostic[] };
    expect(diagnostics).toMatchObject([{ code: "MARKDOWN_TOO_COMPLEX", line: 3 }]);
  });
});
