import type { LoadOptions } from "../../../definitions/discover.js";
import { runWorker } from "../../../service/worker.js";
import { createRun, getRun } from "../../../runtime/run.js";
import { openStore, withStore } from "../../../runtime/store/open-store.js";
import { CoordError } from "../../../errors.js";
import type { RunRecord } from "../../../runtime/record.js";
import { runNotifier } from "../../notify.js";
import { printJson, type Io } from "../io.js";
import { positiveInt, projectSettings, secondsFlag } from "../settings.js";
import { cliRunOptions, type RunFlags } from "./run.js";

/** `coord worker`: works on queued runs until SIGINT or SIGTERM, finishing the runs in hand. */
export async function worker(io: Io, flags: { concurrency?: string; leaseSeconds?: string; allowHooks?: boolean; pollMs?: string }): Promise<number> {
  const { settings, env } = projectSettings(io);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const leaseMs = secondsFlag(flags.leaseSeconds, "--lease-seconds") ?? secondsFlag(io.env.COORD_LEASE_SECONDS, "COORD_LEASE_SECONDS");
  const pollMs = positiveInt(flags.pollMs, "--poll-ms");
  const log = (message: string) => io.err(`coord worker ${process.pid}: ${message}`);
  try {
    const store = await openStore(io.cwd, settings);
    await store.close();
    io.err(`coord worker ${process.pid}: waiting for runs in ${store.location}`);
    await runWorker({
      cwd: io.cwd,
      settings,
      env,
      concurrency: positiveInt(flags.concurrency, "--concurrency") ?? 1,
      ...(leaseMs && { leaseMs }),
      ...(pollMs && { pollMs }),
      allowHooks: !!flags.allowHooks,
      signal: stop.signal,
      log,
      onStop: runNotifier({ cwd: io.cwd, settings, env }, log),
    });
    return 0;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** `coord run --detach`: checks and queues the run, prints its id, and returns at once. */
export async function detach(io: Io, mission: string, flags: RunFlags, load: LoadOptions): Promise<number> {
  const options = cliRunOptions(io, mission, flags, load);
  const spec = await createRun(options);
  const { settings } = projectSettings(io);
  await withStore(io.cwd, settings, (store) => store.queue.enqueue(spec.runId));
  if (io.json) printJson(io, await getRun(spec.runId, { cwd: io.cwd, settings }));
  else io.out(`${spec.runId}\nqueued: a \`coord worker\` will run it; \`coord runs wait ${spec.runId}\` waits for it`);
  return 0;
}

const EXIT_OF: Record<RunRecord["status"], number> = { queued: 1, running: 1, paused: 3, completed: 0, failed: 1 };

/** `coord runs wait RUN_ID`: until the run completes, pauses or fails; exits as `coord run` would. */
export async function waitRun(io: Io, runId: string, flags: { timeout?: string }): Promise<number> {
  const { settings } = projectSettings(io);
  const deadline = Date.now() + (secondsFlag(flags.timeout, "--timeout") ?? Number.POSITIVE_INFINITY);
  for (;;) {
    const record = await getRun(runId, { cwd: io.cwd, settings });
    if (record.status !== "queued" && record.status !== "running") {
      if (io.json) printJson(io, record);
      else io.out(`run ${record.runId}: ${record.status}${record.reason ? ` (${record.reason})` : ""}`);
      return EXIT_OF[record.status];
    }
    if (Date.now() > deadline) {
      throw new CoordError("USAGE", `run "${runId}" is still ${record.status} after --timeout ${flags.timeout}s`, { hint: "wait again, or check that a `coord worker` is running", exitCode: 1 });
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
