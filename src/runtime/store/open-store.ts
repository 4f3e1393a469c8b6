import type { Settings } from "../../definitions/schemas/settings.js";
import { homeDir } from "../store.js";
import type { RunStore } from "./run-store.js";
import { SqliteRunStore } from "./sqlite-store.js";

/** Where a project's runs live, as its settings say: `database` (a postgres:// URL), else SQLite under `home`. */
export async function openStore(cwd: string, settings: Pick<Settings, "home" | "database">): Promise<RunStore> {
  const home = homeDir(cwd, settings);
  if (!settings.database) return new SqliteRunStore(home);
  // Loaded only when a project uses Postgres: `pg` costs every other command's start time.
  const { PostgresRunStore } = await import("./postgres-store.js");
  return PostgresRunStore.open(home, settings.database);
}

/** Opens the project's store for one piece of work and closes it after, whatever happens. */
export async function withStore<T>(cwd: string, settings: Pick<Settings, "home" | "database">, work: (store: RunStore) => Promise<T>): Promise<T> {
  const store = await openStore(cwd, settings);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}
