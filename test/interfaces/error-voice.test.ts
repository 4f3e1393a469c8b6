import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CoordError, asInternal, isCoordError, type Surface } from "../../src/errors.js";
import { expandPaths } from "../../src/definitions/discover.js";
import { parseMission } from "../../src/definitions/mission.js";
import { chatErrorText, cliErrorLine, httpError, httpStatusOf, mcpErrorText, scrubPaths, viewError } from "../../src/interfaces/error-voice.js";
import { requireMissionId } from "../../src/interfaces/surface.js";
import { resolveInputs } from "../../src/runtime/inputs.js";
import { lockRun } from "../../src/runtime/lock.js";
import { specFile } from "../../src/runtime/paths.js";
import { loadSpec } from "../../src/runtime/store/specs.js";
import { SqliteRunStore } from "../../src/runtime/store/sqlite-store.js";
import { BudgetExceededError } from "../../src/runtime/budget.js";
import { readFixture, tempDir, tempTree } from "../definitions/fixtures.js";

const REMOTE: Surface[] = ["chat", "mcp", "http"];
const GROWTH = (() => {
  const { file, text } = readFixture("units", "growth-plan.md");
  return parseMission(text, file).mission!;
})();

/** What loadSpec rejects with for a run in a SQLite store under `home`. */
async function loadSpecError(home: string, runId: string): Promise<unknown> {
  const store = new SqliteRunStore(home);
  try {
    await loadSpec(store, runId);
  } catch (error) {
    return error;
  } finally {
    await store.close();
  }
  throw new Error("expected an error, loadSpec resolved");
}

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error, nothing was thrown");
}

/** Every text a remote surface would show for an error. */
function remoteTexts(error: unknown, cwd: string): string[] {
  return [chatErrorText(error, cwd), mcpErrorText(error, cwd), JSON.stringify(httpError(error, cwd).body), ...REMOTE.map((s) => JSON.stringify(viewError(error, s, cwd)))];
}

/** A missing-inputs error as resolveInputs raises it: its hint names --inputs. */
const inputMissing = () => caught(() => resolveInputs(GROWTH, { cwd: tempDir("coord-voice-") }));

describe("the CLI line", () => {
  it("reads coord: path:line: message (fix: hint), with a path inside the project made relative", () => {
    const cwd = tempDir("coord-voice-");
    const error = new CoordError("MISSION_UNKNOWN_AGENT", 'mission names unknown agent "@ghost"', { file: join(cwd, "missions", "launch.md"), line: 12, hint: "add agents/ghost.md" });
    expect(cliErrorLine(error, cwd)).toBe('coord: missions/launch.md:12: mission names unknown agent "@ghost" (fix: add agents/ghost.md)');
  });

  it("keeps a path outside the project whole, since the person at the terminal can open it", () => {
    const error = new CoordError("FILE_UNREADABLE", "cannot read file", { file: "/etc/coord/agents/x.md" });
    expect(cliErrorLine(error, tempDir("coord-voice-"))).toBe("coord: /etc/coord/agents/x.md: cannot read file");
  });

  it("prints a path that does not exist, as expandPaths reports it, with its fix", () => {
    const cwd = tempTree({ "agents/a.md": "x" });
    const { files, diagnostics } = expandPaths(["agents", "nope.md"], /\.md$/, cwd);
    expect(files).toEqual([join(cwd, "agents", "a.md")]);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]!.code).toBe("PATH_NOT_FOUND");
    expect(cliErrorLine(CoordError.from(diagnostics[0]!), cwd)).toBe("coord: no such file or folder: nope.md (fix: check the path)");
  });

  it("keeps the command-line advice of the error", () => {
    expect(cliErrorLine(inputMissing(), "/")).toMatch(/^coord: mission "growth-plan" is missing required inputs: market-brief, sales-notes \(fix: put .* --inputs DIR, or pass --input market-brief=@FILE\)$/);
  });
});

describe("remote surfaces (chat, MCP, HTTP)", () => {
  it("never show an absolute path: the project's made relative, others cut to the file name", async () => {
    const cwd = tempDir("coord-voice-");
    const home = join(cwd, ".coord");
    // loadSpec quotes the state folder, an absolute path, in its message.
    const notFound = await loadSpecError(home, "growth-plan-1");
    expect(isCoordError(notFound) && notFound.message).toBe(`no run "growth-plan-1" in ${home}`);
    for (const surface of REMOTE) expect(viewError(notFound, surface, cwd).message, surface).toBe('no run "growth-plan-1" in .coord');
    for (const text of remoteTexts(notFound, cwd)) expect(text).not.toContain(cwd);
    // Seen from another folder, the path is cut to its last part.
    const elsewhere = tempDir("coord-voice-");
    for (const text of remoteTexts(notFound, elsewhere)) expect(text).not.toContain(cwd);

    const outside = new CoordError("FILE_UNREADABLE", "cannot read /srv/secrets/agents/x.md or /srv/secrets/y.md", { file: "/srv/secrets/agents/x.md", line: 3 });
    expect(viewError(outside, "http", cwd)).toEqual({ code: "FILE_UNREADABLE", message: "cannot read x.md or y.md", file: "x.md", line: 3 });
    expect(chatErrorText(outside, cwd)).toBe("⚠️ x.md:3: cannot read x.md or y.md");

    const inside = new CoordError("MISSION_NO_PHASES", `${join(cwd, "missions", "m.md")} has no phases`, { file: join(cwd, "missions", "m.md"), line: 1 });
    expect(viewError(inside, "mcp", cwd)).toEqual({ code: "MISSION_NO_PHASES", message: "missions/m.md has no phases", file: "missions/m.md", line: 1 });
  });

  it("leave out a hint written for the command line when the error has none for remote callers", () => {
    for (const surface of REMOTE) expect(viewError(inputMissing(), surface, "/"), surface).not.toHaveProperty("hint");
    const auth = new CoordError("MODEL_AUTH", "openai refused the API key (HTTP 401)", { hint: "set OPENAI_API_KEY in the environment or .env to a valid key, then `coord resume RUN_ID`" });
    expect(httpError(auth, "/").body).toEqual({ error: "openai refused the API key (HTTP 401)", code: "MODEL_AUTH" });
    expect(mcpErrorText(auth, "/")).toBe("MODEL_AUTH: openai refused the API key (HTTP 401)");
  });

  it("use the error's remote hint in place of the command-line one", () => {
    const budget = new BudgetExceededError("1000 tokens used of --max-tokens 1000");
    expect(cliErrorLine(budget, "/")).toContain("(fix: resume with a higher --max-tokens");
    for (const surface of REMOTE) expect(viewError(budget, surface, "/").hint, surface).toBe(budget.hints.remote);
    expect(chatErrorText(budget, "/")).toBe(`⚠️ budget reached: 1000 tokens used of --max-tokens 1000\nFix: ${budget.hints.remote}`);
  });

  it("use a surface's own hint over the remote one", () => {
    const error = new CoordError("RUN_NOT_PAUSED", "run r1 is not waiting for approval", { hint: "run `coord runs show r1`", hints: { remote: "check the run's status", chat: "ask for `status r1`" } });
    expect(viewError(error, "chat", "/").hint).toBe("ask for `status r1`");
    expect(viewError(error, "http", "/").hint).toBe("check the run's status");
    expect(viewError(error, "cli", "/").hint).toBe("run `coord runs show r1`");
  });

  it("show a refused mission path by its file name only", () => {
    const refused = caught(() => requireMissionId("/srv/private/plans.md"));
    expect(isCoordError(refused) && refused.code).toBe("MISSION_PATH_REFUSED");
    expect(httpError(refused, "/home/ana/proj")).toMatchObject({ status: 400, body: { error: '"plans.md" is not a mission id', code: "MISSION_PATH_REFUSED" } });
    expect(cliErrorLine(refused, "/home/ana/proj")).toContain('"/srv/private/plans.md" is not a mission id');
  });

  it("leave a /coord slash command in a hint as it is", () => {
    const refused = caught(() => requireMissionId("../secret.md"));
    expect(isCoordError(refused) && refused.code).toBe("MISSION_PATH_REFUSED");
    expect(viewError(refused, "chat", "/").hint).toBe("name a mission by its id, as list_missions or /coord list show");
  });

  it("keep a hint that fits every surface, its paths scrubbed", () => {
    const cwd = tempDir("coord-voice-");
    const error = new CoordError("AGENT_NOT_FOUND", 'no agent "writr"', { hint: `did you mean writer? It is in ${join(cwd, "agents", "writer.md")}` });
    expect(viewError(error, "http", cwd).hint).toBe("did you mean writer? It is in agents/writer.md");
  });

  it("do not show a lock file's path from a busy run's hint", () => {
    const home = join(tempDir("coord-voice-"), ".coord");
    const release = lockRun(home, "r1");
    try {
      const busy = caught(() => lockRun(home, "r1"));
      expect(isCoordError(busy) && busy.code).toBe("RUN_BUSY");
      expect(cliErrorLine(busy, "/")).toContain(".lock");
      for (const text of remoteTexts(busy, "/")) expect(text).not.toContain(".lock");
      expect(httpError(busy, "/").status).toBe(409);
    } finally {
      release();
    }
  });
});

describe("HTTP errors", () => {
  it("map codes to statuses: not found 404, busy 409, not allowed 403, a user's mistake 400, our bug 500", async () => {
    const missingRun = await loadSpecError(join(tempDir("coord-voice-"), ".coord"), "r1");
    expect(httpError(missingRun, "/")).toMatchObject({ status: 404, body: { code: "RUN_NOT_FOUND" } });
    expect(httpError(inputMissing(), "/")).toMatchObject({ status: 400, body: { code: "INPUT_MISSING" } });
    expect(httpError(new TypeError("x is undefined"), "/")).toMatchObject({ status: 500, body: { code: "INTERNAL" } });
    expect(httpStatusOf("RUN_BUSY")).toBe(409);
    expect(httpStatusOf("APPROVAL_NOT_ALLOWED")).toBe(403);
    expect(httpStatusOf("USAGE")).toBe(400);
  });

  it("give a body of error, code and hint only", async () => {
    const missingRun = await loadSpecError(join(tempDir("coord-voice-"), ".coord"), "r1");
    expect(Object.keys(httpError(missingRun, "/").body).sort()).toEqual(["code", "error", "hint"]);
  });

  it("refuse a spec from an older coord without showing where the state folder is", async () => {
    const cwd = tempDir("coord-voice-");
    const home = join(cwd, ".coord");
    mkdirSync(join(home, "runs"), { recursive: true });
    writeFileSync(specFile(home, "old"), "{}");
    const old = await loadSpecError(home, "old");
    // The error names the run, not the spec's file: a store may keep specs in no file at all.
    expect(isCoordError(old) && old.code).toBe("RUN_NOT_FOUND");
    expect(isCoordError(old) && old.file).toBeUndefined();
    expect(httpError(old, tempDir("coord-voice-")).body).toEqual({ error: 'run "old" was started by an older coord and cannot be continued by this one', code: "RUN_NOT_FOUND", hint: "start the mission again" });
    for (const surface of REMOTE) expect(viewError(old, surface, tempDir("coord-voice-")), surface).not.toHaveProperty("file");
    for (const text of remoteTexts(old, tempDir("coord-voice-"))) expect(text).not.toContain(home);
  });
});

describe("errors that are not a CoordError", () => {
  it("become INTERNAL with a plea to report, their message shown on the CLI only", () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'phases') at /srv/coord/dist/run.js");
    const cli = viewError(bug, "cli", "/");
    expect(cli.code).toBe("INTERNAL");
    expect(cli.message).toBe(`internal error: ${bug.message}`);
    expect(cli.hint).toContain("please report");
    for (const surface of REMOTE) {
      const view = viewError(bug, surface, "/");
      expect(view).toEqual({ code: "INTERNAL", message: "internal error in coord", hint: cli.hint });
    }
    for (const text of remoteTexts(bug, "/")) expect(text).not.toContain("Cannot read properties");
    expect(mcpErrorText(bug, "/")).toMatch(/^INTERNAL: internal error in coord\nFix: .*please report/);
  });

  it("keep what was thrown as the cause, and its stack", () => {
    const bug = new RangeError("boom");
    const internal = asInternal(bug);
    expect(internal.code).toBe("INTERNAL");
    expect(internal.cause).toBe(bug);
    expect(internal.stack).toBe(bug.stack);
    expect(asInternal(internal)).toBe(internal);
    expect(viewError("a thrown string", "cli", "/").message).toBe("internal error: a thrown string");
  });
});

describe("scrubPaths", () => {
  it("rewrites every absolute path in a text and leaves relative paths, URLs and slashes in prose alone", () => {
    expect(scrubPaths("read /home/ana/proj/inputs/a.md and /opt/x/b.md, not inputs/c.md or https://example.com/d/e or and/or", "/home/ana/proj")).toBe(
      "read inputs/a.md and b.md, not inputs/c.md or https://example.com/d/e or and/or",
    );
  });
});
