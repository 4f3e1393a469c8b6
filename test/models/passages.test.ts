import { describe, expect, it } from "vitest";
import { parseMission } from "../../src/definitions/mission.js";
import { planMission } from "../../src/definitions/plan.js";
import { parseAgent } from "../../src/definitions/agent.js";
import { OFFLINE_NOTICE } from "../../src/models/offline.js";
import { rankPassages, splitPassages, terms } from "../../src/models/passages.js";
import { sharedContext, supportPrompt } from "../../src/runtime/prompts.js";
import { agentText, readFixture } from "../definitions/fixtures.js";

const PROMPT = [
  "# Mission: Growth Plan",
  "",
  "## Your task",
  "",
  "Write notes on churn. This instruction is long enough to be a passage but is not material.",
  "",
  "## Inputs",
  "",
  "### market-brief",
  "",
  "Mid-market SaaS buyers want faster onboarding and clear pricing.",
  "",
  "#### Churn",
  "",
  "- Churn is 14% a year, mostly in the first 90 days.",
  "- Most cancellations cite slow setup.",
  "- Short.",
  "",
  "### sales-notes",
  "",
  "| Stage | Conversion |",
  "|---|---|",
  "| Demo to trial | 41% |",
  "| Trial to won | 22% |",
  "",
  "Deals stall at security review",
  "for twelve days on average.",
  "",
  "## Earlier deliverables",
  "",
  "### Phase 1: Churn analysis",
  "",
  `${OFFLINE_NOTICE}`,
  "",
  "**Evidence from the inputs:**",
  "",
  "- Churn is 14% a year, mostly in the first 90 days. *(from market-brief › Churn)*",
].join("\n");

describe("splitPassages", () => {
  it("splits only the material sections into paragraphs, list items and table rows, in order", () => {
    expect(splitPassages(PROMPT).map((p) => p.text)).toEqual([
      "Mid-market SaaS buyers want faster onboarding and clear pricing.",
      "Churn is 14% a year, mostly in the first 90 days.",
      "Most cancellations cite slow setup.",
      "Stage: Demo to trial; Conversion: 41%",
      "Stage: Trial to won; Conversion: 22%",
      "Deals stall at security review for twelve days on average.",
      "Churn is 14% a year, mostly in the first 90 days.",
    ]);
  });

  it("names each passage's document and sub-heading as its source, and keeps the first source of a quoted draft", () => {
    const passages = splitPassages(PROMPT);
    expect(passages.map((p) => p.source)).toEqual(["market-brief", "market-brief › Churn", "market-brief › Churn", "sales-notes", "sales-notes", "sales-notes", "market-brief › Churn"]);
    expect(passages.map((p) => p.order)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it("matches table rows on their cells, not the repeated column names", () => {
    const row = splitPassages(PROMPT).find((p) => p.text.startsWith("Stage: Demo"))!;
    expect(row.match).toBe("Demo to trial 41%");
  });

  it("finds no material in a prompt without material sections", () => {
    expect(splitPassages("## Your task\n\nWrite something long enough to count as a passage.\n")).toEqual([]);
  });
});

describe("rankPassages", () => {
  const passages = splitPassages(PROMPT);

  it("puts the passages sharing most words with the query first, and leaves out the ones sharing none", () => {
    const ranked = rankPassages("security review stall", passages, 5);
    expect(ranked.map((p) => p.text)).toEqual(["Deals stall at security review for twelve days on average."]);
    expect(rankPassages("churn in the first 90 days", passages, 5)[0]!.text).toBe("Churn is 14% a year, mostly in the first 90 days.");
  });

  it("counts a passage under a matching sub-heading as somewhat relevant", () => {
    const ranked = rankPassages("churn", passages, 5);
    expect(ranked.map((p) => p.text)).toContain("Most cancellations cite slow setup.");
  });

  it("keeps a text once even when several sections quote it, and keeps the limit", () => {
    const ranked = rankPassages("churn days first", passages, 10);
    expect(ranked.filter((p) => p.text.startsWith("Churn is 14%"))).toHaveLength(1);
    expect(rankPassages("churn days first onboarding pricing trial", passages, 2)).toHaveLength(2);
  });

  it("breaks ties by the passages' order in the prompt, so the same prompt always ranks the same", () => {
    const query = "trial";
    const first = rankPassages(query, passages, 5);
    expect(first.map((p) => p.text)).toEqual(["Stage: Demo to trial; Conversion: 41%", "Stage: Trial to won; Conversion: 22%"]);
    expect(rankPassages(query, splitPassages(PROMPT), 5)).toEqual(first);
  });

  it("ranks the inputs of a real support prompt by a step of its phase", () => {
    const { file, text } = readFixture("units", "growth-plan.md");
    const mission = parseMission(text, file).mission!;
    const plan = planMission(mission)[0]!;
    const inputs = { "market-brief": "- Churn is 14% a year for customers in their first 90 days.\n- Buyers praise reporting.\n", "sales-notes": "- Deals stall at security review in the sales cycle.\n" };
    const context = { mission, plan, inputs, extra: [], earlier: {} };
    const prompt = `${sharedContext(context)}\n${supportPrompt(context, parseAgent(agentText("researcher"), "researcher.md").agent!)}`;
    const best = rankPassages(plan.phase.steps[1]!, splitPassages(prompt), 1)[0]!;
    expect(best).toMatchObject({ text: "Deals stall at security review in the sales cycle.", source: "sales-notes" });
  });
});

describe("terms", () => {
  it("reduces words to stems, so plural, -ed, -ing and -ation forms match, and drops stopwords and short words", () => {
    expect(terms("handoffs qualified onboarding")).toEqual(terms("handoff qualifications onboard"));
    expect(terms("the and of a is to be 12")).toEqual([]);
  });
});
