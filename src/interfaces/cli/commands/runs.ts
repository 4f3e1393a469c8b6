import { resolve } from "node:path";
import { CoordError } from "../../../errors.js";
import { exportRun } from "../../../runtime/export.js";
import { withStore } from "../../../runtime/store/open-store.js";
import { pruneRuns, type PrunedRun } from "../../../service/prune.js";
import { displayPath, printJson, type Io } from "../io.js";
import { projectSettings } from "../settings.js";

/** Where `coord runs export` writes by default: apart from `runs/`, so it never lands on the run's own folder. */
const EXPORTS_DIR = "exports";

/** `coord runs export RUN_ID`: the run folder written anew from the run's spec and last checkpoint. */
export async function runsExport(io: Io, runId: string, flags: { out?: string; force?: boolean }): Promise<number> {
  const outDir = resolve(io.cwd, flags.out ?? `${EXPORTS_DIR}/${runId}`);
  const { record, dir, files } = await withStore(io.cwd, projectSettings(io).settings, (store) => exportRun(store, runId, { outDir, force: !!flags.force }));
  if (io.json) printJson(io, record);
  else {
    const count = (folder: string) => files.filter((f) => f.startsWith(`${folder}/`)).length;
    io.out(`exported run ${runId} (${record.status}) to ${displayPath(dir, io.cwd)}: report.md, run.json, ${count("deliverables")} deliverables, ${count("notes")} notes`);
  }
  return 0;
}

const AGE = /^(\d{1,9})([dhm])$/;
const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000 } as const;

/** `30d`, `12h`, `45m` (minutes) as milliseconds. */
export function parseAge(value: string, flag: string): number {
  const match = AGE.exec(value.trim());
  if (!match) throw new CoordError("USAGE", `${flag} must be a whole number of days, hours or minutes such as 30d, 12h or 45m, not "${value.slice(0, 40)}"`, { hint: `e.g. ${flag} 30d` });
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

/** `coord runs prune --older-than AGE`: removes finished runs that finished longer ago. */
export async function runsPrune(io: Io, flags: { olderThan: string; dryRun?: boolean }): Promise<number> {
  const olderThanMs = parseAge(flags.olderThan, "--older-than");
  const result = await withStore(io.cwd, projectSettings(io).settings, (store) => pruneRuns(store, { olderThanMs, projectDir: io.cwd, dryRun: !!flags.dryRun }));
  if (io.json) {
    printJson(io, { dryRun: !!flags.dryRun, ...result });
    return 0;
  }
  for (const run of result.pruned) io.out(prunedLine(run, !!flags.dryRun, io.cwd));
  for (const runId of result.busy) io.out(`left run ${runId} alone: a coord process or worker is on it`);
  if (result.compacted.length) {
    const rows = result.compacted.reduce((n, c) => n + c.checkpoints, 0);
    io.out(`compacted ${result.compacted.length} recent finished run${result.compacted.length === 1 ? "" : "s"} to their last checkpoint (${rows} older checkpoint${rows === 1 ? "" : "s"} removed)`);
  }
  const n = result.pruned.length;
  if (flags.dryRun) io.out(`dry run: ${n} run${n === 1 ? "" : "s"} would be removed; nothing was`);
  else io.out(n ? `removed ${n} run${n === 1 ? "" : "s"} that finished more than ${flags.olderThan.trim()} ago` : `no finished runs older than ${flags.olderThan.trim()}`);
  return 0;
}

/** One run: what goes (or would), and what happens to its folder. */
function prunedLine(run: PrunedRun, dryRun: boolean, cwd: string): string {
  const folder = displayPath(run.runDir, cwd);
  const fate = {
    "inside-project": `folder ${folder}${dryRun ? "" : " removed"}`,
    "outside-project": `folder ${folder} kept: it is outside the project`,
    missing: "its folder was already gone",
  }[run.folder];
  const state = `checkpoints, spec${run.queueEntry ? ", queue entry" : ""}`;
  return `${dryRun ? "would remove" : "removed"} run ${run.runId} (${run.status}, finished ${run.finishedAt}): ${state}; ${fate}`;
}
