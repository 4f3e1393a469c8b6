import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { JSON_SCHEMAS, agentFrontmatterJsonSchema, settingsJsonSchema } from "../../src/definitions/json-schema.js";
import { REPO } from "../helpers/cli.js";

describe("schemas/*.schema.json", () => {
  it.each(Object.keys(JSON_SCHEMAS))("%s is what the zod schema generates (regenerate with npm run schemas)", (file) => {
    const committed = JSON.parse(readFileSync(join(REPO, "schemas", file), "utf8")) as unknown;
    expect(committed).toEqual(JSON_SCHEMAS[file]!());
  });

  it("the agent schema describes every known field and allows unknown ones", () => {
    const schema = agentFrontmatterJsonSchema() as { properties: Record<string, { description?: string }>; additionalProperties?: unknown };
    for (const field of ["name", "description", "capabilities", "tools", "hooks", "model", "color", "priority", "type"]) {
      expect(schema.properties[field]?.description, field).toBeTruthy();
    }
    expect(schema.additionalProperties).not.toBe(false);
  });

  it("the settings schema describes every setting, shows defaults and refuses unknown keys", () => {
    type Node = { properties?: Record<string, Node>; description?: string; default?: unknown; additionalProperties?: unknown };
    const schema = settingsJsonSchema() as Node;
    const undescribed: string[] = [];
    const visit = (node: Node, path: string) => {
      for (const [key, child] of Object.entries(node.properties ?? {})) {
        if (!child.description && !child.properties) undescribed.push(`${path}${key}`);
        visit(child, `${path}${key}.`);
      }
    };
    visit(schema, "");
    expect(undescribed).toEqual([]);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties!.models!.properties!.timeoutMs!.default).toBe(120_000);
  });
});
