import { describe, expect, it } from "vitest";
import { parseMission } from "../../src/definitions/mission.js";
import { offlineVerdicts } from "../../src/models/criteria-judge.js";
import { OfflineChatModel } from "../../src/models/offline.js";
import { messageText } from "../../src/models/message-text.js";
import { criteriaSummary, judgeCriteria, judgeMessages, templateSectionResults, verifyVerdicts } from "../../src/runtime/criteria.js";
import { readFixture } from "../definitions/fixtures.js";
import { missionMarkdown } from "../helpers/project.js";

const DELIVERABLES = {
  "1": { "Churn analysis": "## Churn analysis\n\nChurn is 14% a year,\n   mostly in the first 90 days.\n\nOnboarding takes 23 days.\n" },
  "2": { "Onboarding plan": "Cut onboarding to 10 days with a guided setup.\nEvery account gets a named owner.\n" },
};
const CRITERIA = ["Churn is quantified", "Onboarding has an owner", "Pricing is simplified"];

describe("verifyVerdicts", () => {
  it("keeps a quote only where it stands word for word (whitespace aside) in the deliverable it names", () => {
    const [churn] = verifyVerdicts(CRITERIA, [
      {
        criterion: 1,
        verdict: "met",
        evidence: [
          { phase: 1, deliverable: "Churn analysis", quote: "Churn is 14% a year, mostly in the first 90 days." },
          { phase: 1, deliverable: "Churn analysis", quote: "Churn is 40% a year" },
          { phase: 2, deliverable: "Churn analysis", quote: "Onboarding takes 23 days." },
          { phase: 1, deliverable: "Nowhere", quote: "Onboarding takes 23 days." },
        ],
        missing: "",
      },
    ], DELIVERABLES);
    expect(churn).toEqual({ text: CRITERIA[0], verdict: "met", phase: null, evidence: [{ phase: 1, deliverable: "Churn analysis", quote: "Churn is 14% a year, mostly in the first 90 days." }], missing: "" });
  });

  it("makes a verdict left with no true quote not_met, 'no evidence found', and so a criterion the judge skipped", () => {
    const results = verifyVerdicts(CRITERIA, [{ criterion: 2, verdict: "met", evidence: [{ phase: 2, deliverable: "Onboarding plan", quote: "Every account gets a named owner and a bonus." }], missing: "" }], DELIVERABLES);
    expect(results.map((r) => [r.verdict, r.missing])).toEqual([
      ["not_met", "no evidence found"],
      ["not_met", "no evidence found"],
      ["not_met", "no evidence found"],
    ]);
    expect(criteriaSummary(results)).toBe("criteria: 0 met, 0 partly, 3 not met");
  });
});

describe("the offline judge", () => {
  it("quotes the deliverables' best-matching sentences, verbatim, and says it is an offline check", async () => {
    const mission = parseMission(missionMarkdown("Growth", ["Brief"], [{ title: "A", lead: "x", deliverables: ["Churn analysis"] }, { title: "B", lead: "x", deliverables: ["Onboarding plan"] }]), "m.md").mission!;
    const { results } = await judgeCriteria(new OfflineChatModel({}), mission, CRITERIA, DELIVERABLES);
    expect(results[0]!.verdict).not.toBe("not_met");
    expect(results[0]!.evidence[0]).toMatchObject({ phase: 1, deliverable: "Churn analysis" });
    expect(results[1]!.evidence.map((e) => e.quote)).toContain("Every account gets a named owner.");
    expect(results[2]).toMatchObject({ verdict: "not_met" });
    expect(results[2]!.missing).toContain("offline check (term overlap with the deliverables, not an LLM's judgement): the closest passages do not mention pricing, simplified");
    // The same request, the same verdicts.
    const again = offlineVerdicts(judgeMessages(mission, CRITERIA, DELIVERABLES).map(messageText).join("\n\n"));
    expect(again.map((v) => v.verdict)).toEqual(results.map((r) => r.verdict));
  });

  it("keeps its request within a budget by giving the oldest deliverables in brief, whose quotes still verify", async () => {
    const long = { "1": { Old: `Old findings first.\n\n${"Filler sentence about the market. ".repeat(2_000)}` }, "2": { New: "Onboarding has an owner now." } };
    const mission = parseMission(missionMarkdown("Long", ["Brief"], [{ title: "A", lead: "x", deliverables: ["Old"] }, { title: "B", lead: "x", deliverables: ["New"] }]), "m.md").mission!;
    const messages = judgeMessages(mission, ["Old findings are stated"], long, 4_000);
    expect(messageText(messages[0]!)).toContain("### Phase 1: Old (in brief");
    expect(messageText(messages[0]!).length / 3.5).toBeLessThan(4_000);
    const { results } = await judgeCriteria(new OfflineChatModel({}), mission, ["Old findings are stated first"], long, 4_000);
    expect(results[0]!.evidence[0]).toMatchObject({ phase: 1, deliverable: "Old" });
  });
});

describe("a template's own criteria", () => {
  it("checks each OUTPUT FORMAT section is present and not empty, without a model", () => {
    const { file, text } = readFixture("units", "one-pager.prompt.md");
    const template = parseMission(text, file).mission!;
    const results = templateSectionResults(template, { "1": { Summary: "## Summary\n\nAcme syncs files for IT teams.", "Next Steps": "  " } });
    expect(results.map((r) => [r.text, r.verdict])).toEqual([
      ['The "Summary" section is present and not empty', "met"],
      ['The "Next Steps" section is present and not empty', "not_met"],
    ]);
    expect(results[0]!.evidence).toEqual([{ phase: 1, deliverable: "Summary", quote: "Acme syncs files for IT teams." }]);
    expect(results[1]!.missing).toBe("the section is missing or empty");
  });
});
