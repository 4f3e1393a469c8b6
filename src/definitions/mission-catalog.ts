import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { CoordError, diagnostic, type Diagnostic } from "../errors.js";
import { PACKAGE_ROOT } from "../package.js";
import { MAX_DEFINITION_BYTES, readText, searchRoots, type LoadOptions, type SearchRoot } from "./discover.js";
import { walkFiles } from "../files.js";
import { missionIdFromPath, parseMission, type MissionParse } from "./mission.js";
import { MISSION_PARSES } from "./mission-cache.js";
import { ParseCache } from "./parse-cache.js";
import type { Mission } from "./schemas/mission.js";
import { FirstWins } from "./first-wins.js";
import { closestNames } from "./suggest.js";

export const MISSION_FILE_PATTERN = /\.(md|markdown)$/i;

export function missionSearchRoots(options: LoadOptions = {}): SearchRoot[] {
  const defaults: Array<SearchRoot> = [{ dir: "missions", origin: "project" }];
  if (options.builtin !== false) defaults.push({ dir: join(PACKAGE_ROOT, "missions"), origin: "builtin" });
  return searchRoots(options.missionDirs ?? [], defaults, options.cwd ?? process.cwd());
}

/** Missions by id, in precedence order. */
export class MissionCatalog extends FirstWins<Mission> {
  constructor() {
    super(
      (mission) => mission.id,
      (mission, earlier) =>
        diagnostic("MISSION_DUPLICATE", `mission "${mission.id}" is also defined in ${earlier.file}, which wins`, {
          file: mission.file,
          line: 1,
          hint: "rename one of the two files",
        }),
    );
  }

  get missions(): Mission[] {
    return this.items;
  }

  get(id: string): Mission | undefined {
    return this.byKey.get(id);
  }
}

/** Parses one mission file; diagnostics include why it is not a mission. With a cache, an unchanged file is not parsed again. */
export function loadMissionFile(file: string, cache?: ParseCache<MissionParse>): MissionParse {
  const parsed = cache ? cache.parse(file, MAX_DEFINITION_BYTES, readText, parseMission) : parseFile(file);
  return "diagnostics" in parsed ? parsed : { diagnostics: [parsed] };
}

function parseFile(file: string): MissionParse | Diagnostic {
  const text = readText(file);
  return typeof text === "string" ? parseMission(text, file) : text;
}

/** The mission cache of `options.cacheDir`, for one load: `work` reads through it, then it is saved. */
function withCache<T>(options: LoadOptions, work: (cache: ParseCache<MissionParse> | undefined) => T, partial = false): T {
  if (!options.cacheDir) return work(undefined);
  const cache = ParseCache.open(options.cacheDir, MISSION_PARSES, { partial });
  const result = work(cache);
  cache.save();
  return result;
}

/** Mission files of every search folder, READMEs and the like left out. */
export function missionFiles(options: LoadOptions): string[] {
  return missionSearchRoots(options).flatMap((root) =>
    walkFiles(root.dir, (name) => MISSION_FILE_PATTERN.test(name) && !/^(readme|changelog|license)\./i.test(name)),
  );
}

/** Every mission visible from `cwd`. Markdown that holds no mission is skipped quietly. */
export function loadMissions(options: LoadOptions = {}): MissionCatalog {
  return withCache(options, (cache) => {
    const catalog = new MissionCatalog();
    for (const file of missionFiles(options)) {
      const parsed = loadMissionFile(file, cache);
      if (!parsed.mission || parsed.mission.phases.length === 0) continue;
      catalog.diagnostics.push(...parsed.diagnostics);
      catalog.add(parsed.mission);
    }
    return catalog;
  });
}

/**
 * A mission named by path or by id. Only the file with that id is parsed, so naming a mission
 * does not cost parsing all of them.
 */
export function loadMission(ref: string, options: LoadOptions = {}): { mission: Mission; diagnostics: Diagnostic[] } {
  // Only the named mission is looked up: the others' entries stay for the next listing.
  return withCache(options, (cache) => findMission(ref, options, cache), true);
}

function findMission(ref: string, options: LoadOptions, cache: ParseCache<MissionParse> | undefined): { mission: Mission; diagnostics: Diagnostic[] } {
  const cwd = options.cwd ?? process.cwd();
  const asPath = resolve(cwd, ref);
  const looksLikePath = /[/\\]|\.(md|markdown)$/i.test(ref);
  const candidates = looksLikePath && existsSync(asPath) && statSync(asPath).isFile()
    ? [asPath]
    : missionFiles(options).filter((file) => missionIdFromPath(file) === ref);
  for (const file of candidates) {
    // Through the parse cache when there is one: a run then starts without the markdown parser.
    const parsed = loadMissionFile(file, cache);
    if (parsed.mission) return { mission: parsed.mission, diagnostics: parsed.diagnostics };
    const error = parsed.diagnostics.find((d) => d.severity === "error");
    if (error) throw CoordError.from(error);
  }
  const known = missionFiles(options).map(missionIdFromPath);
  const close = closestNames(ref, known);
  throw new CoordError(
    "MISSION_NOT_FOUND",
    `no mission named "${ref}"${close.length ? ` (did you mean ${close.join(", ")}?)` : ""}`,
    { hint: "run `coord missions list`, pass a path to the mission file, or add a folder with --missions DIR" },
  );
}
