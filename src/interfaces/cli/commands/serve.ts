import type { AddressInfo } from "node:net";
import type { LoadOptions } from "../../../definitions/discover.js";
import { checkBind, createCoordServer } from "../../http/server.js";
import type { loadEnvironment } from "../config.js";
import type { Io } from "../io.js";

/** `coord serve`: runs until SIGINT or SIGTERM; the first stdout line says where it listens. */
export async function serve(io: Io, flags: { host: string; port: string }, load: LoadOptions, config: ReturnType<typeof loadEnvironment>): Promise<number> {
  checkBind(flags.host, process.env);
  const server = createCoordServer({
    cwd: io.cwd,
    host: flags.host,
    port: Number(flags.port),
    load,
    env: process.env,
    ...(config.allowFileInputs && { allowFileInputs: true }),
    models: { ...(config.models.prices && { prices: config.models.prices }) },
    log: (message) => io.err(`coord serve: ${message}`),
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(Number(flags.port), flags.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  io.out(`coord listening on http://${flags.host.includes(":") ? `[${flags.host}]` : flags.host}:${port}`);
  await new Promise<void>((resolve) => {
    const stop = () => server.close(() => resolve());
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  return 0;
}
