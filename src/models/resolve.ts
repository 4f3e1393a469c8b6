import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { CoordError } from "../errors.js";
import type { Agent } from "../definitions/schemas/agent.js";
import type { Mission } from "../definitions/schemas/mission.js";
import { ManagedChatModel } from "./managed.js";
import { OfflineChatModel } from "./offline.js";
import { DEFAULT_MAX_INFLIGHT, providerLimiter } from "./rate-limit.js";
import type { Recording } from "./recording.js";
import { DEFAULT_RETRY, type RetryPolicy } from "./retry.js";
import { currentStep, stepsOfMission, type StepRef, type StepToken } from "./streaming.js";

/** The name run.json records for the offline model. */
export const OFFLINE_MODEL = "offline";

/** Where models come from, besides agents and missions: the run's settings, and keys from the environment. */
export interface ModelSettings {
  /** `--model`: every agent's model, over their own. */
  override?: string;
  /** The run's model for agents that name none, after the mission's own (COORD_MODEL, config). */
  default?: string;
  /** An OpenAI-compatible server. */
  baseUrl?: string;
  /** `--judge-model`: the model that checks the success criteria (default: the run's model). */
  judge?: string;
  /** Where providers' API keys are read: the environment the interface resolved, never process.env. */
  env: Record<string, string | undefined>;
  timeoutMs?: number;
  retry?: RetryPolicy;
  recording?: Recording;
  replay?: boolean;
  onRetry?: (message: string) => void;
  /**
   * Calls at once to one provider (`models.maxInflight`), for the process: every run and step
   * calling it shares one limiter, which also holds them all back when it answers 429.
   */
  maxInflight?: number;
  /** Text as the model streams it, for the step it is written for (see `modelsForRun`). */
  onToken?: (token: StepToken) => void;
  /** Which step the current call is for; `modelsForRun` finds it from the run's graph. */
  stepOf?: () => StepRef | undefined;
  /** Numbers the calls whose tokens are handed on. */
  nextCall?: () => number;
}

// Claude Code agent files name models by family; these are the current models of each.
const CLAUDE_ALIASES: Record<string, string> = {
  sonnet: "anthropic:claude-sonnet-4-5",
  opus: "anthropic:claude-opus-4-1",
  haiku: "anthropic:claude-haiku-4-5",
};

/** The API key variable of each provider coord knows; others are left to LangChain. */
export const KEY_VARIABLES: Record<string, string> = {
  openai: "OPENAI_API_KEY",
  anthropic: "ANTHROPIC_API_KEY",
  "google-genai": "GOOGLE_API_KEY",
  mistralai: "MISTRAL_API_KEY",
  groq: "GROQ_API_KEY",
};

const PROVIDER_OF_PREFIX: Array<[RegExp, string]> = [
  [/^(gpt-|o\d|chatgpt|text-)/, "openai"],
  [/^claude/, "anthropic"],
];

/** `gpt-4o-mini` -> `openai:gpt-4o-mini`; `openai:x` stays; anything else is not a model name. */
export function normalizeSpec(spec: string): string | undefined {
  const trimmed = spec.trim();
  if (trimmed === OFFLINE_MODEL) return OFFLINE_MODEL;
  if (/^[\w.-]+:.+$/.test(trimmed)) return trimmed;
  const provider = PROVIDER_OF_PREFIX.find(([re]) => re.test(trimmed))?.[1];
  return provider ? `${provider}:${trimmed}` : undefined;
}

/** The model a run uses for agents that name none: --model, the mission's, the default (COORD_MODEL, config), offline. */
export function runModelSpec(mission: Mission, settings: ModelSettings): string {
  const candidates = [settings.override, mission.metadata.extra.model, settings.default];
  for (const candidate of candidates) {
    if (!candidate?.trim()) continue;
    const spec = normalizeSpec(candidate);
    if (!spec) throw new CoordError("MODEL_INVALID", `"${candidate}" is not a model name`, { hint: "write provider:model, e.g. openai:gpt-4o-mini, anthropic:claude-sonnet-4-5, ollama:llama3.1, or offline" });
    return spec;
  }
  return OFFLINE_MODEL;
}

/**
 * The model of one agent. `--model` wins; then the agent's `model:` (Claude Code aliases map to
 * Anthropic models when ANTHROPIC_API_KEY is set, else to the run's model, with a warning).
 */
export function agentModelSpec(agent: Agent, runSpec: string, settings: ModelSettings): { spec: string; warning?: string } {
  if (settings.override?.trim() || !agent.model || agent.model === "inherit") return { spec: runSpec };
  const alias = CLAUDE_ALIASES[agent.model.toLowerCase()];
  if (alias) {
    if (settings.env.ANTHROPIC_API_KEY || settings.replay) return { spec: alias };
    return { spec: runSpec, warning: `agent ${agent.name} asks for "${agent.model}" but ANTHROPIC_API_KEY is not set: using ${runSpec}` };
  }
  const spec = normalizeSpec(agent.model);
  if (spec) return { spec };
  return { spec: runSpec, warning: `agent ${agent.name} names model "${agent.model}", which coord does not know: using ${runSpec}` };
}

function providerOf(spec: string): { provider: string; model: string } {
  const at = spec.indexOf(":");
  return { provider: spec.slice(0, at), model: spec.slice(at + 1) };
}

/** The provider's LangChain chat model, imported only when a run uses that provider. */
async function providerModel(spec: string, settings: ModelSettings): Promise<BaseChatModel> {
  const { provider, model } = providerOf(spec);
  const env = settings.env;
  const baseUrl = settings.baseUrl ?? (provider === "openai" ? env.OPENAI_BASE_URL : undefined);
  const keyVariable = KEY_VARIABLES[provider];
  const key = keyVariable ? env[keyVariable] : undefined;
  if (keyVariable && !key && !(provider === "openai" && baseUrl)) {
    throw new CoordError("MODEL_KEY_MISSING", `model ${spec} needs ${keyVariable}, which is not set`, {
      hint: `set ${keyVariable} in the environment or in .env (see .env.example), or run offline without --model/COORD_MODEL`,
      hints: { remote: `the coord server has no ${keyVariable}: ask its operator to set it, or to run offline` },
    });
  }
  const common = { maxRetries: 0, ...(settings.timeoutMs && { timeout: settings.timeoutMs }) };
  const { initChatModel } = await import("langchain/chat_models/universal");
  try {
    if (provider === "openai") {
      // Local OpenAI-compatible servers often need no key, but the client insists on one.
      return (await initChatModel(model, { modelProvider: "openai", apiKey: key ?? "not-needed", ...(baseUrl && { configuration: { baseURL: baseUrl } }), ...common })) as unknown as BaseChatModel;
    }
    if (provider === "ollama") {
      return (await initChatModel(model, { modelProvider: "ollama", baseUrl: baseUrl ?? env.OLLAMA_HOST ?? "http://127.0.0.1:11434", ...common })) as unknown as BaseChatModel;
    }
    return (await initChatModel(model, { modelProvider: provider, ...(key && { apiKey: key }), ...common })) as unknown as BaseChatModel;
  } catch (cause) {
    throw new CoordError("MODEL_INVALID", `cannot use model ${spec}: ${(cause as Error).message.split("\n")[0]}`, {
      hint: `check the provider name; providers other than openai, anthropic and ollama need their package (npm install @langchain/${provider})`,
      cause,
    });
  }
}

/** Where a provider's calls go, for its limiter: the provider and the server. */
function limiterKey(spec: string, settings: ModelSettings): string {
  const { provider } = providerOf(spec);
  const env = settings.env;
  const baseUrl = settings.baseUrl ?? (provider === "openai" ? env.OPENAI_BASE_URL : provider === "ollama" ? (env.OLLAMA_HOST ?? "http://127.0.0.1:11434") : undefined);
  return `${provider}|${baseUrl ?? "default"}`;
}

/**
 * The managed model for a spec: offline, replayed, or a provider's. A provider's answers are
 * streamed (tokens go to `onToken`), and its calls go through the process's limiter for it.
 */
export async function createModel(spec: string, settings: ModelSettings): Promise<ManagedChatModel> {
  const inner = settings.replay ? undefined : spec === OFFLINE_MODEL ? new OfflineChatModel({}) : await providerModel(spec, settings);
  const { provider } = providerOf(spec);
  const keyVariable = KEY_VARIABLES[provider];
  const remote = !!inner && spec !== OFFLINE_MODEL;
  return new ManagedChatModel({
    spec,
    ...(inner && { inner }),
    ...(remote && {
      stream: true,
      // OpenAI-compatible servers end every stream with a finish reason; a stream without one was cut.
      requireFinish: provider === "openai",
      limiter: providerLimiter(limiterKey(spec, settings), settings.maxInflight ?? DEFAULT_MAX_INFLIGHT),
    }),
    ...(settings.onToken && { onToken: settings.onToken }),
    ...(settings.stepOf && { stepOf: settings.stepOf }),
    ...(settings.nextCall && { nextCall: settings.nextCall }),
    retry: settings.retry ?? DEFAULT_RETRY,
    ...(settings.timeoutMs && { timeoutMs: settings.timeoutMs }),
    ...(settings.recording && { recording: settings.recording }),
    ...(settings.replay && { replay: true }),
    ...(keyVariable && { keyVariable }),
    ...(settings.onRetry && { onRetry: settings.onRetry }),
  });
}

/** Every agent's model for a run, built once up front so a missing key fails before any step. */
export async function modelsForRun(
  mission: Mission,
  agents: Agent[],
  settings: ModelSettings,
): Promise<{ runSpec: string; byAgent: Map<string, { spec: string; model: BaseChatModel }>; judge: { spec: string; model: BaseChatModel }; warnings: string[] }> {
  const runSpec = runModelSpec(mission, settings);
  const warnings: string[] = [];
  const bySpec = new Map<string, ManagedChatModel>();
  const byAgent = new Map<string, { spec: string; model: BaseChatModel }>();
  // Tokens are labelled with the step they are written for: the graph node the call runs in.
  let calls = 0;
  const steps = settings.onToken ? stepsOfMission(mission) : undefined;
  const streaming: Partial<ModelSettings> = steps ? { stepOf: settings.stepOf ?? (() => currentStep(steps)), nextCall: settings.nextCall ?? (() => ++calls) } : {};
  for (const agent of [...agents, ...mission.agents]) {
    const { spec, warning } = agentModelSpec(agent, runSpec, settings);
    if (warning) warnings.push(warning);
    if (!bySpec.has(spec)) bySpec.set(spec, await createModel(spec, { ...settings, ...streaming }));
    byAgent.set(agent.name, { spec, model: bySpec.get(spec)! });
  }
  // The judge is resolved with the agents, so a missing key for it fails before any step too.
  const judgeSpec = settings.judge ?? runSpec;
  if (!bySpec.has(judgeSpec)) bySpec.set(judgeSpec, await createModel(judgeSpec, { ...settings, ...streaming }));
  return { runSpec, byAgent, judge: { spec: judgeSpec, model: bySpec.get(judgeSpec)! }, warnings };
}
