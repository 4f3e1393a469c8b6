import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAgent, type AgentParse } from "../../src/definitions/agent.js";
import type { Agent } from "../../src/definitions/schemas/agent.js";
import { SEED_AGENTS, lineStartingWith, readFixture } from "./fixtures.js";

function parseFixture(name: string): AgentParse & { file: string; text: string } {
  const { file, text } = readFixture("agents", name);
  return { ...parseAgent(text, file), file, text };
}

/** The agent of a fixture that must load without any diagnostic. */
function cleanAgent(name: string): Agent {
  const parsed = parseFixture(name);
  expect(parsed.diagnostics).toEqual([]);
  expect(parsed.agent).toBeDefined();
  return parsed.agent!;
}

function codes(parsed: AgentParse): string[] {
  return parsed.diagnostics.map((d) => d.code);
}

describe("parseAgent: tools and capabilities", () => {
  it("reads tools written as a YAML list", () => {
    expect(cleanAgent("tools-list.md").tools).toEqual(["Read", "Grep", "Glob"]);
  });

  it("warns about a tool name coord neither provides nor withholds, on the tools line, and keeps the agent", () => {
    const parsed = parseFixture("tool-unknown.md");
    expect(parsed.agent?.tools).toEqual(["Read", "Grep", "Telepathy", "mcp__docs__search"]);
    expect(parsed.diagnostics.map((d) => [d.code, d.line])).toEqual([["AGENT_TOOL_UNKNOWN", lineStartingWith(parsed.text, "tools:")]]);
    expect(parsed.diagnostics[0]?.message).toContain("Telepathy");
    expect(parsed.diagnostics[0]?.message).not.toContain("mcp__docs__search");
  });

  it("splits tools written as a comma string and trims each name", () => {
    expect(cleanAgent("tools-comma-string.md").tools).toEqual(["Read", "Write", "Edit", "Bash"]);
  });

  it("flattens tools written as a map of lists, keeping their order", () => {
    expect(cleanAgent("tools-map.md").tools).toEqual(["Read", "Grep", "Write"]);
  });

  it("takes the allowed tools of a capabilities map and leaves out the restricted ones", () => {
    const agent = cleanAgent("capabilities-map.md");
    expect(agent.capabilities).toEqual(["Read", "Grep"]);
    expect(agent.capabilities).not.toContain("Write");
    expect(agent.capabilities).not.toContain("Bash");
    expect(agent.extra).not.toHaveProperty("capabilities");
  });
});

describe("parseAgent: hooks", () => {
  it("reads hooks written as block strings, without the block's final newline", () => {
    expect(cleanAgent("hooks-block-strings.md").hooks).toEqual({ pre: 'echo "starting"\ndate', post: 'echo "done"' });
  });

  it("renames pre_execution and post_execution to pre and post and keeps on_error", () => {
    expect(cleanAgent("hooks-execution-aliases.md").hooks).toEqual({
      pre: 'echo "before"',
      post: 'echo "after"',
      on_error: 'echo "failed"',
    });
  });

  it("joins hooks written as YAML lists of commands with newlines", () => {
    expect(cleanAgent("hooks-lists.md").hooks).toEqual({ pre: "echo one\necho two", post: "echo three" });
  });

  it("gives an agent without hooks an empty hook map", () => {
    expect(cleanAgent("no-hooks.md").hooks).toEqual({});
  });

  it("keeps hook names that are also properties of every JavaScript object", () => {
    const hooks = cleanAgent("hooks-builtin-names.md").hooks;
    expect(Object.keys(hooks).sort()).toEqual(["constructor", "toString"]);
    expect(Object.entries(hooks)).toContainEqual(["constructor", 'echo "constructing"']);
  });
});

describe("parseAgent: color", () => {
  it("keeps a color given as a name", () => {
    expect(cleanAgent("color-name.md").color).toBe("purple");
  });

  it("keeps a color given as a quoted hex value", () => {
    expect(cleanAgent("color-hex.md").color).toBe("#FF6B35");
  });

  it("ignores a color that is a number with a warning on the color line, and still loads the agent", () => {
    const parsed = parseFixture("color-invalid.md");
    expect(parsed.diagnostics).toHaveLength(1);
    const [warning] = parsed.diagnostics;
    expect(warning).toMatchObject({
      code: "AGENT_FIELD_INVALID",
      severity: "warning",
      file: parsed.file,
      line: lineStartingWith(parsed.text, "color:"),
    });
    expect(warning?.message).toContain("color");
    expect(parsed.agent?.color).toBeNull();
    // The fields around the bad one are still read.
    expect(parsed.agent?.name).toBe("color-invalid");
    expect(parsed.agent?.priority).toBe("high");
  });
});

describe("parseAgent: descriptions", () => {
  it("folds a `>` description into one line", () => {
    const { description } = cleanAgent("description-folded.md");
    expect(description).toBe("Folds these lines into one line.");
  });

  it("keeps the line breaks of a `|` description and drops its final newline", () => {
    const { description } = cleanAgent("description-literal.md");
    expect(description).toBe("Keeps the first line\nand the second line apart.");
  });

  it("recovers an unquoted `: ` in the description with a warning on that file line", () => {
    const parsed = parseFixture("description-colon.md");
    const line = lineStartingWith(parsed.text, "description:");
    expect(parsed.diagnostics).toEqual([
      expect.objectContaining({ code: "AGENT_YAML_RECOVERED", severity: "warning", file: parsed.file, line }),
    ]);
    const written = parsed.text.split("\n")[line - 1]!.slice("description: ".length);
    expect(written).toContain(": ");
    expect(parsed.agent?.description).toBe(written);
    // Lines after the recovered one are still read.
    expect(parsed.agent?.model).toBe("sonnet");
    expect(parsed.agent?.type).toBe("growth");
  });

  it("warns when an agent has no description and leaves it empty", () => {
    const parsed = parseFixture("no-description.md");
    expect(codes(parsed)).toEqual(["AGENT_DESCRIPTION_MISSING"]);
    expect(parsed.diagnostics[0]?.severity).toBe("warning");
    expect(parsed.agent?.description).toBe("");
    expect(parsed.agent?.body).toBe("You have no description.");
  });
});

describe("parseAgent: encodings and line ends", () => {
  it("drops a UTF-8 byte order mark before the frontmatter", () => {
    const parsed = parseFixture("bom.md");
    expect(parsed.text.charCodeAt(0)).toBe(0xfeff);
    expect(parsed.diagnostics).toEqual([]);
    expect(parsed.agent?.name).toBe("bom");
    expect(parsed.agent?.color).toBe("blue");
    expect(parsed.agent?.body).toBe("You start with a BOM.");
  });

  it("reads a file with CRLF line ends as if it had LF line ends", () => {
    const parsed = parseFixture("crlf.md");
    expect(parsed.text).toContain("\r\n");
    expect(parsed.diagnostics).toEqual([]);
    const agent = parsed.agent!;
    expect(agent.hooks).toEqual({ pre: 'echo "one"\necho "two"' });
    expect(agent.body).toBe("## Expertise\n\nYou end every line with CR LF.");
    expect(JSON.stringify(agent)).not.toContain("\\r");
  });

  it("repairs mojibake in the frontmatter and warns with its line, and passes the body on as written", () => {
    const parsed = parseFixture("mojibake-frontmatter.md");
    expect(parsed.diagnostics).toEqual([
      expect.objectContaining({
        code: "TEXT_MOJIBAKE_REPAIRED",
        severity: "warning",
        file: parsed.file,
        line: lineStartingWith(parsed.text, "description:"),
      }),
    ]);
    expect(parsed.diagnostics[0]?.message).toContain("🤝");
    expect(parsed.agent?.description).toBe("Closes every deal with a handshake 🤝 and a thank-you.");
    // Bodies can run to thousands of lines; they reach the model exactly as the file has them.
    expect(parsed.text).toContain(parsed.agent!.body);
  });
});

describe("parseAgent: unknown fields and names", () => {
  it("keeps unknown fields in extra with their YAML types", () => {
    const agent = cleanAgent("extra-fields.md");
    expect(agent.extra).toEqual({
      version: "5.0.0",
      verification_required: true,
      temperature: 0.3,
      max_turns: 12,
      metadata: { author: "someone", tags: ["alpha", "beta"] },
      thinking: { default: "think harder" },
    });
    for (const known of ["name", "description"]) expect(agent.extra).not.toHaveProperty(known);
  });

  it("names an agent without a name after its file, with a warning", () => {
    const parsed = parseFixture("no-name.md");
    expect(parsed.agent?.name).toBe("no-name");
    expect(parsed.diagnostics).toEqual([
      expect.objectContaining({ code: "AGENT_NAME_MISSING", severity: "warning", file: parsed.file }),
    ]);
    expect(parsed.diagnostics[0]?.hint).toContain("name: no-name");
  });

  it("points an agent's line at its name field", () => {
    const parsed = parseFixture("tools-list.md");
    expect(parsed.agent?.line).toBe(lineStartingWith(parsed.text, "name:"));
  });
});

describe("parseAgent: broken frontmatter", () => {
  it("reports YAML it cannot recover as AGENT_YAML_INVALID at the line where it breaks", () => {
    const parsed = parseFixture("yaml-invalid.md");
    expect(parsed.agent).toBeUndefined();
    expect(parsed.diagnostics).toEqual([
      expect.objectContaining({
        code: "AGENT_YAML_INVALID",
        severity: "error",
        file: parsed.file,
        line: lineStartingWith(parsed.text, "import json"),
      }),
    ]);
  });

  it("reports frontmatter that is never closed", () => {
    const parsed = parseFixture("frontmatter-unclosed.md");
    expect(parsed.agent).toBeUndefined();
    expect(parsed.diagnostics).toEqual([
      expect.objectContaining({ code: "AGENT_FRONTMATTER_UNCLOSED", severity: "error", file: parsed.file, line: 1 }),
    ]);
  });

  it("reports frontmatter that is a YAML list rather than a map", () => {
    const parsed = parseFixture("frontmatter-list.md");
    expect(parsed.agent).toBeUndefined();
    expect(parsed.diagnostics).toEqual([
      expect.objectContaining({ code: "AGENT_FRONTMATTER_NOT_MAP", severity: "error", file: parsed.file }),
    ]);
  });

  it("skips a README without frontmatter quietly", () => {
    const parsed = parseFixture("README.md");
    expect(parsed.agent).toBeUndefined();
    expect(parsed.notAgent).toBeTruthy();
    expect(parsed.diagnostics).toEqual([]);
  });
});

describe("parseAgent: .yaml agents", () => {
  it("reads a whole-file YAML agent, using systemPrompt as its body", () => {
    const parsed = parseFixture("python-specialist.yaml");
    expect(parsed.diagnostics).toEqual([]);
    const agent = parsed.agent!;
    expect(agent).toMatchObject({ name: "python-specialist", type: "developer", description: "Writes idiomatic, typed Python." });
    expect(agent.body).toBe("You are a Python specialist.\nPrefer the standard library.");
    expect(agent.line).toBe(lineStartingWith(parsed.text, "name:"));
    expect(agent.extra).toEqual({ focus: ["typing", "testing"] });
    expect(agent.extra).not.toHaveProperty("systemPrompt");
  });

  it("skips a YAML index file that names no agent fields", () => {
    const parsed = parseFixture("index.yaml");
    expect(parsed.agent).toBeUndefined();
    expect(parsed.notAgent).toBeTruthy();
    expect(parsed.diagnostics).toEqual([]);
  });
});

describe("the seed agent customer-journey-orchestration-agent.md", () => {
  const file = join(SEED_AGENTS, "customer-journey-orchestration-agent.md");
  const parsed = parseAgent(readFileSync(file, "utf8"), file);

  it("parses without diagnostics", () => {
    expect(parsed.diagnostics).toEqual([]);
    expect(parsed.agent).toBeDefined();
  });

  it("has its name, type, color and priority", () => {
    expect(parsed.agent).toMatchObject({
      name: "customer-journey-orchestration-agent",
      type: "tester",
      color: "#2196F3",
      priority: "critical",
      file,
    });
  });

  it("has five capabilities and pre and post hooks", () => {
    expect(parsed.agent?.capabilities).toHaveLength(5);
    expect(Object.keys(parsed.agent?.hooks ?? {}).sort()).toEqual(["post", "pre"]);
    expect(parsed.agent?.hooks.pre).toMatch(/^echo /);
    expect(parsed.agent?.hooks.pre).not.toMatch(/\n$/);
  });

  it("uses the markdown after the frontmatter as its body", () => {
    expect(parsed.agent?.body.startsWith("## Core Competencies")).toBe(true);
    expect(parsed.agent?.body).not.toContain("---\nname:");
  });
});
