import { loadAgents } from "../../../definitions/agent-registry.js";
import type { LoadOptions } from "../../../definitions/discover.js";
import { DEFAULT_PRICES } from "../../../models/prices.js";
import { KEY_VARIABLES, normalizeSpec, OFFLINE_MODEL } from "../../../models/resolve.js";
import { printJson, table, type Io } from "../io.js";
import { projectSettings } from "../settings.js";

/** Where the default model was set, highest first, as settings are resolved. */
function modelSource(io: Io, dotenv: Record<string, string | undefined>): string {
  if (io.env.COORD_MODEL?.trim()) return "COORD_MODEL";
  if (dotenv.COORD_MODEL?.trim()) return "COORD_MODEL in .env";
  return "coord.config.json";
}

/** What `coord run` would use: the default model, where it comes from, keys present, agent models. */
export function modelsReport(io: Io, load: LoadOptions): number {
  const { settings, env } = projectSettings(io);
  const configured = settings.models.default;
  const source = configured ? modelSource(io, env) : "built-in";
  const model = configured ? (normalizeSpec(configured) ?? `(invalid: ${configured})`) : OFFLINE_MODEL;
  const baseUrl = settings.models.baseUrl ?? env.OPENAI_BASE_URL ?? null;
  const keys = Object.fromEntries(Object.entries(KEY_VARIABLES).map(([provider, variable]) => [provider, { variable, set: !!env[variable] }]));
  const agents = loadAgents(load).agents.filter((a) => a.model).map((a) => ({ agent: a.name, model: a.model }));
  const report = { model, source, baseUrl, keys, agents, pricedModels: Object.keys({ ...DEFAULT_PRICES, ...settings.models.prices }) };
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
  io.out("\nchoose with: --model provider:model, an agent's `model:`, COORD_MODEL in .env, or models.default in coord.config.json");
  return 0;
}
