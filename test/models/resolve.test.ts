import { HumanMessage } from "@langchain/core/messages";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseAgent } from "../../src/definitions/agent.js";
import { parseMission } from "../../src/definitions/mission.js";
import type { Agent } from "../../src/definitions/schemas/agent.js";
import type { Mission } from "../../src/definitions/schemas/mission.js";
import { messageText } from "../../src/models/message-text.js";
import { OFFLINE_NOTICE } from "../../src/models/offline.js";
import { OFFLINE_MODEL, agentModelSpec, createModel, modelsForRun, normalizeSpec, runModelSpec } from "../../src/models/resolve.js";
import { startFakeOpenAI, type FakeOpenAI } from "../helpers/openai-server.js";
import { rejection, thrown } from "../helpers/errors.js";

let server: FakeOpenAI | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  vi.unstubAllEnvs();
});

/** A one-phase mission, with a `**Model:**` header line when `model` is given. */
function mission(model?: string, lead = "analyst"): Mission {
  const text = [
    "# Mission: Pick",
    "",
    ...(model ? [`**Model:** ${model}`, ""] : []),
    "## Mission Phases",
    "",
    "### Phase 1: Go (5 minutes)",
    "",
    `**Lead**: @${lead}`,
    "",
    "**Deliverables**:",
    "- Choice",
  ].join("\n");
  return parseMission(text, "pick.md").mission!;
}

function agent(name: string, model?: string): Agent {
  const text = `---\nname: ${name}\ndescription: ${name} for tests\n${model ? `model: ${model}\n` : ""}---\n\nYou are ${name}.\n`;
  return parseAgent(text, `agents/${name}.md`).agent!;
}

describe("normalizeSpec", () => {
  it("adds the provider to bare OpenAI and Claude model names, and keeps provider:model and offline", () => {
    expect(normalizeSpec("gpt-4o-mini")).toBe("openai:gpt-4o-mini");
    expect(normalizeSpec("o3-mini")).toBe("openai:o3-mini");
    expect(normalizeSpec("claude-sonnet-4-5")).toBe("anthropic:claude-sonnet-4-5");
    expect(normalizeSpec("ollama:llama3.1:8b")).toBe("ollama:llama3.1:8b");
    expect(normalizeSpec("  offline ")).toBe(OFFLINE_MODEL);
  });

  it("knows no model by a name without a provider it can tell", () => {
    for (const name of ["llama3", "", "sonnet", ":gpt-4o", "my model"]) expect(normalizeSpec(name), name).toBeUndefined();
  });
});

describe("runModelSpec", () => {
  it("takes --model over the mission's **Model**, the mission's over the default, and the default over offline", () => {
    const withModel = mission("gpt-4o");
    expect(runModelSpec(withModel, { override: "claude-haiku-4-5", default: "ollama:llama3.1", env: {} })).toBe("anthropic:claude-haiku-4-5");
    expect(runModelSpec(withModel, { default: "ollama:llama3.1", env: {} })).toBe("openai:gpt-4o");
    expect(runModelSpec(mission(), { default: "ollama:llama3.1", env: {} })).toBe("ollama:llama3.1");
    expect(runModelSpec(mission(), { env: {} })).toBe(OFFLINE_MODEL);
  });

  it("skips a blank override or default rather than failing on it", () => {
    expect(runModelSpec(mission(), { override: "  ", default: "", env: {} })).toBe(OFFLINE_MODEL);
  });

  it("fails with MODEL_INVALID naming a model it cannot read, wherever it was written", () => {
    for (const [m, settings] of [[mission(), { override: "llama3", env: {} }], [mission("my favourite model"), { env: {} }], [mission(), { default: "sonnet", env: {} }]] as const) {
      const error = thrown(() => runModelSpec(m, settings));
      expect(error.code).toBe("MODEL_INVALID");
      expect(error.message).toMatch(/^".+" is not a model name$/);
      expect(error.hint).toContain("provider:model");
    }
  });
});

describe("agentModelSpec", () => {
  const run = "openai:gpt-4o-mini";

  it("maps a Claude Code alias to its Anthropic model when ANTHROPIC_API_KEY is set, whatever its case", () => {
    expect(agentModelSpec(agent("a", "sonnet"), run, { env: { ANTHROPIC_API_KEY: "sk-ant" } })).toEqual({ spec: "anthropic:claude-sonnet-4-5" });
    expect(agentModelSpec(agent("a", "Opus"), run, { env: { ANTHROPIC_API_KEY: "sk-ant" } })).toEqual({ spec: "anthropic:claude-opus-4-1" });
    expect(agentModelSpec(agent("a", "haiku"), run, { env: { ANTHROPIC_API_KEY: "sk-ant" } })).toEqual({ spec: "anthropic:claude-haiku-4-5" });
  });

  it("falls back to the run's model with a warning when an alias has no ANTHROPIC_API_KEY", () => {
    const { spec, warning } = agentModelSpec(agent("critic", "sonnet"), run, { env: {} });
    expect(spec).toBe(run);
    expect(warning).toBe(`agent critic asks for "sonnet" but ANTHROPIC_API_KEY is not set: using ${run}`);
  });

  it("reads ANTHROPIC_API_KEY from the environment it is given, never from process.env", () => {
    vi.stubEnv("ANTHROPIC_API_KEY", "sk-from-process");
    expect(agentModelSpec(agent("critic", "sonnet"), run, { env: {} }).spec).toBe(run);
  });

  it("keeps an alias when replaying, since a recording needs no key", () => {
    expect(agentModelSpec(agent("a", "sonnet"), run, { env: {}, replay: true })).toEqual({ spec: "anthropic:claude-sonnet-4-5" });
  });

  it("gives the run's model to agents that say inherit or name none, and to every agent under --model", () => {
    expect(agentModelSpec(agent("a", "inherit"), run, { env: {} })).toEqual({ spec: run });
    expect(agentModelSpec(agent("a"), run, { env: {} })).toEqual({ spec: run });
    expect(agentModelSpec(agent("a", "claude-opus-4-1"), run, { override: "gpt-4o", env: { ANTHROPIC_API_KEY: "k" } })).toEqual({ spec: run });
  });

  it("uses an agent's own model name, and warns when it cannot read it", () => {
    expect(agentModelSpec(agent("a", "gpt-4.1"), run, { env: {} })).toEqual({ spec: "openai:gpt-4.1" });
    expect(agentModelSpec(agent("a", "ollama:qwen2.5"), run, { env: {} })).toEqual({ spec: "ollama:qwen2.5" });
    expect(agentModelSpec(agent("b", "best-one"), run, { env: {} })).toEqual({ spec: run, warning: `agent b names model "best-one", which coord does not know: using ${run}` });
  });
});

describe("createModel", () => {
  it("fails with MODEL_KEY_MISSING naming the variable when an OpenAI or Anthropic model has no key", async () => {
    for (const [spec, variable] of [["openai:gpt-4o-mini", "OPENAI_API_KEY"], ["anthropic:claude-sonnet-4-5", "ANTHROPIC_API_KEY"]] as const) {
      const error = await rejection(createModel(spec, { env: {} }));
      expect(error.code).toBe("MODEL_KEY_MISSING");
      expect(error.message).toBe(`model ${spec} needs ${variable}, which is not set`);
    }
  });

  it("reads keys from the environment it is given, never from process.env", async () => {
    vi.stubEnv("OPENAI_API_KEY", "sk-from-process");
    expect((await rejection(createModel("openai:gpt-4o-mini", { env: {} }))).code).toBe("MODEL_KEY_MISSING");
  });

  it("needs no key for an OpenAI-compatible server given by baseUrl or OPENAI_BASE_URL", async () => {
    server = await startFakeOpenAI();
    for (const settings of [{ baseUrl: server.url, env: {} }, { env: { OPENAI_BASE_URL: server.url } }]) {
      const model = await createModel("openai:gpt-4o-mini", settings);
      const reply = await model.invoke([new HumanMessage("Say hello.")]);
      expect(messageText(reply)).toMatch(/^Server notes/);
    }
    expect(server.requests.map((r) => r.body.model)).toEqual(["gpt-4o-mini", "gpt-4o-mini"]);
  });

  it("sends the key it was given to the server", async () => {
    server = await startFakeOpenAI();
    await (await createModel("openai:gpt-4o-mini", { baseUrl: server.url, env: { OPENAI_API_KEY: "sk-test" } })).invoke([new HumanMessage("Hi.")]);
    expect(server.requests[0]!.authorization).toBe("Bearer sk-test");
  });

  it("fails with MODEL_INVALID when the provider has no LangChain package installed, naming the package", async () => {
    for (const [spec, env] of [["nosuchprovider:x", {}], ["google-genai:gemini-2.0-flash", { GOOGLE_API_KEY: "k" }]] as const) {
      const error = await rejection(createModel(spec, { env }));
      expect(error.code).toBe("MODEL_INVALID");
      expect(error.message).toMatch(new RegExp(`^cannot use model ${spec}: `));
      expect(error.hint).toContain(`npm install @langchain/${spec.split(":")[0]}`);
    }
  });

  it("builds the offline model without any key, writing drafts that say they are not an LLM's", async () => {
    const model = await createModel(OFFLINE_MODEL, { env: {} });
    expect(messageText(await model.invoke([new HumanMessage("## Inputs\n\n### brief\n\nChurn is 14% a year in the first quarter.")]))).toContain(OFFLINE_NOTICE);
  });
});

describe("modelsForRun", () => {
  it("builds one model per spec, shared by the agents using it, and collects the warnings", async () => {
    const agents = [agent("analyst"), agent("critic", "sonnet"), agent("writer", "ollama:qwen2.5")];
    const { runSpec, byAgent, warnings } = await modelsForRun(mission(undefined, "analyst"), agents, { env: {} });
    expect(runSpec).toBe(OFFLINE_MODEL);
    expect(Object.fromEntries([...byAgent].map(([name, m]) => [name, m.spec]))).toEqual({ analyst: "offline", critic: "offline", writer: "ollama:qwen2.5" });
    expect(byAgent.get("analyst")!.model).toBe(byAgent.get("critic")!.model);
    expect(warnings).toEqual(['agent critic asks for "sonnet" but ANTHROPIC_API_KEY is not set: using offline']);
  });

  it("fails before any step when one agent's provider has no key", async () => {
    const error = await rejection(modelsForRun(mission(), [agent("analyst"), agent("writer", "gpt-4o")], { env: {} }));
    expect(error.code).toBe("MODEL_KEY_MISSING");
    expect(error.message).toContain("OPENAI_API_KEY");
  });

  it("gives a prompt template's own agent the run's model", async () => {
    const template = parseMission("# ROLE\nYou write.\n\n# TASK\nWrite.\n\n# OUTPUT FORMAT\n\n## Text\n[The text]\n", "w.prompt.md").mission!;
    const { byAgent } = await modelsForRun(template, [], { default: "ollama:llama3.1", env: {} });
    expect(byAgent.get("w")!.spec).toBe("ollama:llama3.1");
  });
});
