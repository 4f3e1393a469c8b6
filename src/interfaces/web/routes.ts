import type { Context } from "hono";
import { Hono } from "hono";
import { CoordError } from "../../errors.js";
import { loadMissions } from "../../definitions/mission-catalog.js";
import type { Mission } from "../../definitions/schemas/mission.js";
import { createRun } from "../../runtime/run.js";
import { readRun } from "../../runtime/run-records.js";
import { actor, stampDecision } from "../../runtime/state.js";
import { loadSpec } from "../../runtime/store/specs.js";
import { httpError } from "../error-voice.js";
import { decideOnPause, requireAwaitingApproval } from "../http/api.js";
import type { ServerContext } from "../http/context.js";
import { remoteRunSettings, requireMissionId } from "../surface.js";
import { assetRoutes } from "./assets.js";
import { listRecords, readRunView, runVersion } from "./data.js";
import { storeEvents } from "./events.js";
import { errorPage, liveRun, page, runPage, runsPage, signInPage, startPage, STATUSES } from "./pages.js";
import { checkCsrf, csrfToken, safeNext, signedIn, signIn, signOut, tokenMatches, webGate, type WebAccess } from "./session.js";

type Form = Record<string, string | File | (string | File)[]>;

const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
  "x-frame-options": "DENY",
  "referrer-policy": "same-origin",
  "x-content-type-options": "nosniff",
  "cache-control": "no-store",
};

const text = (form: Form, key: string) => (typeof form[key] === "string" ? (form[key] as string) : "");

/**
 * coord's web page, on the API's port: the runs, a run's page (live by server-sent events),
 * approvals through the same decision path as every surface, and a form to start runs. Pages
 * are rendered here, read from the run store only; the browser gets no path and no secret.
 */
export function webRoutes(ctx: ServerContext, access: WebAccess, stopping: AbortSignal): Hono {
  const { cwd, env, settings } = ctx;
  const web = new Hono();
  const missions = (): Mission[] => loadMissions({ ...ctx.load, cwd }).missions;

  const show = async (c: Context, title: string, body: ReturnType<typeof page>, status = 200, graph = false) => {
    c.header("content-type", "text/html; charset=utf-8");
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.header(name, value);
    return c.html(await page({ title, csrf: csrfToken(c), session: !access.open && signedIn(c, access), graph }, body), status as 200);
  };
  const failure = (c: Context, error: unknown) => {
    const { status, body } = httpError(error, cwd);
    return show(c, status === 404 ? "Not found" : "Error", errorPage(status, body.error, body.hint), status);
  };

  assetRoutes(web);
  web.get("/sign-in", async (c) => (access.open || signedIn(c, access) ? c.redirect(safeNext(c.req.query("next")), 303) : show(c, "Sign in", signInPage(csrfToken(c), safeNext(c.req.query("next")), false))));
  web.post("/sign-in", async (c) => {
    const form = (await c.req.parseBody()) as Form;
    await checkCsrf(c, form);
    const next = safeNext(text(form, "next"));
    if (access.open) return c.redirect(next, 303);
    if (!access.token || !tokenMatches(access.token, text(form, "token"))) return show(c, "Sign in", signInPage(csrfToken(c), next, true), 401);
    signIn(c, access.token);
    return c.redirect(next, 303);
  });
  web.post("/sign-out", async (c) => {
    await checkCsrf(c, (await c.req.parseBody()) as Form);
    signOut(c);
    return c.redirect(access.open ? "/" : "/sign-in", 303);
  });

  const gate = webGate(access);
  web.onError((error, c) => failure(c, error));

  web.get("/", gate, async (c) => {
    const status = STATUSES.find((s) => s === c.req.query("status"));
    const mission = c.req.query("mission") || undefined;
    const records = await listRecords(await ctx.store(), cwd);
    return show(c, "Runs", runsPage(records, missions(), { ...(status && { status }), ...(mission && { mission }) }));
  });

  web.get("/start", gate, (c) => {
    const all = missions();
    const chosen = all.find((m) => m.id === c.req.query("mission")) ?? (all.length === 1 ? all[0] : undefined);
    return show(c, "Start a run", startPage(all, chosen, csrfToken(c)));
  });

  web.post("/runs", gate, async (c) => {
    const form = (await c.req.parseBody()) as Form;
    await checkCsrf(c, form);
    const missionId = text(form, "mission");
    const all = missions();
    const mission = all.find((m) => m.id === missionId);
    const inputs = Object.fromEntries(
      Object.keys(form)
        .filter((key) => key.startsWith("input:") && text(form, key).trim())
        .map((key) => [key.slice("input:".length), text(form, key)]),
    );
    const approve = text(form, "approve") === "on";
    try {
      requireMissionId(missionId);
      const spec = await createRun({ ...ctx.load, cwd, mission: missionId, inputValues: inputs, settings: { ...remoteRunSettings(settings), approve }, env, startedBy: actor("web") });
      await (await ctx.store()).queue.enqueue(spec.runId);
      return c.redirect(`/runs/${spec.runId}`, 303);
    } catch (error) {
      if (!mission) throw error;
      // The form again, as filled in, with what to fix.
      const { status, body } = httpError(error, cwd);
      return show(c, "Start a run", startPage(all, mission, csrfToken(c), { message: body.error, hint: body.hint }, { ...inputs, ...(approve && { __approve: "on" }) }), status);
    }
  });

  web.get("/runs/:id", gate, async (c) => {
    const view = await readRunView(await ctx.store(), c.req.param("id"), cwd);
    const flash = c.req.query("decided") === "approve" ? "Approval sent: a worker carries it on." : c.req.query("decided") === "reject" ? "Rejection sent: the lead tries again with your note." : undefined;
    return show(c, view.record.title, runPage(view, csrfToken(c), flash), 200, true);
  });

  web.get("/runs/:id/live", gate, async (c) => {
    const view = await readRunView(await ctx.store(), c.req.param("id"), cwd);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.header(name, value);
    return c.html(await liveRun(view, csrfToken(c)));
  });

  web.get("/runs/:id/events", gate, async (c) => {
    const store = await ctx.store();
    const spec = await loadSpec(store, c.req.param("id"));
    return storeEvents(c, () => runVersion(store, spec), stopping);
  });

  web.post("/runs/:id/decide", gate, async (c) => {
    const form = (await c.req.parseBody()) as Form;
    await checkCsrf(c, form);
    const action = text(form, "action");
    if (action !== "approve" && action !== "reject") throw new CoordError("INPUT_INVALID", "choose Approve or Reject");
    const note = text(form, "note").trim() || undefined;
    if (action === "reject" && !note) throw new CoordError("INPUT_INVALID", "a rejection needs a note saying what to change", { hint: "write in the Note box what the lead should change, then press Reject" });
    const store = await ctx.store();
    const record = await readRun(store, c.req.param("id"));
    requireAwaitingApproval(record, store.home);
    await decideOnPause(ctx, record.runId, stampDecision({ action, ...(note && { note }), by: actor("web") }));
    return c.redirect(`/runs/${record.runId}?decided=${action}`, 303);
  });

  return web;
}
