import { describe, expect, it } from "vitest";
import { digestOf, digestsOf } from "../../src/runtime/digests.js";

const DRAFT = ["## Churn analysis", "", "Churn peaks in month two, when onboarding stalls.", "", "### Causes", "", ...Array.from({ length: 120 }, (_, i) => `Reason ${i} adds friction.`), "", "### Actions", "", "- Cut onboarding to 10 days."].join("\n");

describe("digestOf", () => {
  it("gives a deliverable's outline and its opening words, and says how long it is", () => {
    const digest = digestOf(DRAFT);
    expect(digest).toMatch(/^\(digest: about \d+ words; sections: Causes · Actions\)/);
    expect(digest).toContain("Churn peaks in month two, when onboarding stalls.");
    expect(digest.endsWith(" ...")).toBe(true);
    expect(digest.length).toBeLessThan(DRAFT.length / 3);
  });

  it("is the same bytes every time, so requests that give it share a cacheable prefix", () => {
    expect(digestOf(DRAFT)).toBe(digestOf(DRAFT));
    expect(digestsOf({ A: DRAFT, B: "Short." })).toEqual({ A: digestOf(DRAFT), B: "(digest: about 1 words)\n\nShort." });
  });

  it("copes with empty, heading-only and hostile text without throwing", () => {
    expect(digestOf("")).toBe("(digest: about 0 words)");
    expect(digestOf("## Title\n\n### Only\n\n### Headings")).toBe("(digest: about 0 words; sections: Only · Headings)");
    expect(() => digestOf("#".repeat(100_000))).not.toThrow();
    expect(digestOf(`${"word ".repeat(200_000)}`).length).toBeLessThan(1_000);
  });
});
