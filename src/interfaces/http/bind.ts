import { CoordError } from "../../errors.js";

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

/** A host name or address of this machine only; IPv6 brackets (`[::1]`) and case are ignored. */
export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host.toLowerCase().replace(/^\[|\]$/g, ""));
}

// Bearer tokens are RFC 6750 token68 text; hono's bearer check refuses any header that is not,
// so a token with other characters could never be sent and is refused at start instead.
const TOKEN68 = /^[A-Za-z0-9._~+/-]+=*$/;

/** The API's bearer token (COORD_API_TOKEN), if one is set. */
export function apiToken(env: Record<string, string | undefined>): string | undefined {
  const token = env.COORD_API_TOKEN;
  if (!token) return undefined;
  if (!TOKEN68.test(token)) {
    throw new CoordError("USAGE", "COORD_API_TOKEN may hold only letters, digits and - . _ ~ + / (and = at its end)", {
      hint: "generate one with: openssl rand -hex 32",
    });
  }
  return token;
}

/** Refuses to expose the API beyond this machine without a token. */
export function checkBind(host: string, env: Record<string, string | undefined>): void {
  if (!isLoopback(host) && !apiToken(env)) {
    throw new CoordError("USAGE", `serving on ${host} needs COORD_API_TOKEN (clients send it as a bearer token)`, {
      hint: "set COORD_API_TOKEN, or keep the default --host 127.0.0.1",
    });
  }
}
