import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { agentFrontmatterJsonSchema } from "../../src/definitions/json-schema.js";
import { REPO } from "../helpers/cli.js";

describe("schemas/agent.schema.json", () => {
  it("is what the zod schema generates (regenerate with npm run schemas)", () => {
    const committed = JSON.parse(readFileSync(join(REPO, "schemas", "agent.schema.json"), "utf8")) as unknown;
    expect(committed).toEqual(agentFrontmatterJsonSchema());
  });

  it("describes every known field and allows unknown ones", () => {
    const schema = agentFrontmatterJsonSchema() as { properties: Record<string, { description?: string }>; additionalProperties?: unknown };
    for (const field of ["name", "description", "capabilities", "tools", "hooks", "model", "color", "priority", "type"]) {
      expect(schema.properties[field]?.description, field).toBeTruthy();
    }
    expect(schema.additionalProperties).not.toBe(false);
  });
});
