import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { CoordError } from "../../errors.js";
import { isLoopback } from "../http/bind.js";

export const SESSION_COOKIE = "coord_session";
export const CSRF_COOKIE = "coord_csrf";
const SESSION_HOURS = 12;

/** Who may use the web page: anyone on a loopback-bound server, else whoever signs in with the token. */
export interface WebAccess {
  /** Bound to loopback: no sign-in. */
  open: boolean;
  /** COORD_API_TOKEN (always set when not open: checkBind refuses to start without it). */
  token?: string;
}

function same(a: string, b: string): boolean {
  const x = createHash("sha256").update(a).digest();
  const y = createHash("sha256").update(b).digest();
  return timingSafeEqual(x, y);
}

// A session is signed with the token, not kept in memory: any `coord serve` with the same token
// behind one address accepts it, and changing the token signs everyone out.
function sign(token: string, expires: number): string {
  return createHmac("sha256", token).update(`coord-web-session:${expires}`).digest("base64url");
}

export function sessionValue(token: string, now = Date.now()): string {
  const expires = now + SESSION_HOURS * 3600_000;
  return `${expires}.${sign(token, expires)}`;
}

export function validSession(token: string, value: string | undefined, now = Date.now()): boolean {
  const [expires, mac] = (value ?? "").split(".");
  const at = Number(expires);
  return !!mac && Number.isSafeInteger(at) && at > now && same(mac, sign(token, at));
}

export function tokenMatches(token: string, given: string): boolean {
  return same(token, given);
}

function secure(c: Context): boolean {
  return new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto") === "https";
}

export function signIn(c: Context, token: string): void {
  setCookie(c, SESSION_COOKIE, sessionValue(token), { httpOnly: true, sameSite: "Lax", path: "/", secure: secure(c), maxAge: SESSION_HOURS * 3600 });
}

export function signOut(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: "/", secure: secure(c) });
}

/**
 * The page's CSRF token (double submit): a random value in an HTTP-only cookie, copied into every
 * form; a POST must bring both, equal. Set on the first page a browser gets.
 */
export function csrfToken(c: Context): string {
  const given = made.get(c) ?? getCookie(c, CSRF_COOKIE);
  if (given && /^[A-Za-z0-9_-]{32,}$/.test(given)) return given;
  const fresh = randomBytes(24).toString("base64url");
  made.set(c, fresh);
  setCookie(c, CSRF_COOKIE, fresh, { httpOnly: true, sameSite: "Strict", path: "/", secure: secure(c) });
  return fresh;
}

/** Tokens made during a request: its page asks more than once, and must get one answer. */
const made = new WeakMap<Context, string>();

/** Refuses a form POST without the page's CSRF token, or sent from a page of another origin. */
export async function checkCsrf(c: Context, form: Record<string, unknown>): Promise<void> {
  const origin = c.req.header("origin");
  if (origin && origin !== "null" && new URL(origin).host !== (c.req.header("host") ?? "").toLowerCase()) {
    throw new CoordError("HTTP_REFUSED", "this form was sent from another site", { hint: "open coord's page and send the form from there" });
  }
  const cookie = getCookie(c, CSRF_COOKIE);
  const sent = typeof form.csrf === "string" ? form.csrf : "";
  if (!cookie || !sent || !same(cookie, sent)) {
    throw new CoordError("HTTP_REFUSED", "the form's security token is missing or out of date", { hint: "reload the page and send the form again" });
  }
}

/** Whether this request comes from a signed-in browser (or needs no sign-in). */
export function signedIn(c: Context, access: WebAccess): boolean {
  return access.open || (!!access.token && validSession(access.token, getCookie(c, SESSION_COOKIE)));
}

/**
 * The page's gate. On loopback, requests must name a loopback host (a page elsewhere whose name
 * was pointed here, DNS rebinding, is refused). Elsewhere, a session is needed: pages send the
 * browser to sign in, everything else is refused.
 */
export function webGate(access: WebAccess): MiddlewareHandler {
  return async (c, next) => {
    if (access.open) {
      const host = (c.req.header("host") ?? "").toLowerCase().replace(/:\d+$/, "");
      if (!isLoopback(host)) throw new CoordError("HTTP_REFUSED", `host ${host || "(none)"} is not this machine`, { hint: "open the page at http://127.0.0.1:PORT" });
      return next();
    }
    if (signedIn(c, access)) return next();
    if (c.req.method === "GET" && !c.req.path.endsWith("/events") && !c.req.path.endsWith("/live")) {
      return c.redirect(`/sign-in?next=${encodeURIComponent(c.req.path + (new URL(c.req.url).search || ""))}`, 303);
    }
    throw new CoordError("HTTP_UNAUTHORIZED", "sign in first", { hint: "open the page and sign in with the server's COORD_API_TOKEN" });
  };
}

/** A place to go back to after signing in: a path of this site only. */
export function safeNext(next: string | undefined): string {
  return next && /^\/(?![/\\])/.test(next) ? next : "/";
}
