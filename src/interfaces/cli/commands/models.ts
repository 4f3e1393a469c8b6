import { loadAgents } from "../../../definitions/agent-registry.js";
import type { LoadOptions } from "../../../definitions/discover.js";
import { DEFAULT_PRICES } from "../../../models/prices.js";
import { KEY_VARIABLES, normalizeSpec, OFFLINE_MODEL } from "../../../models/resolve.js";
import type { loadEnvironment } from "../config.js";
import { printJson, table, type Io } from "../io.js";

/** What `coord run` would use: the default model, where it comes from, keys present, agent models. */
export function modelsReport(io: Io, load: LoadOptions, config: ReturnType<typeof loadEnvironment>): number {
  const env = process.env;
  // loadEnvironment has already applied the config's model as a default for COORD_MODEL.
  const source = config.models.model && env.COORD_MODEL === config.models.model ? "coord.config.json" : env.COORD_MODEL ? "COORD_MODEL" : "built-in";
  const model = normalizeSpec(env.COORD_MODEL ?? config.models.model ?? OFFLINE_MODEL) ?? `(invalid: ${env.COORD_MODEL ?? config.models.model})`;
  const baseUrl = env.COORD_BASE_URL ?? config.models.baseUrl ?? env.OPENAI_BASE_URL ?? null;
  const keys = Object.fromEntries(Object.entries(KEY_VARIABLES).map(([provider, variable]) => [provider, { variable, set: !!env[variable] }]));
  const agents = loadAgents(load).agents.filter((a) => a.model).map((a) => ({ agent: a.name, model: a.model }));
  const report = { model, source, baseUrl, keys, agents, pricedModels: Object.keys({ ...DEFAULT_PRICES, ...config.models.prices }) };
  if (io.json) {
    printJson(io, report);
    return 0;
  }
  io.out(`default model: ${model} (from ${source})${model === OFFLINE_MODEL ? " — drafts assembled from inputs, no LLM" : ""}`);
  if (baseUrl) io.out(`OpenAI-compatible base URL: ${baseUrl}`);
  io.out("\nAPI keys (values never shown):");
  io.out(table(Object.entries(keys).map(([provider, k]) => [`  ${provider}`, k.variable, k.set ? "set" : "not set"])));
  if (agents.length) {
    io.out("\nagents that name a model (--model overrides them):");
    io.out(table(agents.map((a) => [`  ${a.agent}`, a.model ?? ""])));
  }
  io.out("\nchoose with: --model provider:model, an agent's `model:`, COORD_MODEL in .env, or coord.config.json");
  return 0;
}
