import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: coord's shipped agents/ and missions/ live there. */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const FIXTURES = join(REPO, "test", "fixtures");
/** The seed missions and agents: the repository's own shipped copies, so tests run on any clone. */
export const SEED_MISSIONS = join(REPO, "missions");
export const SEED_AGENTS = join(REPO, "agents");

export function fixture(...parts: string[]): string {
  return join(FIXTURES, ...parts);
}

export function readFixture(...parts: string[]): { file: string; text: string } {
  const file = fixture(...parts);
  return { file, text: readFileSync(file, "utf8") };
}

/** 1-based number of the first line of `text` that starts with `prefix`; throws when none does. */
export function lineStartingWith(text: string, prefix: string): number {
  const index = text.split(/\r?\n/).findIndex((line) => line.startsWith(prefix));
  if (index === -1) throw new Error(`no line starts with ${JSON.stringify(prefix)}`);
  return index + 1;
}

/** A fresh empty folder under the OS temp folder. */
export function tempDir(prefix = "coord-defs-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A fresh temp folder holding `files` (paths relative to it). */
export function tempTree(files: Record<string, string>): string {
  const root = tempDir();
  for (const [path, content] of Object.entries(files)) {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
  return root;
}

/** A minimal markdown agent. */
export function agentText(name: string, description = `The ${name} agent.`): string {
  return `---\nname: ${JSON.stringify(name)}\ndescription: ${JSON.stringify(description)}\n---\n\nYou are ${name}.\n`;
}
