import type { Context } from "hono";
import { Hono } from "hono";
import * as z from "zod";
import { CoordError } from "../../errors.js";
import { isRunLocked } from "../../runtime/lock.js";
import type { RunRecord } from "../../runtime/record.js";
import { createRun } from "../../runtime/run.js";
import { readRun } from "../../runtime/run-records.js";
import { actor, stampDecision, type ReviewDecision } from "../../runtime/state.js";
import { remoteRecord, remoteRunSettings, requireMissionId } from "../surface.js";
import type { ServerContext } from "./context.js";

const RUN_BODY = '{ "mission": "id", "inputs": { "input-id": "text" }, "approve": false }';
const APPROVE_BODY = '{ "note": "optional text" }';
const REJECT_BODY = '{ "note": "what to change" }';

// Requests of ours are two levels deep; a body nested deeper is refused before it is parsed, so
// no parser or printer walks a 200,000-deep array.
const MAX_DEPTH = 16;

/** How deeply a JSON text nests arrays and objects, counted without parsing it. */
function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === "\\") i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === "[" || ch === "{") deepest = Math.max(deepest, ++depth);
    else if (ch === "]" || ch === "}") depth--;
  }
  return deepest;
}

/** The body of POST /api/runs: input values are text, never objects, arrays or null. */
const RunRequest = z.object({
  mission: z.string({ error: "mission (a string) is required" }),
  inputs: z.record(z.string(), z.string({ error: "expected text" })).optional(),
  approve: z.boolean().optional(),
});

function runRequest(payload: Record<string, unknown>): z.infer<typeof RunRequest> {
  const parsed = RunRequest.safeParse(payload);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const where = issue.path.length ? `${issue.path.join(".")}: ` : "";
  throw new CoordError("INPUT_INVALID", `${where}${issue.message.replace(/^Invalid input: /, "")}`, { hint: `send ${RUN_BODY}` });
}

/** A JSON object body, or the caller's mistake (400): anything else cannot be a request of ours. */
async function jsonObject(c: Context, example: string, allowEmpty = false): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  if (!text.trim() && allowEmpty) return {};
  if (jsonDepth(text) > MAX_DEPTH) throw new CoordError("INPUT_INVALID", `body nests deeper than ${MAX_DEPTH} levels`, { hint: `send ${example}` });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CoordError("INPUT_INVALID", "body is not JSON", { hint: `send ${example}` });
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) throw new CoordError("INPUT_INVALID", "body must be a JSON object", { hint: `send ${example}` });
  return value as Record<string, unknown>;
}

/** Queues a decision for a worker; the first decision on a pause wins, a second is refused. */
export async function decideOnPause(ctx: ServerContext, runId: string, decision: ReviewDecision): Promise<void> {
  if (!(await (await ctx.store()).queue.decide(runId, decision))) {
    throw new CoordError("RUN_NOT_PAUSED", `run "${runId}" already has a decision being carried out`, { hints: { remote: "ask for the run's status; decide again when it pauses" } });
  }
}

/** A run that may be approved right now: not driven by anyone else, and paused for approval. */
export function requireAwaitingApproval(record: RunRecord, home: string): void {
  if (isRunLocked(home, record.runId)) {
    // The first decision on a pause wins: one already being carried out leaves nothing to decide.
    throw new CoordError("RUN_NOT_PAUSED", `run "${record.runId}" is being continued by another decision or process`, { hints: { remote: "ask for the run's status; decide again when it pauses" } });
  }
  // Paused for a person: approval of a phase, or a gate's criteria still unmet.
  if (record.status !== "paused" || (record.reason !== "approval" && record.reason !== "criteria")) {
    throw new CoordError("RUN_NOT_PAUSED", `run "${record.runId}" is ${record.status}, not waiting for approval`, { hints: { remote: "ask for the run's status to see what it is doing" } });
  }
}

/**
 * The JSON API for runs: start one (202 with its id), read its record, approve it. Runs started
 * here run no agent hooks and take inputs as text only: callers are not the machine's user.
 */
export function runsApi(ctx: ServerContext): Hono {
  const { cwd, env, settings } = ctx;
  const api = new Hono();

  api.post("/runs", async (c) => {
    const payload = runRequest(await jsonObject(c, RUN_BODY));
    const mission = payload.mission;
    requireMissionId(mission);
    const spec = await createRun({ ...ctx.load, cwd, mission, inputValues: payload.inputs ?? {}, settings: { ...remoteRunSettings(settings), approve: payload.approve === true }, env, startedBy: actor("api") });
    await (await ctx.store()).queue.enqueue(spec.runId);
    return c.json({ runId: spec.runId }, 202);
  });

  api.get("/runs/:id", async (c) => c.json(remoteRecord(await readRun(await ctx.store(), c.req.param("id")), cwd)));

  for (const action of ["approve", "reject"] as const) {
    api.post(`/runs/:id/${action}`, async (c) => {
      const payload = await jsonObject(c, action === "approve" ? APPROVE_BODY : REJECT_BODY, action === "approve");
      const note = typeof payload.note === "string" && payload.note ? payload.note : undefined;
      if (action === "reject" && !note) throw new CoordError("INPUT_INVALID", "a rejection needs a note saying what to change", { hint: `send ${REJECT_BODY}` });
      const store = await ctx.store();
      const record = await readRun(store, c.req.param("id"));
      requireAwaitingApproval(record, store.home);
      const decision = action === "approve" ? { action, ...(note && { note }) } : { action, note: note! };
      // Stamped now, so the trail says when the caller decided, not when a worker got to it.
      await decideOnPause(ctx, record.runId, stampDecision({ ...decision, by: actor("api") }));
      return c.json({ runId: record.runId }, 202);
    });
  }

  return api;
}
