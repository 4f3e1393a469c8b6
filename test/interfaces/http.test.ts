import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { connect } from "node:net";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { loadSettings } from "../../src/definitions/settings.js";
import type { Settings } from "../../src/definitions/schemas/settings.js";
import { runNotifier } from "../../src/interfaces/notify.js";
import { runWorker } from "../../src/service/worker.js";
import type { ErrorCode } from "../../src/errors.js";
import { httpStatusOf } from "../../src/interfaces/error-voice.js";
import { checkBind, createCoordServer, MAX_BODY } from "../../src/interfaces/http/server.js";
import { signSlackRequest } from "../../src/interfaces/http/slack.js";
import { responseUrlProblem } from "../../src/interfaces/http/slack-reply.js";
import { BIN, cliEnv, runBinAsync } from "../helpers/cli.js";
import { missionMarkdown, runProject } from "../helpers/project.js";

const SECRET = "test-signing-secret";
const MISSION = missionMarkdown("Http Plan", ["Brief"], [{ title: "Plan", lead: "planner", deliverables: ["Plan outline"] }]);

let children: ChildProcess[] = [];
let servers: Server[] = [];
let workers: Array<{ stop: AbortController; done: Promise<void> }> = [];
afterEach(async () => {
  for (const worker of workers) worker.stop.abort();
  await Promise.all(workers.map((w) => w.done));
  workers = [];
  for (const child of children) child.kill("SIGTERM");
  for (const server of servers) await new Promise((r) => server.close(r));
  children = [];
  servers = [];
});

async function listen(server: Server, host = "127.0.0.1"): Promise<string> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, host, r));
  return `http://${host}:${(server.address() as AddressInfo).port}`;
}

/** `coord serve` in this process, as the CLI starts it (its worker included): its base URL and what it logged. */
async function serve(cwd: string, env: Record<string, string | undefined> = {}, host = "127.0.0.1", options: { workers?: number } = {}): Promise<{ url: string; logs: string[] }> {
  const { settings, env: fullEnv } = loadSettings(cwd, cliEnv({ COORD_SLACK_SIGNING_SECRET: SECRET, ...env }));
  const logs: string[] = [];
  const log = (message: string) => logs.push(message);
  const server = createCoordServer({ cwd, host, settings, env: fullEnv, log });
  if (options.workers !== 0) startWorker(cwd, settings, fullEnv, log);
  return { url: await listen(server, host), logs };
}

/** A worker in this process, as `coord serve` runs one, answering Slack when a run stops. */
function startWorker(cwd: string, settings: Settings, env: Record<string, string | undefined>, log: (m: string) => void): void {
  const stop = new AbortController();
  workers.push({ stop, done: runWorker({ cwd, settings, env, signal: stop.signal, pollMs: 20, log, onStop: runNotifier({ cwd, settings, env }, log) }) });
}

function slackPost(url: string, fields: Record<string, string>, headers: Record<string, string>) {
  const body = new URLSearchParams(fields).toString();
  return fetch(`${url}/slack/commands`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", ...headers }, body });
}

type SlackMessage = { response_type: string; text: string };

/** A signed slash command from a Slack user, and Slack's immediate answer. */
async function slack(url: string, user: string | undefined, text: string, responseUrl?: string): Promise<SlackMessage> {
  const fields = { command: "/coord", text, ...(user && { user_id: user }), ...(responseUrl && { response_url: responseUrl }) };
  const response = await slackPost(url, fields, signSlackRequest(new URLSearchParams(fields).toString(), SECRET));
  expect(response.status).toBe(200);
  return (await response.json()) as SlackMessage;
}

const poll = async <T>(fn: () => Promise<T | undefined> | T | undefined): Promise<T> => {
  for (let i = 0; i < 300; i++) {
    const value = await fn();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("timed out");
};

/** A stand-in for Slack's response_url on this machine: every JSON posted to it, in order. */
async function slackStandIn(): Promise<{ url: string; posts: SlackMessage[]; post: (index: number) => Promise<SlackMessage> }> {
  const posts: SlackMessage[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    res.end("ok");
    posts.push(JSON.parse(Buffer.concat(chunks).toString()) as SlackMessage);
  });
  const url = `${await listen(server)}/hook`;
  return { url, posts, post: (index) => poll(() => posts[index]) };
}

/**
 * A GET as fetch cannot send it: with another Host (a DNS-rebinding page's requests carry its own
 * host name) or a path fetch would normalise.
 */
function rawGet(base: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(base, { path, headers }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** A POST as API clients send it: a JSON body. */
function post(url: string, body?: unknown, headers: Record<string, string> = {}) {
  return fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, ...(body !== undefined && { body: JSON.stringify(body) }) });
}

const runIdOf = (text: string) => /run `([^`]+)`/.exec(text)![1]!;

describe("coord serve: Slack slash commands", () => {
  it("answers quick commands in the body, and runs in the background with the reply posted to response_url", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: {} }, inputs: {} });
    const { url } = await serve(cwd, { COORD_SLACK_RESPONSE_HOSTS: "127.0.0.1" });
    const list = await slack(url, "UALICE", "list");
    expect(list.response_type).toBe("ephemeral");
    expect(list.text).toContain("`test-mission`");
    expect((await slack(url, "UALICE", "help")).text).toContain("--approve");

    const hook = await slackStandIn();
    const ack = await slack(url, "UALICE", 'test-mission brief="Grow onboarding to 60%"', hook.url);
    expect(ack.text).toContain("Running `test-mission`");
    const final = await hook.post(0);
    expect(final.text).toContain("✅ completed");
    // Slack's mrkdwn: bold is one star, italics underscores.
    expect(final.text).toMatch(/^\*Http Plan\* · run/);
    expect(final.text).toContain("_Phase 1: Plan_");
    expect(final.text).toContain("• Plan outline");
  });

  it("rejects bad signatures and stale timestamps with 401", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: {} }, inputs: {} });
    const { url } = await serve(cwd);
    const fields = { command: "/coord", text: "help" };
    const body = new URLSearchParams(fields).toString();
    expect((await slackPost(url, fields, signSlackRequest(body, "wrong-secret"))).status).toBe(401);
    const stale = await slackPost(url, fields, signSlackRequest(body, SECRET, Math.floor(Date.now() / 1000) - 600));
    expect(stale.status).toBe(401);
    expect(await stale.json()).toMatchObject({ code: "HTTP_UNAUTHORIZED", error: expect.stringContaining("stale") });
    expect((await slackPost(url, fields, {})).status).toBe(401);
  });

  it("pauses a run started with --approve, and takes decisions on it only from its starter or an approver", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: {} }, inputs: {} });
    const { url } = await serve(cwd, { COORD_SLACK_RESPONSE_HOSTS: "127.0.0.1", COORD_SLACK_APPROVERS: "UBOSS, UOPS" });
    const hook = await slackStandIn();
    const ack = await slack(url, "UALICE", 'test-mission --approve brief="Grow onboarding"', hook.url);
    expect(ack.text).toContain("pausing for approval");
    const paused = await hook.post(0);
    expect(paused.text).toContain("⏸️ paused (approval)");
    const runId = runIdOf(paused.text);
    expect(paused.text).toContain(`/coord approve ${runId}`);
    expect(JSON.parse(readFileSync(`${cwd}/.coord/runs/${runId}.owner`, "utf8"))).toMatchObject({ slackUser: "UALICE" });

    // Anyone else in the workspace is refused, in a reply only they see, and nothing runs.
    for (const [user, text] of [["UMALLORY", `approve ${runId}`], ["UMALLORY", `reject ${runId} start over`], [undefined, `approve ${runId}`]] as const) {
      const refused = await slack(url, user, text, hook.url);
      expect(refused.response_type).toBe("ephemeral");
      expect(refused.text).toContain(`only the person who started run \`${runId}\` or a coord approver can approve or reject it`);
      expect(refused.text).toContain("<@UALICE>");
    }

    // An approver may decide on any run; the starter on their own.
    expect((await slack(url, "UOPS", `reject ${runId} add numbers`, hook.url)).text).toContain(`Redoing \`${runId}\``);
    expect((await hook.post(1)).text).toContain("⏸️ paused (approval)");
    expect((await slack(url, "UALICE", `approve ${runId} ship it`, hook.url)).text).toContain(`Approving \`${runId}\``);
    expect((await hook.post(2)).text).toContain("✅ completed");
    expect(hook.posts).toHaveLength(3);
  });

  it("posts replies only to response_urls on the allowed hosts, never to others", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: {} }, inputs: {} });
    // Only hooks.slack.com, the default: the stand-in on 127.0.0.1 is not allowed.
    const { url, logs } = await serve(cwd);
    const hook = await slackStandIn();
    expect((await slack(url, "UALICE", "test-mission brief=Grow", hook.url)).text).toContain("Running `test-mission`");
    const logged = await poll(() => logs.find((l) => l.includes("reply not posted")));
    expect(logged).toContain("host 127.0.0.1 is not in remote.slackResponseHosts");
    expect(hook.posts).toEqual([]);
  });

  it("allows https to listed hosts, and plain http only to a listed host on this machine", () => {
    const hosts = ["hooks.slack.com", "127.0.0.1", "relay.example"];
    expect(responseUrlProblem("https://hooks.slack.com/commands/T1/2/abc", hosts)).toBeUndefined();
    expect(responseUrlProblem("https://HOOKS.slack.com/commands/T1/2/abc", hosts)).toBeUndefined();
    expect(responseUrlProblem("http://127.0.0.1:9/hook", hosts)).toBeUndefined();
    expect(responseUrlProblem("http://localhost:9/hook", hosts)).toMatch(/localhost is not in remote.slackResponseHosts/);
    expect(responseUrlProblem("http://hooks.slack.com/commands/T1", hosts)).toMatch(/plain http/);
    expect(responseUrlProblem("http://relay.example/x", hosts)).toMatch(/plain http/);
    expect(responseUrlProblem("https://hooks.slack.com.evil.example/x", hosts)).toMatch(/not in remote.slackResponseHosts/);
    expect(responseUrlProblem("https://169.254.169.254/latest", hosts)).toMatch(/not in remote.slackResponseHosts/);
    expect(responseUrlProblem("file:///etc/passwd", hosts)).toMatch(/not https/);
    expect(responseUrlProblem("not a url", hosts)).toMatch(/not a URL/);
    expect(responseUrlProblem(null, hosts)).toMatch(/no response_url/);
  });

  it("never shows the server's absolute paths in a Slack reply, whatever fails", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: {} }, inputs: {} });
    const { url } = await serve(cwd, { COORD_SLACK_RESPONSE_HOSTS: "127.0.0.1", COORD_SLACK_APPROVERS: "UBOSS" });
    const hook = await slackStandIn();
    const quick = [await slack(url, "UBOSS", "status no-such-run"), await slack(url, "UBOSS", "test-mission oops")];
    // Runs and decisions are checked before they are queued: what fails is answered at once.
    const queued = ["test-mission", `${cwd}/missions/test-mission.md brief=x`, "no-such-mission brief=x", "test-mission brief=@/etc/passwd", "approve no-such-run"];
    const answers: SlackMessage[] = [];
    for (const text of queued) answers.push(await slack(url, "UBOSS", text, hook.url));
    expect(answers.every((a) => a.response_type === "ephemeral")).toBe(true);
    expect(hook.posts).toEqual([]);
    const replies = [...quick, ...answers].map((r) => r.text);
    for (const failure of ['no run "no-such-run"', "not key=value", "missing required input", "is not a mission id", "no mission named", "may not read files"]) {
      expect(replies.join("\n")).toContain(failure);
    }
    expect(replies.filter((r) => r.includes('no run "no-such-run"'))).toHaveLength(2);
    for (const text of replies) {
      expect(text).not.toContain(cwd);
      expect(text).not.toContain("/tmp");
    }
  });
});

describe("coord serve: the runs API", () => {
  const status = (url: string, id: string) =>
    poll(async () => {
      const r = (await (await fetch(`${url}/api/runs/${id}`)).json()) as { status: string };
      return r.status === "running" || r.status === "queued" ? undefined : r.status;
    });

  it("starts a run (202 with its id), returns its record, and approves a paused run", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: { pre: "touch hook-ran" } }, inputs: {} });
    const { url } = await serve(cwd);
    const started = await post(`${url}/api/runs`, { mission: "test-mission", inputs: { brief: "Grow onboarding." } });
    expect(started.status).toBe(202);
    const { runId } = (await started.json()) as { runId: string };
    expect(await status(url, runId)).toBe("completed");
    // Runs started over HTTP run no agent hooks.
    expect(existsSync(`${cwd}/hook-ran`)).toBe(false);

    const gated = await post(`${url}/api/runs`, { mission: "test-mission", inputs: { brief: "Grow onboarding." }, approve: true });
    const gatedId = ((await gated.json()) as { runId: string }).runId;
    expect(await status(url, gatedId)).toBe("paused");
    // Two approvals at once: exactly one drives the run, the other is told it is taken.
    const [a, b] = await Promise.all([post(`${url}/api/runs/${gatedId}/approve`, { note: "ship it" }), post(`${url}/api/runs/${gatedId}/approve`, { note: "ship it" })]);
    expect([a.status, b.status].sort()).toEqual([202, 409]);
    expect(await poll(async () => ((await status(url, gatedId)) === "completed" ? "completed" : undefined))).toBe("completed");
  });

  it("rejects a paused phase with a note, which the lead's redo sees, and refuses a rejection without one", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: {} }, inputs: {} });
    const { url } = await serve(cwd);
    const started = await post(`${url}/api/runs`, { mission: "test-mission", inputs: { brief: "Grow onboarding." }, approve: true });
    const { runId } = (await started.json()) as { runId: string };
    expect(await status(url, runId)).toBe("paused");
    const bare = await post(`${url}/api/runs/${runId}/reject`, {});
    expect(bare.status).toBe(400);
    expect(((await bare.json()) as { code: string }).code).toBe("INPUT_INVALID");
    expect((await post(`${url}/api/runs/${runId}/reject`, { note: "Name the churn number" })).status).toBe(202);
    await poll(() => (existsSync(join(cwd, "runs", runId, "run.log")) && readFileSync(join(cwd, "runs", runId, "run.log"), "utf8").split("run resumed").length > 1 ? true : undefined));
    expect(await status(url, runId)).toBe("paused");
    const record = (await (await fetch(`${url}/api/runs/${runId}`)).json()) as { phases: Array<{ calls: Array<{ role: string }> }> };
    // The lead wrote the phase twice: the first draft, and the redo with the note.
    expect(record.phases[0]!.calls.filter((call) => call.role === "lead")).toHaveLength(2);
  });

  it("holds no run of its own: with --workers 0 a run stays queued until a worker starts, then completes", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: {} }, inputs: {} });
    const { url, logs } = await serve(cwd, {}, "127.0.0.1", { workers: 0 });
    const started = await post(`${url}/api/runs`, { mission: "test-mission", inputs: { brief: "Grow onboarding." } });
    const { runId } = (await started.json()) as { runId: string };
    await new Promise((r) => setTimeout(r, 300));
    expect(((await (await fetch(`${url}/api/runs/${runId}`)).json()) as { status: string }).status).toBe("queued");
    const { settings, env } = loadSettings(cwd, cliEnv());
    startWorker(cwd, settings, env, (m) => logs.push(m));
    expect(await status(url, runId)).toBe("completed");
  });

  it("takes inputs over HTTP as text, never as file paths", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: {} }, inputs: {} });
    const { url } = await serve(cwd);
    const started = await post(`${url}/api/runs`, { mission: "test-mission", inputs: { brief: "@/etc/hostname" } });
    const { runId } = (await started.json()) as { runId: string };
    const spec = JSON.parse(readFileSync(`${cwd}/.coord/runs/${runId}.json`, "utf8")) as { inputs: Record<string, string> };
    expect(spec.inputs.brief).toBe("@/etc/hostname");
    expect(await status(url, runId)).toBe("completed");
  });

  it("takes only text as input values, naming the input that is not, and refuses bodies nested too deep", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: {} }, inputs: {} });
    const { url } = await serve(cwd);
    for (const value of [{ a: 1 }, null, [["x"]], 42]) {
      const r = await post(`${url}/api/runs`, { mission: "test-mission", inputs: { brief: value } });
      expect(r.status).toBe(400);
      const body = (await r.json()) as { error: string; code: string };
      expect(body.code).toBe("INPUT_INVALID");
      expect(body.error).toMatch(/^inputs\.brief: expected text/);
    }
    const deep = `{"mission":"test-mission","inputs":{"brief":${"[".repeat(200_000)}${"]".repeat(200_000)}}}`;
    const r = await fetch(`${url}/api/runs`, { method: "POST", headers: { "content-type": "application/json" }, body: deep });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toContain("nests deeper than");
    const specs = join(cwd, ".coord", "runs");
    expect(existsSync(specs) ? readdirSync(specs).filter((f) => f.endsWith(".json")) : []).toEqual([]);
  });

  it("closes a connection that sends its headers too slowly", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: {} }, inputs: {} });
    const { settings, env } = loadSettings(cwd, cliEnv());
    const url = await listen(createCoordServer({ cwd, host: "127.0.0.1", settings, env, timeouts: { headersMs: 500, requestMs: 1000 } }));
    const started = Date.now();
    const closedAfter = await new Promise<number>((resolve) => {
      const socket = connect(Number(new URL(url).port), "127.0.0.1", () => socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
      // One more header line now and then, never the blank line that ends them.
      const drip = setInterval(() => socket.write("X-Slow: 1\r\n"), 100);
      socket.on("close", () => {
        clearInterval(drip);
        resolve(Date.now() - started);
      });
      socket.on("error", () => {});
    });
    expect(closedAfter).toBeLessThan(5000);
  });

  it("answers every error with its code's status from the one map, and never with a server path", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: {} }, inputs: {} });
    const { url } = await serve(cwd);
    const finished = ((await (await post(`${url}/api/runs`, { mission: "test-mission", inputs: { brief: "Grow." } })).json()) as { runId: string }).runId;
    await status(url, finished);
    const cases: Array<[Promise<Response>, number, ErrorCode]> = [
      [fetch(`${url}/api/runs/no-such-run`), 404, "RUN_NOT_FOUND"],
      [fetch(`${url}/api/nothing-here`), 404, "HTTP_NO_ROUTE"],
      [post(`${url}/api/runs`, { mission: "no-such-mission", inputs: {} }), 404, "MISSION_NOT_FOUND"],
      [post(`${url}/api/runs/${finished}/approve`), 409, "RUN_NOT_PAUSED"],
      [post(`${url}/api/runs/no-such-run/approve`), 404, "RUN_NOT_FOUND"],
      [post(`${url}/api/runs`, { mission: "test-mission", inputs: {} }), 400, "INPUT_MISSING"],
      [post(`${url}/api/runs`, { mission: `${cwd}/missions/test-mission.md`, inputs: {} }), 400, "MISSION_PATH_REFUSED"],
      [post(`${url}/api/runs`, { mission: "../missions/test-mission.md" }), 400, "MISSION_PATH_REFUSED"],
      [post(`${url}/api/runs`, null), 400, "INPUT_INVALID"],
      [fetch(`${url}/api/runs`, { method: "POST", headers: { "content-type": "application/json" }, body: "{ nope" }), 400, "INPUT_INVALID"],
      [fetch(`${url}/api/runs/..%2F..%2Fpackage`), 400, "RUN_ID_INVALID"],
      [fetch(`${url}/api/runs/%E0%A4%A`), 400, "RUN_ID_INVALID"],
      [post(`${url}/api/runs`, { mission: "test-mission", inputs: { brief: "x".repeat(MAX_BODY) } }), 413, "HTTP_BODY_TOO_LARGE"],
      [slackPost(url, { text: "y".repeat(MAX_BODY) }, {}), 413, "HTTP_BODY_TOO_LARGE"],
      [fetch(`${url}/api/runs`, { method: "POST", headers: { "content-type": "text/plain" }, body: JSON.stringify({ mission: "test-mission" }) }), 403, "HTTP_REFUSED"],
      [post(`${url}/api/runs`, { mission: "test-mission" }, { origin: "https://evil.example" }), 403, "HTTP_REFUSED"],
    ];
    for (const [pending, expected, code] of cases) {
      const response = await pending;
      const text = await response.text();
      const body = JSON.parse(text) as { code: ErrorCode; error: string };
      expect([response.status, body.code], text).toEqual([expected, code]);
      expect(httpStatusOf(body.code)).toBe(response.status);
      expect(text).not.toContain(cwd);
      expect(text).not.toContain("/tmp");
    }
    expect(await rawGet(url, "/api/runs/x", { host: "evil.example" })).toMatchObject({ status: 403, body: expect.stringContaining("HTTP_REFUSED") });
    // Host names are case-insensitive.
    expect((await rawGet(url, "/api/runs/x", { host: "LOCALHOST:8787" })).status).toBe(404);
    // Requests the node adaptor cannot read are answered in the same voice.
    expect(await rawGet(url, "/api\\runs")).toMatchObject({ status: 400, body: expect.stringContaining("INPUT_INVALID") });
  });

  it("requires the bearer token when one is set, the same 401 however it is wrong", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: {} }, inputs: {} });
    const { url } = await serve(cwd, { COORD_API_TOKEN: "s3cret" });
    for (const authorization of [undefined, "Bearer nope", "Basic czNjcmV0", "Bearer s3cret extra"]) {
      const response = await fetch(`${url}/api/runs/x`, { ...(authorization && { headers: { authorization } }) });
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ code: "HTTP_UNAUTHORIZED" });
    }
    expect((await fetch(`${url}/api/runs/x`, { headers: { authorization: "Bearer s3cret" } })).status).toBe(404);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });
});

describe("coord serve: the process", () => {
  it("listens where its first line says, and refuses a public bind without a usable token", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: {} }, inputs: {} });
    const child = spawn(process.execPath, [BIN, "serve", "--port", "0"], { cwd, env: cliEnv() });
    children.push(child);
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        const found = /listening on (http:\/\/\S+)/.exec(out)?.[1];
        if (found) resolve(found);
      });
      child.on("exit", (code) => reject(new Error(`coord serve exited ${code}`)));
    });
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ ok: true });

    const publicBind = await runBinAsync(["serve", "--host", "0.0.0.0", "--port", "0"], { cwd });
    expect(publicBind.code).toBe(2);
    expect(publicBind.stderr).toContain("needs COORD_API_TOKEN");
    expect(() => checkBind("0.0.0.0", { COORD_API_TOKEN: "has spaces in it" })).toThrow(/may hold only/);
    expect(() => checkBind("::1", {})).not.toThrow();
  });
});
