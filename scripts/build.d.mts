// Types of scripts/build.mjs, for the tests that call it.
/** Empties dist/ but for the command's chunks of earlier builds made in the last day (before `now`). */
export function cleanDist(root: string, now?: number): void;
/** Builds dist/ anew; `fresh` keeps nothing of earlier builds. Resolves to tsc's type errors, if any. */
export function buildDist(root?: string, options?: { fresh?: boolean }): Promise<string>;
