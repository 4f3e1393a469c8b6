import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, extname, join, relative, resolve } from "node:path";
import { CoordError } from "../errors.js";
import { readRegularFile } from "../files.js";
import type { Mission } from "../definitions/schemas/mission.js";
import { closestNames } from "../definitions/suggest.js";

export interface ResolvedInputs {
  /** Input id -> text. */
  values: Record<string, string>;
  /** Input id -> where the text came from (a path relative to cwd, or "--input"). */
  sources: Record<string, string>;
  /** Files of the inputs folder that are not inputs, attached as context. */
  extra: Array<{ name: string; text: string }>;
  /** Optional inputs nobody gave (a template's placeholders, mostly): marked "not provided". */
  notProvided: string[];
}

const SKIP = /^(readme|license|changelog)(\.|$)|^\./i;

/** Inputs go into every prompt: a bound keeps a mistaken file (a log, a dump) from filling them. */
export const MAX_INPUT_BYTES = 5 * 1024 * 1024;

// Only regular files are read, with a size limit: a FIFO or /dev/zero given as an input must
// neither block nor fill memory.
function readInputFile(path: string, cwd: string, what: string): string {
  try {
    return readRegularFile(path, { maxBytes: MAX_INPUT_BYTES }).text;
  } catch (cause) {
    throw new CoordError("INPUT_INVALID", `${what}: cannot read ${relative(cwd, path) || path}: ${(cause as Error).message}`, {
      hint: "check the path; @FILE paths are relative to the current folder",
      cause,
    });
  }
}

/** Whether a folder entry is a file to read; one that cannot even be looked at (a dangling link) is named. */
function isRegularFile(path: string, cwd: string, name: string): boolean {
  try {
    return statSync(path).isFile();
  } catch (cause) {
    throw new CoordError("INPUT_INVALID", `input file ${name}: cannot read ${relative(cwd, path) || path}`, { hint: "remove or fix the entry (a link to nothing?) in the inputs folder", cause });
  }
}

function fromFolder(dir: string, mission: Mission, cwd: string, into: ResolvedInputs): void {
  const full = resolve(cwd, dir);
  if (!existsSync(full) || !statSync(full).isDirectory()) {
    throw new CoordError("INPUT_INVALID", `--inputs ${dir} is not a folder`, { hint: "pass a folder holding one file per input, named by input id" });
  }
  const ids = new Set(mission.inputs.map((i) => i.id));
  for (const name of readdirSync(full).sort()) {
    const path = join(full, name);
    if (SKIP.test(name) || !isRegularFile(path, cwd, name)) continue;
    const id = basename(name, extname(name));
    const text = readInputFile(path, cwd, `input file ${name}`);
    if (ids.has(id)) {
      into.values[id] = text;
      into.sources[id] = relative(cwd, path) || path;
    } else into.extra.push({ name, text });
  }
}

function checkInputId(id: string, mission: Mission): void {
  if (!mission.inputs.some((i) => i.id === id)) {
    const close = closestNames(id, mission.inputs.map((i) => i.id));
    throw new CoordError("INPUT_INVALID", `mission "${mission.id}" has no input "${id}"`, {
      hint: close.length ? `did you mean ${close.join(", ")}?` : `its inputs are: ${mission.inputs.map((i) => i.id).join(", ") || "(none)"}`,
    });
  }
}

function fromFlag(flag: string, mission: Mission, cwd: string, into: ResolvedInputs): void {
  const eq = flag.indexOf("=");
  if (eq <= 0) throw new CoordError("INPUT_INVALID", `--input "${flag}" is not ID=VALUE or ID=@FILE`, { hint: "write --input marketing-framework=@notes.md" });
  const id = flag.slice(0, eq).trim();
  const value = flag.slice(eq + 1);
  checkInputId(id, mission);
  if (value.startsWith("@")) {
    const path = resolve(cwd, value.slice(1));
    into.values[id] = readInputFile(path, cwd, `--input ${id}`);
    into.sources[id] = relative(cwd, path) || path;
  } else {
    into.values[id] = value;
    into.sources[id] = "--input";
  }
}

/**
 * Collects a mission's inputs from a folder (file name = input id) and `--input` flags (which
 * win), and fails before any agent runs when a required one is missing, naming every one.
 */
export function resolveInputs(
  mission: Mission,
  options: { inputsDir?: string; inputs?: string[]; values?: Record<string, string>; cwd: string },
): ResolvedInputs {
  const into: ResolvedInputs = { values: {}, sources: {}, extra: [], notProvided: [] };
  if (options.inputsDir) fromFolder(options.inputsDir, mission, options.cwd, into);
  for (const flag of options.inputs ?? []) fromFlag(flag, mission, options.cwd, into);
  // Values are text as given, never paths: what HTTP, MCP and chat callers send.
  for (const [id, value] of Object.entries(options.values ?? {})) {
    checkInputId(id, mission);
    into.values[id] = value;
    into.sources[id] = "given";
  }
  const absent = mission.inputs.filter((i) => !into.values[i.id]?.trim());
  const missing = absent.filter((i) => i.required);
  if (missing.length > 0) {
    const ids = missing.map((i) => i.id);
    throw new CoordError("INPUT_MISSING", `mission "${mission.id}" is missing required input${ids.length > 1 ? "s" : ""}: ${ids.join(", ")}`, {
      hint: `put ${ids.map((id) => `${id}.md`).join(", ")} in a folder given with --inputs DIR, or pass --input ${ids[0]}=@FILE`,
    });
  }
  into.notProvided = absent.map((i) => i.id);
  return into;
}
