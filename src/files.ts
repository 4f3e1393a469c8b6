import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, dirname } from "node:path";
import type { z } from "zod";
import { CoordError } from "./errors.js";

/** Writes through a temporary file so a crash never leaves half a file behind. */
export function writeFileAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/**
 * A project's JSON config file checked against its zod schema: undefined when absent, a one-line
 * INPUT_INVALID naming the file and the first problem otherwise.
 */
export function readJsonConfig<T>(file: string, schema: z.ZodType<T>, example: string): T | undefined {
  if (!existsSync(file)) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (cause) {
    throw new CoordError("INPUT_INVALID", `${basename(file)} is not valid JSON: ${(cause as Error).message}`, { file, hint: "fix the JSON syntax", cause });
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CoordError("INPUT_INVALID", `${basename(file)}: ${issue.path.join(".") || "(root)"}: ${issue.message}`, { file, hint: `write it like ${example}` });
  }
  return parsed.data;
}
