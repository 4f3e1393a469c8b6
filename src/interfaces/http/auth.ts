import type { MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { CoordError } from "../../errors.js";
import { errorResponse } from "./respond.js";

/**
 * The API's bearer token check: hono compares tokens in constant time. Every way of failing it
 * (no header, a malformed one, a wrong token) is the same 401, so callers learn nothing more.
 */
export function requireBearer(token: string, cwd: string): MiddlewareHandler {
  const refuse = () => errorResponse(new CoordError("HTTP_UNAUTHORIZED", "missing or wrong bearer token", { hint: "send the server's COORD_API_TOKEN as Authorization: Bearer TOKEN" }), cwd);
  return bearerAuth({ token, noAuthenticationHeader: { message: refuse }, invalidAuthenticationHeader: { message: refuse }, invalidToken: { message: refuse } });
}
