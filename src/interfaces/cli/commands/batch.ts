import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { LoadOptions } from "../../../definitions/discover.js";
import { CoordError } from "../../../errors.js";
import type { RunRecord } from "../../../runtime/record.js";
import { createRuns, getRun } from "../../../runtime/run.js";
import { withStore } from "../../../runtime/store/open-store.js";
import { runWorker } from "../../../service/worker.js";
import { runNotifier } from "../../notify.js";
import { printJson, table, type Io } from "../io.js";
import { positiveInt, projectSettings } from "../settings.js";
import { cliActor } from "../actor.js";
import { runFlagSettings, type RunFlags } from "./run.js";

export interface BatchFlags extends RunFlags {
  inputsEach: string;
  maxParallel?: string;
}

/** The subfolders of DIR, each the inputs of one run (one client, one account, one region). */
function inputFolders(dir: string, cwd: string): string[] {
  const full = resolve(cwd, dir);
  if (!existsSync(full) || !statSync(full).isDirectory()) {
    throw new CoordError("INPUT_INVALID", `--inputs-each ${dir} is not a folder`, { hint: "pass a folder with one subfolder of inputs per run" });
  }
  const folders = readdirSync(full, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith("."))
    .map((e) => join(full, e.name))
    .sort();
  if (folders.length === 0) throw new CoordError("INPUT_INVALID", `--inputs-each ${dir} has no subfolders`, { hint: "put each run's inputs in a subfolder of its own" });
  return folders;
}

const done = (record: RunRecord) => record.status !== "queued" && record.status !== "running";

/**
 * `coord batch MISSION --inputs-each DIR`: checks and queues one run per subfolder, works on
 * them here (at most --max-parallel at once; other workers may help), and reports every run as a
 * table when all have stopped. Every run is checked before the first is queued.
 */
export async function batch(io: Io, mission: string, flags: BatchFlags, load: LoadOptions): Promise<number> {
  const { settings, env } = projectSettings(io, runFlagSettings(flags));
  const folders = inputFolders(flags.inputsEach, io.cwd);
  const base = { ...load, mission, inputs: flags.input ?? [], ...(flags.out && { outDir: flags.out }), settings, env, startedBy: cliActor() };
  const specs = await createRuns(folders.map((folder) => ({ ...base, inputsDir: folder })));
  await withStore(io.cwd, settings, async (store) => {
    for (const spec of specs) await store.queue.enqueue(spec.runId);
  });
  io.err(`coord batch: ${specs.length} runs queued`);
  const stop = new AbortController();
  const log = (message: string) => !io.quiet && io.err(`coord batch: ${message}`);
  const working = runWorker({ cwd: io.cwd, settings, env, concurrency: positiveInt(flags.maxParallel, "--max-parallel") ?? 4, signal: stop.signal, log, onStop: runNotifier({ cwd: io.cwd, settings, env }, log) });
  let records: RunRecord[];
  try {
    for (;;) {
      records = await Promise.all(specs.map((spec) => getRun(spec.runId, { cwd: io.cwd, settings })));
      if (records.every(done)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    stop.abort();
    await working;
  }
  if (io.json) printJson(io, records);
  else {
    const rows = records.map((r, i) => [r.runId, folders[i]!.split("/").pop()!, r.status + (r.reason ? ` (${r.reason})` : ""), String(r.usage.totalTokens)]);
    io.out(table([["RUN", "INPUTS", "STATUS", "TOKENS"], ...rows]));
  }
  return records.every((r) => r.status === "completed") ? 0 : records.some((r) => r.status === "failed") ? 1 : 3;
}
