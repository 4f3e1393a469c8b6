import type { MissionParse } from "./mission.js";
import { isParseOf, isPlainObject, type CacheKind } from "./parse-cache.js";
import { MissionSchema } from "./schemas/mission.js";

/** Parsed mission files (parseMission's answers), in `missions.json` of the cache folder. */
export const MISSION_PARSES: CacheKind<MissionParse> = {
  file: "missions.json",
  // parseMission and every module it runs (a test keeps the list complete), and this check.
  modules: ["./mission", "./mission-cache", "./markdown", "./prompt-template", "./text", "./schemas/mission", "./schemas/agent", "../errors"],
  packages: ["marked/package.json"],
  // A few missions are read at once, so the schema checks them.
  valid: (file, value): value is MissionParse =>
    isParseOf(value, ({ mission }) => mission === undefined || (isPlainObject(mission) && mission.file === file && MissionSchema.safeParse(mission).success)),
};
