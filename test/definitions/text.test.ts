import { describe, expect, it } from "vitest";
import { normalizeText, repairMojibake, slugify } from "../../src/definitions/text.js";

/** UTF-8 bytes of `text` decoded as Mac Roman: how the seed's title was mangled. */
function macRoman(text: string): string {
  return new TextDecoder("macintosh").decode(new TextEncoder().encode(text));
}

// Windows-1252 mojibake is spelled out: Node decodes the "windows-1252" label as Latin-1.
const CP1252_LEFT_QUOTE = "\u00e2\u20ac\u0153"; // “ = E2 80 9C
const CP1252_APOSTROPHE = "\u00e2\u20ac\u2122"; // ’ = E2 80 99

describe("repairMojibake", () => {
  it("repairs an emoji saved through Mac Roman, as in the seed mission's title", () => {
    const mangled = macRoman("🤝");
    expect(mangled).toBe("\uf8ffü§ù");
    const { text, repairs } = repairMojibake(`# Mission: Sales-Marketing Alignment ${mangled}\n`);
    expect(text).toBe("# Mission: Sales-Marketing Alignment 🤝\n");
    expect(repairs).toEqual([{ line: 1, from: mangled, to: "🤝", encoding: "macintosh" }]);
  });

  it("repairs a curly apostrophe saved through Windows-1252", () => {
    const { text, repairs } = repairMojibake(`It${CP1252_APOSTROPHE}s done`);
    expect(text).toBe("It’s done");
    expect(repairs).toEqual([{ line: 1, from: "â€™", to: "’", encoding: "windows-1252" }]);
  });

  it("repairs an accented letter saved through Windows-1252", () => {
    expect(repairMojibake("caf\u00c3\u00a9").text).toBe("café");
    expect(repairMojibake("\u00c3\u00bcber").text).toBe("über");
  });

  it("reports the line of each repair", () => {
    const { repairs } = repairMojibake(`one\ntwo ${CP1252_LEFT_QUOTE}\nthree\nfour ${macRoman("🎉")}`);
    expect(repairs.map((r) => [r.line, r.to])).toEqual([
      [2, "“"],
      [4, "🎉"],
    ]);
  });

  it.each(["café", "naïve", "日本語", "🤝 emoji 🎉 👍🏽", "Ελληνικά", "Привет", "ação em São Paulo", "“quoted” — dash", "Ångström", "£5 × 3 ÷ 2"])(
    "leaves genuine text alone: %s",
    (genuine) => {
      expect(repairMojibake(genuine)).toEqual({ text: genuine, repairs: [] });
    },
  );

  it.each(["l’école", "« Ça va »", "“été”"])(
    "leaves typographic punctuation next to an accented letter alone: %s",
    (genuine) => {
      expect(repairMojibake(genuine)).toEqual({ text: genuine, repairs: [] });
    },
  );
});

describe("normalizeText", () => {
  it("drops a byte order mark and turns CRLF and CR line ends into LF", () => {
    expect(normalizeText("\ufeffa\r\nb\rc\n").text).toBe("a\nb\nc\n");
  });

  it("keeps a byte order mark that is not at the start", () => {
    expect(normalizeText("a\ufeffb").text).toBe("a\ufeffb");
  });

  it("counts repair lines after line ends are normalized", () => {
    const { repairs } = normalizeText(`a\r\nb\r\nc ${CP1252_APOSTROPHE}`);
    expect(repairs.map((r) => r.line)).toEqual([3]);
  });
});

describe("slugify", () => {
  it.each([
    ["Marketing Framework", "marketing-framework"],
    ["Load Balancing Coordinator", "load-balancing-coordinator"],
    ["  Hello, World!  ", "hello-world"],
    ["Café Crème", "cafe-creme"],
    ["WEBSITE PERSONALIZATION CAPABILITIES", "website-personalization-capabilities"],
    ["C++ & Rust", "c-rust"],
    ["snake_case--and  spaces", "snake-case-and-spaces"],
    ["Phase 2: Draft (30-45 minutes)", "phase-2-draft-30-45-minutes"],
    ["日本語", "日本語"],
    ["市场 框架", "市场-框架"],
    ["🤝", ""],
  ])("turns %j into %j", (title, slug) => {
    expect(slugify(title)).toBe(slug);
  });

  it("is idempotent", () => {
    for (const title of ["Marketing Framework", "Café Crème", "a--b"]) expect(slugify(slugify(title))).toBe(slugify(title));
  });
});
