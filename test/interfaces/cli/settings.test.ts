import { describe, expect, it } from "vitest";
import { isCoordError } from "../../../src/errors.js";
import type { Io } from "../../../src/interfaces/cli/io.js";
import { positiveInt, positiveNumber, projectSettings, secondsFlag } from "../../../src/interfaces/cli/settings.js";
import { tempTree } from "../../definitions/fixtures.js";
import { thrown } from "../../helpers/errors.js";

function io(cwd: string, env: Record<string, string | undefined>): Io {
  return { out: () => {}, err: () => {}, errStream: { write: () => true }, env, cwd, json: false, quiet: false, verbose: false };
}

describe("positiveInt (--concurrency, --max-tokens)", () => {
  it("refuses zero, negatives, fractions, words and blanks with USAGE, naming the flag and the value", () => {
    for (const [value, flag] of [["0", "--concurrency"], ["-2", "--concurrency"], ["1.5", "--max-tokens"], ["many", "--max-tokens"], ["", "--max-tokens"], ["  ", "--concurrency"], ["Infinity", "--max-tokens"]]) {
      const error = thrown(() => positiveInt(value, flag!));
      expect(error.code, value).toBe("USAGE");
      expect(error.message).toBe(`${flag} must be a whole number of 1 or more, not "${value}"`);
      expect(error.hint).toBe(`e.g. ${flag} 4`);
    }
  });

  it("takes whole numbers of 1 or more, and nothing when the flag is absent", () => {
    expect(positiveInt("1", "--concurrency")).toBe(1);
    expect(positiveInt("200000", "--max-tokens")).toBe(200_000);
    expect(positiveInt(undefined, "--max-tokens")).toBeUndefined();
  });
});

describe("positiveNumber (--max-cost)", () => {
  it("refuses zero, negatives, words and blanks with USAGE", () => {
    for (const value of ["0", "-1", "abc", "", "1,50", "NaN", "Infinity"]) {
      const error = thrown(() => positiveNumber(value, "--max-cost"));
      expect(error.code, value).toBe("USAGE");
      expect(error.message).toBe(`--max-cost must be a number above 0, not "${value}"`);
    }
  });

  it("takes any number above 0, fractions included", () => {
    expect(positiveNumber("0.25", "--max-cost")).toBe(0.25);
    expect(positiveNumber("3", "--max-cost")).toBe(3);
    expect(positiveNumber(undefined, "--max-cost")).toBeUndefined();
  });
});

describe("secondsFlag (--timeout, --hook-timeout)", () => {
  it("refuses what is not a number of seconds above 0 with USAGE", () => {
    for (const value of ["", "0", "-5", "soon"]) expect(thrown(() => secondsFlag(value, "--timeout")).code, value).toBe("USAGE");
    expect(thrown(() => secondsFlag("", "--timeout")).message).toBe('--timeout must be a number above 0, not ""');
  });

  it("turns seconds into whole milliseconds", () => {
    expect(secondsFlag("90", "--timeout")).toBe(90_000);
    expect(secondsFlag("2.5", "--hook-timeout")).toBe(2_500);
    expect(secondsFlag("0.0014", "--timeout")).toBe(1);
    expect(secondsFlag(undefined, "--timeout")).toBeUndefined();
  });

  // src bug (reported): a positive value under half a millisecond rounds to 0 ms, which the settings
  // schema then refuses as models.timeoutMs (CONFIG_INVALID) instead of a USAGE error naming the flag.
  it("never turns a positive number of seconds into 0 ms", () => {
    let ms: number | undefined;
    try {
      ms = secondsFlag("0.0001", "--timeout");
    } catch (error) {
      expect(isCoordError(error) && error.code).toBe("USAGE");
      return;
    }
    expect(ms).toBeGreaterThanOrEqual(1);
  });
});

describe("projectSettings", () => {
  it("reads the project's config and .env under the command's flags, with the converted values", () => {
    const cwd = tempTree({ "coord.config.json": JSON.stringify({ models: { default: "openai:gpt-4o-mini", timeoutMs: 30_000 } }), ".env": "OPENAI_API_KEY=sk-from-dotenv\n" });
    const { settings, env } = projectSettings(io(cwd, { COORD_HOME: "state" }), { models: { timeoutMs: secondsFlag("90", "--timeout")! }, budget: { maxTokens: positiveInt("5000", "--max-tokens")! } });
    expect(settings.models).toMatchObject({ default: "openai:gpt-4o-mini", timeoutMs: 90_000 });
    expect(settings.budget.maxTokens).toBe(5_000);
    expect(settings.home).toBe("state");
    expect(env.OPENAI_API_KEY).toBe("sk-from-dotenv");
  });
});
