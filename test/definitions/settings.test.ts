import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SettingsSchema } from "../../src/definitions/schemas/settings.js";
import { loadSettings, resolveSettings } from "../../src/definitions/settings.js";
import { tempTree } from "./fixtures.js";
import { thrown } from "../helpers/errors.js";

describe("resolveSettings", () => {
  it("fills every default from the schema when nothing is given", () => {
    const settings = resolveSettings();
    expect(settings).toEqual(SettingsSchema.parse({}));
    expect(settings.models.timeoutMs).toBe(120_000);
    expect(settings.hooks).toEqual({ enabled: true, timeoutMs: 60_000 });
    expect(settings.remote.slackResponseHosts).toEqual(["hooks.slack.com"]);
    expect(settings.home).toBe(".coord");
  });

  it("takes flags over the environment over .env over the config file over defaults", () => {
    const file = { models: { default: "openai:from-file", baseUrl: "http://file.example/v1", timeoutMs: 1000 }, concurrency: 2 };
    const dotenv = { COORD_MODEL: "openai:from-dotenv", COORD_BASE_URL: "http://dotenv.example/v1" };
    const env = { COORD_MODEL: "openai:from-env" };
    const flags = { models: { timeoutMs: 5000 } };
    const settings = resolveSettings({ file, dotenv, env, flags });
    expect(settings.models.default).toBe("openai:from-env");
    expect(settings.models.baseUrl).toBe("http://dotenv.example/v1");
    expect(settings.models.timeoutMs).toBe(5000);
    expect(settings.concurrency).toBe(2);
  });

  it("reports every problem of the config file at once, each with its path, naming the file and the first line", () => {
    const text = '{\n  "models": {\n    "timeoutMs": "soon",\n    "colour": "blue"\n  },\n  "budget": { "maxTokens": -5 }\n}\n';
    const error = thrown(() => resolveSettings({ file: JSON.parse(text), fileText: text, fileName: "/p/coord.config.json" }));
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.file).toBe("/p/coord.config.json");
    expect(error.line).toBe(3);
    expect(error.message).toContain("models.timeoutMs: expected number, received string");
    expect(error.message).toContain('models.colour: unknown key "colour"');
    expect(error.message).toContain("budget.maxTokens:");
    expect(error.message).toContain("(3 problems)");
  });

  it("reads the flat keys of earlier config files as the settings they became", () => {
    const settings = resolveSettings({ file: { model: "openai:gpt-4o-mini", timeoutSeconds: 90, allowFileInputs: true, prices: { "openai:x": { input: 1, output: 2 } } } });
    expect(settings.models.default).toBe("openai:gpt-4o-mini");
    expect(settings.models.timeoutMs).toBe(90_000);
    expect(settings.remote.allowFileInputs).toBe(true);
    expect(settings.models.prices["openai:x"]).toEqual({ input: 1, output: 2 });
  });

  it("names the environment when a variable holds a bad value", () => {
    const error = thrown(() => resolveSettings({ env: { COORD_BASE_URL: "not a url" } }));
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toContain("settings from the environment: models.baseUrl");
  });

  it("reads comma lists of Slack approvers and adds response hosts to Slack's own", () => {
    const settings = resolveSettings({ env: { COORD_SLACK_APPROVERS: "U1, U2", COORD_SLACK_RESPONSE_HOSTS: "chat.example.com" } });
    expect(settings.remote.slackApprovers).toEqual(["U1", "U2"]);
    expect(settings.remote.slackResponseHosts).toEqual(["hooks.slack.com", "chat.example.com"]);
  });
});

describe("loadSettings", () => {
  it("reads coord.config.json, .mcp.json and .env of the project without changing the environment given", () => {
    const cwd = tempTree({
      "coord.config.json": JSON.stringify({ models: { default: "openai:gpt-4o-mini" }, mcpServers: { docs: { command: "node", args: ["docs.mjs"] } } }),
      ".mcp.json": JSON.stringify({ mcpServers: { docs: { command: "overridden" }, glossary: { command: "node", args: ["glossary.mjs"] } } }),
      ".env": "OPENAI_API_KEY=sk-from-dotenv\nCOORD_MODEL=openai:from-dotenv\n",
    });
    const env = { PATH: "/bin", OPENAI_API_KEY: "sk-from-env" };
    const { settings, env: merged } = loadSettings(cwd, env);
    expect(settings.models.default).toBe("openai:from-dotenv");
    expect(Object.keys(settings.mcpServers).sort()).toEqual(["docs", "glossary"]);
    expect(settings.mcpServers.docs!.command).toBe("node");
    expect(merged.OPENAI_API_KEY).toBe("sk-from-env");
    expect(env).toEqual({ PATH: "/bin", OPENAI_API_KEY: "sk-from-env" });
  });

  it("names the line of a config file that is not JSON", () => {
    const cwd = tempTree({ "coord.config.json": '{\n  "models": {\n    "default": "x",\n  }\n}\n' });
    const error = thrown(() => loadSettings(cwd, {}));
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.file).toBe(join(cwd, "coord.config.json"));
    expect(error.line).toBeGreaterThanOrEqual(3);
    expect(error.message).toMatch(/^not valid JSON/);
  });

  it("refuses an .mcp.json server of the wrong shape", () => {
    const cwd = tempTree({});
    writeFileSync(join(cwd, ".mcp.json"), JSON.stringify({ mcpServers: { docs: { command: 42 } } }));
    const error = thrown(() => loadSettings(cwd, {}));
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toContain("mcpServers.docs.command");
  });

  it("lets flags win over the project's files", () => {
    const cwd = tempTree({ "coord.config.json": JSON.stringify({ approve: false, hooks: { timeoutMs: 1000 } }) });
    const { settings } = loadSettings(cwd, {}, { approve: true, hooks: { enabled: false } });
    expect(settings.approve).toBe(true);
    expect(settings.hooks).toEqual({ enabled: false, timeoutMs: 1000 });
  });
});
