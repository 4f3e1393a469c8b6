// Types of scripts/build.mjs, for the tests that call it.
/** How long the chunks of a build stay after a newer build replaced it. */
export const KEEP_REPLACED_CHUNKS_MS: number;
/** Carries the command's chunks of earlier builds from `from` into `to`, for a day after a build first replaced them. */
export function keepReplacedChunks(from: string, to: string, now?: number): void;
/** Builds dist/ anew; `fresh` keeps nothing of earlier builds. Resolves to tsc's type errors, if any. */
export function buildDist(root?: string, options?: { fresh?: boolean }): Promise<string>;
