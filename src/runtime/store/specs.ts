import { CoordError } from "../../errors.js";
import { closestNames } from "../../definitions/suggest.js";
import { checkRunId, type RunSpec } from "../store.js";
import type { RunStore } from "./run-store.js";

/** Saves a run's spec in its store, without MCP server entries (they may hold tokens). */
export async function saveSpec(store: RunStore, spec: RunSpec): Promise<void> {
  // The database URL is the process's, never the run's: it may hold a password.
  const { database: _url, ...settings } = spec.settings;
  await store.saveSpec({ ...spec, settings: { ...settings, mcpServers: {} } });
}

/** A run's spec from its store: RUN_NOT_FOUND, with the closest ids, when the store has no such run. */
export async function loadSpec(store: RunStore, runId: string): Promise<RunSpec> {
  checkRunId(runId);
  const spec = (await store.findSpec(runId)) as Partial<RunSpec> | undefined;
  if (!spec) {
    const close = closestNames(runId, await store.runIds());
    throw new CoordError("RUN_NOT_FOUND", `no run "${runId}" in ${store.kind === "sqlite" ? store.home : store.location}`, {
      hint: close.length ? `did you mean ${close.join(", ")}?` : "run `coord runs list` from the folder the run was started in (or set COORD_HOME)",
      hints: { remote: close.length ? `did you mean ${close.join(", ")}?` : "check the run id: it is in the reply that started the run" },
    });
  }
  if (!spec.settings) {
    throw new CoordError("RUN_NOT_FOUND", `run "${runId}" was started by an older coord and cannot be continued by this one`, { hint: "start the mission again" });
  }
  return spec as RunSpec;
}
