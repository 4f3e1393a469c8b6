import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { CoordError, isCoordError } from "../../errors.js";
import { httpError } from "../error-voice.js";
import { isRunLocked } from "../../runtime/lock.js";
import { getRun, resumeRun, runMission } from "../../runtime/run.js";
import { homeDir } from "../../runtime/store.js";
import { remoteRunSettings, requireMissionId, type SurfaceContext } from "../surface.js";
import { handleSlashCommand, type SlashContext } from "../slash/handle.js";
import { SLASH_USAGE, SlashSyntaxError, parseSlash } from "../slash/parse.js";
import { toSlackMrkdwn, verifySlackSignature } from "./slack.js";

export interface ServeOptions extends SurfaceContext {
  host: string;
  /** Where background work reports failures it cannot answer with (a response_url that failed...). */
  log?: (message: string) => void;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);
const MAX_BODY = 2_000_000;

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host);
}

/** Refuses to expose the API beyond this machine without a token. */
export function checkBind(host: string, env: Record<string, string | undefined>): void {
  if (!isLoopback(host) && !env.COORD_API_TOKEN) {
    throw new CoordError("USAGE", `serving on ${host} needs COORD_API_TOKEN (clients send it as a bearer token)`, {
      hint: "set COORD_API_TOKEN, or keep the default --host 127.0.0.1",
    });
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new CoordError("INPUT_INVALID", "request body too large", { hint: `keep it under ${MAX_BODY} bytes` });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** A JSON object body, or why not: anything else is the caller's mistake (400), not ours. */
async function readJsonObject(req: IncomingMessage, allowEmpty = false): Promise<Record<string, unknown> | string> {
  const text = await readBody(req);
  if (!text.trim() && allowEmpty) return {};
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : "body must be a JSON object";
  } catch {
    return "body is not JSON";
  }
}

/**
 * Browsers may POST to 127.0.0.1 from any web page the user opens, and DNS rebinding can make
 * a page's own host name point here. So the API refuses requests that carry an Origin, bodies
 * that are not JSON (a page cannot send those without a preflight), and, on loopback, Host
 * names that are not loopback.
 */
function browserGuard(req: IncomingMessage, boundToLoopback: boolean): string | undefined {
  if (req.headers.origin) return "requests from web pages are not accepted";
  if (req.method === "POST" && !/^application\/json\b/i.test(req.headers["content-type"] ?? "")) return "send the body as application/json";
  const host = (req.headers.host ?? "").toLowerCase().replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  if (boundToLoopback && !isLoopback(host)) return `host ${host || "(none)"} is not this machine`;
  return undefined;
}

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(body));
}



function bearerOk(req: IncomingMessage, token: string | undefined): boolean {
  if (!token) return true;
  const given = Buffer.from(req.headers.authorization ?? "");
  const expected = Buffer.from(`Bearer ${token}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Posts a Slack reply to the response_url of a slash command. */
async function postToSlack(url: string, text: string): Promise<void> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ response_type: "in_channel", text: toSlackMrkdwn(text) }) });
  if (!response.ok) throw new Error(`response_url answered ${response.status}`);
}

/**
 * coord over HTTP: Slack slash commands and a small JSON API for runs. Runs started here run no
 * agent hooks and read no files beyond the project: callers are not the machine's user.
 */
export function createCoordServer(options: ServeOptions): Server {
  const log = options.log ?? (() => {});
  const token = options.env.COORD_API_TOKEN;
  const sendError = (res: ServerResponse, error: unknown) => {
    const { status, body } = httpError(error, options.cwd);
    send(res, status, body);
  };
  const { cwd, env, settings } = options;
  const slashContext: SlashContext = { ...options, trusted: false };
  const background = (work: Promise<unknown>, what: string) => void work.catch((error: unknown) => log(`${what}: ${(error as Error).message}`));

  async function slack(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const problem = verifySlackSignature(
      body,
      { timestamp: req.headers["x-slack-request-timestamp"] as string | undefined, signature: req.headers["x-slack-signature"] as string | undefined },
      options.env.COORD_SLACK_SIGNING_SECRET,
    );
    if (problem) return send(res, 401, { error: problem });
    const form = new URLSearchParams(body);
    let command;
    try {
      command = parseSlash(form.get("text") ?? "");
    } catch (error) {
      if (error instanceof SlashSyntaxError) return send(res, 200, { response_type: "ephemeral", text: toSlackMrkdwn(`⚠️ ${error.message}\n${SLASH_USAGE}`) });
      throw error;
    }
    if (command.kind === "help" || command.kind === "list" || command.kind === "status") {
      const reply = await handleSlashCommand(command, slashContext);
      return send(res, 200, { response_type: "ephemeral", text: toSlackMrkdwn(reply.text) });
    }
    // Runs outlast Slack's three-second limit: acknowledge now, answer on response_url.
    const responseUrl = form.get("response_url");
    const what = command.kind === "run" ? `Running \`${command.mission}\`` : `${command.kind === "approve" ? "Approving" : "Redoing"} \`${command.runId}\``;
    send(res, 200, { response_type: "in_channel", text: `⏳ ${what}…` });
    background(
      handleSlashCommand(command, slashContext).then((reply) => (responseUrl ? postToSlack(responseUrl, reply.text) : undefined)),
      "slack command",
    );
  }

  async function startRun(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const payload = await readJsonObject(req);
    if (typeof payload === "string") return send(res, 400, { error: payload, hint: '{ "mission": "id", "inputs": { "input-id": "text" }, "approve": false }' });
    if (typeof payload.mission !== "string") return send(res, 400, { error: "mission (a string) is required" });
    requireMissionId(payload.mission);
    const inputs = payload.inputs && typeof payload.inputs === "object" ? (payload.inputs as Record<string, unknown>) : {};
    // The run answers 202 once it has passed validation and has an id; errors before that are 400.
    let answered = false;
    const run = runMission({
      ...options.load,
      cwd: options.cwd,
      mission: payload.mission,
      inputValues: Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, String(v)])),
      settings: { ...remoteRunSettings(settings), approve: payload.approve === true },
      env,
      onEvent: (event) => {
        if (event.type === "start" && !answered) {
          answered = true;
          send(res, 202, { runId: event.runId });
        }
      },
    });
    try {
      await run;
    } catch (error) {
      if (!answered) return sendError(res, error);
      log(`run failed: ${(error as Error).message}`);
    }
  }

  async function approve(req: IncomingMessage, res: ServerResponse, runId: string): Promise<void> {
    const payload = await readJsonObject(req, true);
    if (typeof payload === "string") return send(res, 400, { error: payload, hint: '{ "note": "optional text" }' });
    const note = typeof payload.note === "string" && payload.note ? payload.note : undefined;
    const record = getRun(runId, { cwd, settings });
    if (isRunLocked(homeDir(cwd, settings), runId)) return send(res, 409, { error: `run ${runId} is being worked on by another request or process` });
    if (record.status !== "paused" || record.reason !== "approval") return send(res, 409, { error: `run ${runId} is ${record.status}, not waiting for approval` });
    // resumeRun takes the run's lock before its first await, so a second approval gets 409 above.
    const resuming = resumeRun(runId, { cwd, settings, env, decision: { action: "approve", ...(note && { note }) } });
    send(res, 202, { runId });
    background(resuming, "approve");
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://coord");
    if (req.method === "GET" && url.pathname === "/healthz") return send(res, 200, { ok: true });
    if (req.method === "POST" && url.pathname === "/slack/commands") return slack(req, res);
    if (url.pathname.startsWith("/api/")) {
      if (!bearerOk(req, token)) return send(res, 401, { error: "missing or wrong bearer token" });
      const refused = browserGuard(req, isLoopback(options.host));
      if (refused) return send(res, 403, { error: refused });
      if (req.method === "POST" && url.pathname === "/api/runs") return startRun(req, res);
      const match = /^\/api\/runs\/([^/]+)(\/approve)?$/.exec(url.pathname);
      const runId = match ? decodeSegment(match[1]!) : undefined;
      if (match && runId === undefined) return send(res, 400, { error: "malformed run id in the path" });
      if (match && req.method === "GET" && !match[2]) return send(res, 200, getRun(runId!, { cwd, settings }));
      if (match && req.method === "POST" && match[2]) return approve(req, res, runId!);
    }
    send(res, 404, { error: `no route ${req.method} ${url.pathname}` });
  }

  return createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      if (res.headersSent) return log((error as Error).message);
      sendError(res, error);
    });
  });
}
