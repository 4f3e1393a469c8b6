// How busy the whole machine was while a bench section measured (any process, ours or not), from
// /proc/stat: far above what the section itself needs, other work competed for the cores.
import { existsSync, readFileSync } from "node:fs";

/** The machine's CPU time so far, busy and in all; undefined off Linux. */
export function machineCpu() {
  if (!existsSync("/proc/stat")) return undefined;
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1, 9).map(Number);
  return { busy: fields.reduce((a, b) => a + b, 0) - fields[3] - fields[4], total: fields.reduce((a, b) => a + b, 0) };
}

/** Share of the machine's cores busy since `before`, as "NN%", or "n/a". */
export function machineBusySince(before) {
  const now = machineCpu();
  return before && now && now.total > before.total ? `${Math.round((100 * (now.busy - before.busy)) / (now.total - before.total))}%` : "n/a";
}
