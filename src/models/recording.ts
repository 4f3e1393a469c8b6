import { existsSync, readFileSync } from "node:fs";
import { AIMessage } from "@langchain/core/messages";
import { CoordError } from "../errors.js";
import { writeFileAtomic } from "../files.js";

interface Entry {
  content: AIMessage["content"];
  tool_calls: NonNullable<AIMessage["tool_calls"]>;
  usage_metadata?: AIMessage["usage_metadata"];
}

/**
 * Every model request of a run and its answer, keyed by the request. `--record FILE` writes it
 * after each call (a crash keeps what was answered); `--replay FILE` answers from it offline.
 */
export class Recording {
  private readonly entries: Record<string, Entry>;

  private constructor(
    readonly file: string,
    entries: Record<string, Entry>,
    private readonly writable: boolean,
  ) {
    this.entries = entries;
  }

  /** A recording to add to; an existing file is kept and extended (a resumed run records on). */
  static forRecord(file: string): Recording {
    return new Recording(file, existsSync(file) ? Recording.read(file) : {}, true);
  }

  static forReplay(file: string): Recording {
    if (!existsSync(file)) throw new CoordError("REPLAY_MISSING", `no recording at ${file}`, { hint: "record one first with --record FILE" });
    return new Recording(file, Recording.read(file), false);
  }

  private static read(file: string): Record<string, Entry> {
    try {
      const data = JSON.parse(readFileSync(file, "utf8")) as { version?: number; entries?: Record<string, Entry> };
      return data.entries ?? {};
    } catch (cause) {
      throw new CoordError("INPUT_INVALID", `${file} is not a coord recording`, { hint: "pass a file written by --record", cause });
    }
  }

  get(key: string): AIMessage | undefined {
    const entry = this.entries[key];
    if (!entry) return undefined;
    return new AIMessage({ content: entry.content, tool_calls: entry.tool_calls, ...(entry.usage_metadata && { usage_metadata: entry.usage_metadata }) });
  }

  put(key: string, message: AIMessage): void {
    if (!this.writable) return;
    this.entries[key] = {
      content: message.content,
      tool_calls: message.tool_calls ?? [],
      ...(message.usage_metadata && { usage_metadata: message.usage_metadata }),
    };
    writeFileAtomic(this.file, `${JSON.stringify({ version: 1, entries: this.entries }, null, 1)}\n`);
  }
}
