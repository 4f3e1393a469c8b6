/** A parsed `/coord ...` command. */
export type SlashCommand =
  | { kind: "help" }
  | { kind: "list" }
  | { kind: "status"; runId: string }
  | { kind: "approve"; runId: string; note?: string }
  | { kind: "reject"; runId: string; note: string }
  | { kind: "run"; mission: string; inputs: Record<string, string>; files: Record<string, string>; approve: boolean };

export const SLASH_USAGE = [
  "`/coord help` · `/coord list`",
  "`/coord MISSION key=value key=\"quoted value\" key=@file` runs a mission",
  "`/coord MISSION --approve key=value ...` pauses after each phase until `/coord approve`",
  "`/coord status RUN_ID` · `/coord approve RUN_ID [note]` · `/coord reject RUN_ID note`",
].join("\n");

export class SlashSyntaxError extends Error {
  override name = "SlashSyntaxError";
}

/** Splits on spaces outside quotes; `key="a b"` stays one token with its quotes removed. */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let current = "";
  let quote: string | null = null;
  let started = false;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = null;
      else current += ch;
    } else if ((ch === '"' || ch === "'" || ch === "“" || ch === "”") && (!started || current.endsWith("="))) {
      // A quote opens a value only at the start of a word or right after `=`, so apostrophes
      // inside words (notes=don't) stay text. Chat apps turn straight quotes into curly ones.
      quote = ch === "“" ? "”" : ch;
      started = true;
    } else if (/\s/.test(ch)) {
      if (started || current) tokens.push(current);
      current = "";
      started = false;
    } else {
      current += ch;
      started = true;
    }
  }
  if (quote) throw new SlashSyntaxError(`a quote (${quote}) is never closed`);
  if (started || current) tokens.push(current);
  return tokens;
}

/** `--name` as `name`; chat apps turn `--` into a dash (– or —), so those count too. */
function asOption(token: string): string | undefined {
  const match = /^(?:--|—|–)([a-z][\w-]*)$/i.exec(token);
  return match ? match[1]!.toLowerCase() : undefined;
}

/** Parses the text of a slash command, with or without its leading `/coord`. */
export function parseSlash(text: string): SlashCommand {
  const tokens = tokenize(text.trim());
  if (tokens[0]?.toLowerCase() === "/coord" || tokens[0]?.toLowerCase() === "coord") tokens.shift();
  const [head, ...rest] = tokens;
  if (!head || head === "help") return { kind: "help" };
  const word = head.toLowerCase();
  if (word === "list") return { kind: "list" };
  if (word === "status" || word === "approve" || word === "reject") {
    const [runId, ...noteWords] = rest;
    if (!runId) throw new SlashSyntaxError(`${word} needs a run id: /coord ${word} RUN_ID${word === "reject" ? " note" : ""}`);
    const note = noteWords.join(" ").trim();
    if (word === "status") return { kind: "status", runId };
    if (word === "approve") return { kind: "approve", runId, ...(note && { note }) };
    if (!note) throw new SlashSyntaxError("reject needs a note saying what to change: /coord reject RUN_ID note");
    return { kind: "reject", runId, note };
  }
  if (asOption(head) !== undefined) throw new SlashSyntaxError(`name the mission first: /coord MISSION ${head} key=value ...`);
  const inputs: Record<string, string> = {};
  const files: Record<string, string> = {};
  let approve = false;
  for (const token of rest) {
    const option = asOption(token);
    if (option !== undefined) {
      // The one option of a run; the note of approve and reject is free text, so no flags there.
      if (option !== "approve") throw new SlashSyntaxError(`unknown option ${token}: the only option of a run is --approve`);
      approve = true;
      continue;
    }
    const eq = token.indexOf("=");
    if (eq <= 0) throw new SlashSyntaxError(`"${token}" is not key=value`);
    const key = token.slice(0, eq);
    const value = token.slice(eq + 1);
    if (value.startsWith("@")) files[key] = value.slice(1);
    else inputs[key] = value;
  }
  return { kind: "run", mission: head, inputs, files, approve };
}
