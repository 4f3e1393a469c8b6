import { basename, dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { deliverableFile, hookLogFile, lockFile, notesFile, specFile, stepFileBase, taskFile } from "../../src/runtime/paths.js";

describe("run folder paths", () => {
  it("name a deliverable's file by phase, position and slugged title, the same every time", () => {
    expect(deliverableFile(2, 0, "Onboarding Plan (v2)!")).toBe(join("deliverables", "p2-01-onboarding-plan-v2.md"));
    expect(deliverableFile(2, 0, "Onboarding Plan (v2)!")).toBe(deliverableFile(2, 0, "Onboarding Plan (v2)!"));
    expect(deliverableFile(1, 11, "Summary")).toBe(join("deliverables", "p1-12-summary.md"));
  });

  it("keep a deliverable file name short, and named even when the title has no letters or digits", () => {
    const long = basename(deliverableFile(1, 0, "word ".repeat(40)));
    expect(long.length).toBeLessThanOrEqual("p1-01-".length + 60 + ".md".length);
    expect(basename(deliverableFile(1, 0, "🚀 ✨"))).toBe("p1-01-deliverable.md");
    expect(basename(deliverableFile(1, 0, "市场 框架"))).toBe("p1-01-市场-框架.md");
  });

  it("keep step files inside their folder whatever the agent is called", () => {
    for (const agent of ["../../etc/passwd", "a/b c", "name with spaces", "x\\y"]) {
      const base = stepFileBase(1, "lead", agent);
      expect(base, agent).toMatch(/^p1-lead-[\w.-]+$/);
      expect(dirname(taskFile(base))).toBe("tasks");
      expect(dirname(hookLogFile(`${base}.pre`))).toBe("hooks");
      expect(dirname(notesFile(1, agent))).toBe("notes");
    }
    expect(stepFileBase(3, "support", "market-researcher")).toBe("p3-support-market-researcher");
  });

  it("keep a run's spec and lock side by side under the home's runs folder", () => {
    expect(specFile("/p/.coord", "r1")).toBe(join("/p/.coord", "runs", "r1.json"));
    expect(dirname(lockFile("/p/.coord", "r1"))).toBe(dirname(specFile("/p/.coord", "r1")));
  });
});
