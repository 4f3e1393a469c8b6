import { spawn, type ChildProcess } from "node:child_process";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { signSlackRequest } from "../../src/interfaces/http/slack.js";
import { BIN } from "../helpers/cli.js";
import { missionMarkdown, runProject } from "../helpers/project.js";

const SECRET = "test-signing-secret";
const MISSION = missionMarkdown("Http Plan", ["Brief"], [{ title: "Plan", lead: "planner", deliverables: ["Plan outline"] }]);

let children: ChildProcess[] = [];
let servers: Server[] = [];
afterEach(async () => {
  for (const child of children) child.kill("SIGTERM");
  for (const server of servers) await new Promise((r) => server.close(r));
  children = [];
  servers = [];
});

/** Starts `coord serve --port 0` in a project and returns its base URL, read from its first line. */
async function serve(cwd: string, env: Record<string, string | undefined> = {}, host = "127.0.0.1"): Promise<string> {
  const child = spawn(process.execPath, [BIN, "serve", "--host", host, "--port", "0"], { cwd, env: { ...process.env, COORD_SLACK_SIGNING_SECRET: SECRET, ...env } });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      if (url) resolve(url);
    });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("exit", (code) => reject(new Error(`coord serve exited ${code}: ${err}`)));
  });
}

function slackPost(url: string, fields: Record<string, string>, headers: Record<string, string>) {
  const body = new URLSearchParams(fields).toString();
  return fetch(`${url}/slack/commands`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", ...headers }, body });
}

/** A stand-in for Slack's response_url: resolves with the first JSON posted to it. */
async function responseUrl(): Promise<{ url: string; received: Promise<{ text: string }> }> {
  let deliver: (v: { text: string }) => void = () => {};
  const received = new Promise<{ text: string }>((r) => (deliver = r));
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    res.end("ok");
    deliver(JSON.parse(Buffer.concat(chunks).toString()) as { text: string });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received };
}

/** fetch cannot set Host; a DNS-rebinding page's requests carry its own host name, as here. */
function statusWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

/** A POST as API clients send it: a JSON body. */
function post(url: string, body?: unknown, headers: Record<string, string> = {}) {
  return fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, ...(body !== undefined && { body: JSON.stringify(body) }) });
}

const poll = async <T>(fn: () => Promise<T | undefined>): Promise<T> => {
  for (let i = 0; i < 200; i++) {
    const value = await fn();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("timed out");
};

describe("coord serve: Slack slash commands", () => {
  it("answers quick commands in the body, and runs in the background with the reply posted to response_url", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: {} }, inputs: {} });
    const url = await serve(cwd);
    const list = { command: "/coord", text: "list" };
    const listBody = new URLSearchParams(list).toString();
    const quick = await slackPost(url, list, signSlackRequest(listBody, SECRET));
    expect(quick.status).toBe(200);
    expect(((await quick.json()) as { text: string }).text).toContain("`test-mission`");

    const hook = await responseUrl();
    const run = { command: "/coord", text: 'test-mission brief="Grow onboarding to 60%"', response_url: hook.url };
    const ack = await slackPost(url, run, signSlackRequest(new URLSearchParams(run).toString(), SECRET));
    expect(ack.status).toBe(200);
    expect(((await ack.json()) as { text: string }).text).toContain("Running `test-mission`");
    const final = await hook.received;
    expect(final.text).toContain("✅ completed");
    // Slack's mrkdwn: bold is one star, italics underscores.
    expect(final.text).toMatch(/^\*Http Plan\* · run/);
    expect(final.text).toContain("_Phase 1: Plan_");
    expect(final.text).toContain("• Plan outline");
  });

  it("rejects bad signatures and stale timestamps with 401", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: {} }, inputs: {} });
    const url = await serve(cwd);
    const fields = { command: "/coord", text: "help" };
    const body = new URLSearchParams(fields).toString();
    expect((await slackPost(url, fields, signSlackRequest(body, "wrong-secret"))).status).toBe(401);
    const stale = await slackPost(url, fields, signSlackRequest(body, SECRET, Math.floor(Date.now() / 1000) - 600));
    expect(stale.status).toBe(401);
    expect(((await stale.json()) as { error: string }).error).toContain("stale");
    expect((await slackPost(url, fields, {})).status).toBe(401);
  });
});

describe("coord serve: the runs API", () => {
  it("starts a run (202 with its id), returns its record, and approves a paused run", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: { pre: "touch hook-ran" } }, inputs: {} });
    const url = await serve(cwd);
    const started = await post(`${url}/api/runs`, { mission: "test-mission", inputs: { brief: "Grow onboarding." } });
    expect(started.status).toBe(202);
    const { runId } = (await started.json()) as { runId: string };
    const record = await poll(async () => {
      const r = (await (await fetch(`${url}/api/runs/${runId}`)).json()) as { status: string };
      return r.status === "completed" ? r : undefined;
    });
    expect(record.status).toBe("completed");
    // Runs started over HTTP run no agent hooks.
    const { existsSync } = await import("node:fs");
    expect(existsSync(`${cwd}/hook-ran`)).toBe(false);

    const bad = await post(`${url}/api/runs`, { mission: "test-mission", inputs: {} });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe("INPUT_MISSING");
    expect((await fetch(`${url}/api/runs/nope`)).status).toBe(404);
    expect((await post(`${url}/api/runs/${runId}/approve`)).status).toBe(409);

    const gated = await post(`${url}/api/runs`, { mission: "test-mission", inputs: { brief: "Grow onboarding." }, approve: true });
    const gatedId = ((await gated.json()) as { runId: string }).runId;
    const status = (id: string) => poll(async () => {
      const r = (await (await fetch(`${url}/api/runs/${id}`)).json()) as { status: string };
      return r.status === "running" ? undefined : r.status;
    });
    expect(await status(gatedId)).toBe("paused");
    // Two approvals at once: exactly one drives the run, the other is told it is taken.
    const [a, b] = await Promise.all([post(`${url}/api/runs/${gatedId}/approve`, { note: "ship it" }), post(`${url}/api/runs/${gatedId}/approve`, { note: "ship it" })]);
    expect([a.status, b.status].sort()).toEqual([202, 409]);
    expect(await poll(async () => ((await status(gatedId)) === "completed" ? "completed" : undefined))).toBe("completed");
  });

  it("takes inputs over HTTP as text, never as file paths", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: {} }, inputs: {} });
    const url = await serve(cwd);
    const started = await post(`${url}/api/runs`, { mission: "test-mission", inputs: { brief: "@/etc/hostname" } });
    const { runId } = (await started.json()) as { runId: string };
    const { readFileSync } = await import("node:fs");
    const spec = JSON.parse(readFileSync(`${cwd}/.coord/runs/${runId}.json`, "utf8")) as { inputs: Record<string, string> };
    expect(spec.inputs.brief).toBe("@/etc/hostname");
  });

  it("refuses what a web page could send, malformed bodies and run ids that are paths", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: {} }, inputs: {} });
    const url = await serve(cwd);
    const plain = await fetch(`${url}/api/runs`, { method: "POST", headers: { "content-type": "text/plain" }, body: JSON.stringify({ mission: "test-mission" }) });
    expect(plain.status).toBe(403);
    expect((await post(`${url}/api/runs`, { mission: "test-mission" }, { origin: "https://evil.example" })).status).toBe(403);
    expect(await statusWithHost(`${url}/api/runs/x`, "evil.example")).toBe(403);
    expect((await post(`${url}/api/runs`, null)).status).toBe(400);
    expect((await fetch(`${url}/api/runs/..%2F..%2Fpackage`)).status).toBe(400);
    expect((await fetch(`${url}/api/runs/%E0%A4%A`)).status).toBe(400);
    // Missions are named by id over HTTP: a path could run, or probe, any file on the machine.
    const byPath = await post(`${url}/api/runs`, { mission: "/etc/passwd", inputs: {} });
    expect(byPath.status).toBe(400);
    expect(((await byPath.json()) as { error: string }).error).toContain("is not a mission id");
  });

  it("requires the bearer token when one is set, and refuses a public bind without one", async () => {
    const cwd = runProject({ mission: MISSION, agents: { planner: {} }, inputs: {} });
    const url = await serve(cwd, { COORD_API_TOKEN: "s3cret" });
    expect((await fetch(`${url}/api/runs/x`)).status).toBe(401);
    expect((await fetch(`${url}/api/runs/x`, { headers: { authorization: "Bearer nope" } })).status).toBe(401);
    expect((await fetch(`${url}/api/runs/x`, { headers: { authorization: "Bearer s3cret" } })).status).toBe(404);
    await expect(serve(cwd, { COORD_API_TOKEN: undefined }, "0.0.0.0")).rejects.toThrow(/needs COORD_API_TOKEN/);
  });
});
