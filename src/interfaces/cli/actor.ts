import { userInfo } from "node:os";
import { actor, type Actor } from "../../runtime/decisions.js";

/**
 * Whoever is at this terminal: runs and decisions from the CLI are the OS user's. Apart from the
 * run command's module, which loads the graph runtime, so `coord slash "/coord status"` need not.
 */
export function cliActor(): Actor {
  return actor("cli", osUserName());
}

/** The OS user's name; none where the system has no entry for the process's user (some containers). */
function osUserName(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
}
