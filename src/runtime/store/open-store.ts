import type { Settings } from "../../definitions/schemas/settings.js";
import { homeDir } from "../store.js";
import { PostgresRunStore } from "./postgres-store.js";
import type { RunStore } from "./run-store.js";
import { SqliteRunStore } from "./sqlite-store.js";

/** Where a project's runs live, as its settings say: `database` (a postgres:// URL), else SQLite under `home`. */
export async function openStore(cwd: string, settings: Pick<Settings, "home" | "database">): Promise<RunStore> {
  const home = homeDir(cwd, settings);
  return settings.database ? PostgresRunStore.open(home, settings.database) : new SqliteRunStore(home);
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
