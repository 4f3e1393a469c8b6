import { httpError } from "../error-voice.js";

/**
 * The one way this server answers with an error: the status from error-voice's one map and its
 * `{ error, code, hint? }` body, with the server's paths scrubbed. A plain Response, so hono's
 * handlers and the node adaptor (for requests hono never sees) answer alike.
 */
export function errorResponse(thrown: unknown, cwd: string): Response {
  const { status, body } = httpError(thrown, cwd);
  return Response.json(body, { status });
}
