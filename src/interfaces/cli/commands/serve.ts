import type { AddressInfo } from "node:net";
import { CoordError, formatDiagnostic } from "../../../errors.js";
import type { LoadOptions } from "../../../definitions/discover.js";
import { reportInternalErrors, viewError } from "../../error-voice.js";
import { checkBind, createCoordServer } from "../../http/server.js";
import type { Io } from "../io.js";
import { runWorker } from "../../../service/worker.js";
import { runNotifier } from "../../notify.js";
import { positiveInt, projectSettings, withParseCache } from "../settings.js";

/** `coord serve`: runs until SIGINT or SIGTERM; the first stdout line says where it listens. */
export async function serve(io: Io, flags: { host: string; port: string; workers?: string }, load: LoadOptions): Promise<number> {
  const { settings, env } = projectSettings(io);
  checkBind(flags.host, env);
  const port = /^\d+$/.test(flags.port) ? Number(flags.port) : NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CoordError("USAGE", `--port ${flags.port} is not a port number`, { hint: "use 0-65535 (0 picks a free port)" });
  const workers = flags.workers === undefined ? 1 : flags.workers === "0" ? 0 : positiveInt(flags.workers, "--workers")!;
  const log = (message: string) => io.err(`coord serve: ${message}`);
  const stopReporting = reportInternalErrors(internalErrorReport(io, log));
  try {
    // Pages and commands list missions at each request: the parse cache spares parsing them again.
    const server = createCoordServer({ cwd: io.cwd, host: flags.host, load: withParseCache(io, load, settings), settings, env, log });
    await new Promise<void>((resolve, reject) => {
      server.once("error", (error: NodeJS.ErrnoException) =>
        reject(
          new CoordError("SERVE_PORT_BUSY", `cannot listen on ${flags.host}:${port}: ${error.code ?? error.message}`, {
            hint: error.code === "EADDRINUSE" ? "choose another --port (0 picks a free one)" : "check --host is an address of this machine",
            cause: error,
          }),
        ),
      );
      server.listen(port, flags.host, resolve);
    });
    const bound = (server.address() as AddressInfo).port;
    io.out(`coord listening on http://${flags.host.includes(":") ? `[${flags.host}]` : flags.host}:${bound}`);
    // The server's own worker: runs queued over HTTP or Slack (and any others) are worked on here,
    // and whatever was queued or running when it stopped carries on when it starts again.
    const stopWorkers = new AbortController();
    const working = workers > 0 ? runWorker({ cwd: io.cwd, settings, env, concurrency: workers, signal: stopWorkers.signal, log, onStop: runNotifier({ cwd: io.cwd, settings, env }, log) }) : Promise.resolve();
    await new Promise<void>((resolve) => {
      const stop = () => server.close(() => resolve());
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
    stopWorkers.abort();
    await working;
    return 0;
  } finally {
    stopReporting();
  }
}

/** How a server tells its operator of a bug its remote caller saw as "internal error in coord": its message, or with --verbose its stack. */
function internalErrorReport(io: Io, log: (message: string) => void) {
  // One line, as every other line of the server's log: a message may hold line breaks (a zod error's does).
  return (error: Error) => log(io.verbose && error.stack ? error.stack : formatDiagnostic({ ...viewError(error, "cli", io.cwd), severity: "error" }).replace(/\s*\n\s*/g, " "));
}

/** `coord mcp`: serves MCP over stdio until the client closes the connection. */
export async function mcp(io: Io, load: LoadOptions): Promise<number> {
  const { settings, env } = projectSettings(io);
  const { serveMcp } = await import("../../mcp/server.js");
  const stopReporting = reportInternalErrors(internalErrorReport(io, (message) => io.err(`coord mcp: ${message}`)));
  try {
    return await serveMcp({ cwd: io.cwd, load: withParseCache(io, load, settings), settings, env }, io.err);
  } finally {
    stopReporting();
  }
}
