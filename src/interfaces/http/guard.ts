import type { MiddlewareHandler } from "hono";
import { CoordError } from "../../errors.js";
import { isLoopback } from "./bind.js";

/** Why a request looks like it came from a web page, or undefined when it does not. */
export function browserRefusal(headers: { method: string; origin?: string | undefined; contentType?: string | undefined; host?: string | undefined }, boundToLoopback: boolean): string | undefined {
  if (headers.origin) return "requests from web pages are not accepted";
  if (headers.method === "POST" && !/^application\/json\b/i.test(headers.contentType ?? "")) return "send the body as application/json";
  const host = (headers.host ?? "").toLowerCase().replace(/:\d+$/, "");
  if (boundToLoopback && !isLoopback(host)) return `host ${host.replace(/^\[|\]$/g, "") || "(none)"} is not this machine`;
  return undefined;
}

/**
 * Browsers may POST to 127.0.0.1 from any web page the user opens, and DNS rebinding can make
 * a page's own host name point here. So the API refuses requests that carry an Origin, bodies
 * that are not JSON (a page cannot send those without a preflight), and, on loopback, Host
 * names that are not loopback.
 */
export function browserGuard(boundToLoopback: boolean): MiddlewareHandler {
  return async (c, next) => {
    const refused = browserRefusal({ method: c.req.method, origin: c.req.header("origin"), contentType: c.req.header("content-type"), host: c.req.header("host") }, boundToLoopback);
    if (refused) throw new CoordError("HTTP_REFUSED", refused, { hint: "call the API from a program on this machine (curl, a script), not from a web page" });
    await next();
  };
}
