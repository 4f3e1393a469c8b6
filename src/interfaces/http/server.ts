import { createServer, type Server } from "node:http";
import { getRequestListener } from "@hono/node-server";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { CoordError } from "../../errors.js";
import { runsApi } from "./api.js";
import { requireBearer } from "./auth.js";
import { apiToken, checkBind, isLoopback } from "./bind.js";
import { serverContext, type ServeOptions, type ServerContext } from "./context.js";
import { browserGuard } from "./guard.js";
import { errorResponse } from "./respond.js";
import { slackRoutes } from "./slack-commands.js";
import { webRoutes } from "../web/routes.js";

export { checkBind, isLoopback, type ServeOptions };

/** Bodies above this are refused (413) before they are read whole. */
export const MAX_BODY = 2_000_000;

/**
 * coord over HTTP as a hono app: Slack slash commands and a small JSON API for runs. Runs
 * started here run no agent hooks and read no files beyond the project: callers are not the
 * machine's user. Every error is answered through error-voice, so statuses come from one map.
 */
export function coordApp(options: ServeOptions, ctx: ServerContext = serverContext(options), stopping: AbortSignal = new AbortController().signal): Hono {
  const { cwd } = ctx;
  const token = apiToken(options.env);
  const app = new Hono();
  app.use(
    bodyLimit({
      maxSize: MAX_BODY,
      onError: () => errorResponse(new CoordError("HTTP_BODY_TOO_LARGE", "request body too large", { hint: `keep it under ${MAX_BODY} bytes` }), cwd),
    }),
  );
  app.get("/healthz", (c) => c.json({ ok: true }));
  app.route("/slack", slackRoutes(ctx));
  if (token) app.use("/api/*", requireBearer(token, cwd));
  app.use("/api/*", browserGuard(isLoopback(options.host)));
  app.route("/api", runsApi(ctx));
  // The web page: open on loopback, behind a sign-in with the token elsewhere.
  app.route("/", webRoutes(ctx, { open: isLoopback(options.host), ...(token && { token }) }, stopping));
  app.notFound((c) =>
    errorResponse(new CoordError("HTTP_NO_ROUTE", `no route for ${c.req.method} here`, { hint: "open / in a browser for the web page; the runs API is POST api/runs, GET api/runs/RUN_ID, POST api/runs/RUN_ID/approve and POST api/runs/RUN_ID/reject" }), cwd),
  );
  // Middleware that answers by throwing (hono's bearer check) carries its response already.
  app.onError((error) => (error instanceof HTTPException ? error.getResponse() : errorResponse(error, cwd)));
  return app;
}

/** What the node adaptor could not turn into a request (no Host, a backslash in the path...). */
function malformedRequest(error: unknown): unknown {
  return (error as Error)?.name === "RequestError" ? new CoordError("INPUT_INVALID", `malformed request: ${(error as Error).message}`) : error;
}

/** The app as a node `http.Server`, for callers to `.listen()`. */
export function createCoordServer(options: ServeOptions): Server {
  const ctx = serverContext(options);
  // Aborted when the server closes: the web page's event streams end, so close() does not wait on them.
  const stopping = new AbortController();
  const listener = getRequestListener(coordApp(options, ctx, stopping.signal).fetch, {
    // Node's own Request and Response stay global: coord's fetches (models, Slack) use them.
    overrideGlobalObjects: false,
    errorHandler: (error) => errorResponse(malformedRequest(error), options.cwd),
  });
  const headersTimeout = options.timeouts?.headersMs ?? 10_000;
  const requestTimeout = options.timeouts?.requestMs ?? 60_000;
  // Node checks these timeouts every connectionsCheckingInterval: check often enough to keep them.
  const server = createServer({ headersTimeout, requestTimeout, connectionsCheckingInterval: Math.min(headersTimeout, 1000) }, (req, res) => {
    // Host names are case-insensitive, but the adaptor refuses a Host that URL parsing changes.
    if (req.headers.host) req.headers.host = req.headers.host.toLowerCase();
    void listener(req, res);
  });
  server.on("close", () => void ctx.close());
  const close = server.close.bind(server);
  server.close = (callback) => {
    stopping.abort();
    close(callback);
    // Streams just ended leave their connections idle: close those too.
    setTimeout(() => server.closeIdleConnections(), 200).unref();
    return server;
  };
  return server;
}
