import { resolve } from "node:path";
import type { Callbacks } from "@langchain/core/callbacks/manager";
import { CoordError } from "../errors.js";
import { loadAgents, type AgentRegistry } from "../definitions/agent-registry.js";
import type { LoadOptions } from "../definitions/discover.js";
import { loadMission } from "../definitions/mission-catalog.js";
import type { Agent } from "../definitions/schemas/agent.js";
import type { Mission } from "../definitions/schemas/mission.js";
import { SettingsSchema, type Settings, type SettingsInput } from "../definitions/schemas/settings.js";
import { validateMissionAgents } from "../definitions/validate.js";
import { Recording } from "../models/recording.js";
import { modelsForRun, type ModelSettings } from "../models/resolve.js";
import { DEFAULT_RETRY } from "../models/retry.js";
import type { Emit, Env, RunEvent } from "./events.js";
import { resolveInputs } from "./inputs.js";
import { LIBRARY_ACTOR, type Actor } from "./state.js";
import { checkRunId, newRunId, type RunSpec } from "./store.js";
import type { RunStore } from "./store/run-store.js";

export interface RunOptions extends LoadOptions {
  /** Mission id or path. */
  mission: string;
  inputsDir?: string;
  /** `ID=VALUE` or `ID=@FILE`, as on the command line. */
  inputs?: string[];
  /** Input id -> text, taken literally (never read as a path): for callers that are not the user's shell. */
  inputValues?: Record<string, string>;
  /** Where run folders go (default `runs`). */
  outDir?: string;
  runId?: string;
  /** The run's settings (see `SettingsSchema`); what is left out takes the library's defaults. */
  settings?: SettingsInput;
  /** Where providers' keys are read and what hooks inherit; pass `process.env` for the user's. */
  env?: Env;
  onEvent?: (event: RunEvent) => void;
  /** Also log to this stream (the run folder always gets run.log). */
  logStream?: NodeJS.WritableStream;
  /** Who starts the run, for run.json (default `{ surface: "library" }`). */
  startedBy?: Actor;
  /**
   * LangChain callbacks for every model and tool call of the run, each tagged with the mission,
   * phase, agent and role, with the run id in its metadata (`coord_run_id`).
   */
  callbacks?: Callbacks;
}

/** Every agent's model for a run, resolved once. */
export type RunModels = Awaited<ReturnType<typeof modelsForRun>>;

export interface PreparedRun {
  spec: RunSpec;
  models: RunModels;
}

/**
 * Everything a run needs before its first step, checked in order so that any mistake costs no
 * agent step: the mission, its agents, the inputs, the run id, and every model with its key.
 */
export async function prepareRun(options: RunOptions, store: RunStore): Promise<PreparedRun> {
  const cwd = options.cwd ?? process.cwd();
  const settings = withAbsolutePaths(SettingsSchema.parse(options.settings ?? {}), cwd);
  const load: LoadOptions = { ...options, cwd };
  const mission = validMission(options.mission, load);
  const registry = loadAgents(load);
  requireKnownAgents(mission, registry, options.mission);
  const inputs = resolveInputs(mission, {
    ...(options.inputsDir && { inputsDir: options.inputsDir }),
    inputs: options.inputs ?? [],
    ...(options.inputValues && { values: options.inputValues }),
    cwd,
  });
  if (inputs.notProvided.length > 0 && mission.kind === "template") {
    options.onEvent?.({ type: "warning", message: `not provided, marked as such in the prompt: ${inputs.notProvided.join(", ")}` });
  }
  const runId = await freshRunId(options.runId ?? newRunId(mission.id), store);
  const agents = agentsOf(mission, registry);
  const models = await resolveRunModels(mission, agents, settings, options.env ?? {}, options.onEvent);
  const spec: RunSpec = {
    runId,
    mission,
    agents,
    inputs: inputs.values,
    inputSources: inputs.sources,
    extra: inputs.extra,
    notProvided: inputs.notProvided,
    runDir: resolve(cwd, options.outDir ?? "runs", runId),
    inputsDir: options.inputsDir ? resolve(cwd, options.inputsDir) : null,
    cwd,
    model: models.runSpec,
    // The run's model is pinned, so resuming it from another shell or environment uses the same.
    settings: { ...settings, models: { ...settings.models, default: models.runSpec } },
    startedAt: new Date().toISOString(),
    startedBy: options.startedBy ?? LIBRARY_ACTOR,
  };
  return { spec, models };
}

/** A run may be resumed from another folder: recordings are kept as absolute paths. */
function withAbsolutePaths(settings: Settings, cwd: string): Settings {
  const { record, replay } = settings.models;
  return { ...settings, models: { ...settings.models, ...(record && { record: resolve(cwd, record) }), ...(replay && { replay: resolve(cwd, replay) }) } };
}

// Parse warnings (an old encoding slip, a phase without deliverables) belong to `validate`, not every run.
export function validMission(ref: string, load: LoadOptions): Mission {
  const { mission, diagnostics } = loadMission(ref, load);
  const broken = diagnostics.find((d) => d.severity === "error");
  if (broken) throw CoordError.from(broken);
  return mission;
}

export function requireKnownAgents(mission: Mission, registry: AgentRegistry, ref: string): void {
  const unknown = validateMissionAgents(mission, registry);
  if (unknown.length === 0) return;
  const first = unknown[0]!;
  const more = unknown.length > 1 ? ` (and ${unknown.length - 1} more: run \`coord missions validate ${ref}\`)` : "";
  throw new CoordError(first.code, `${first.message}${more}`, { ...first });
}

async function freshRunId(runId: string, store: RunStore): Promise<string> {
  checkRunId(runId);
  if (await store.findSpec(runId)) {
    throw new CoordError("RUN_EXISTS", `run "${runId}" already exists`, {
      hint: `continue it with \`coord resume ${runId}\`, or choose another --run-id`,
      hints: { remote: "choose another run id, or leave it out for a new one" },
    });
  }
  return runId;
}

/** The agents a mission's phases name, as the registry has them. */
export function agentsOf(mission: Mission, registry: AgentRegistry): Agent[] {
  const used = new Set(mission.phases.flatMap((p) => [p.lead, ...p.support]).filter((n): n is string => !!n));
  return [...used].map((name) => registry.get(name)).filter((a): a is Agent => !!a);
}

/** Every agent's model, built once up front so a missing key or a bad name fails before any step. */
export async function resolveRunModels(mission: Mission, agents: Agent[], settings: Settings, env: Env, emit?: Emit): Promise<RunModels> {
  const models = await modelsForRun(mission, agents, modelSettings(settings, env, emit));
  for (const warning of models.warnings) emit?.({ type: "warning", message: warning });
  return models;
}

function modelSettings(settings: Settings, env: Env, emit?: Emit): ModelSettings {
  const m = settings.models;
  return {
    ...(m.override && { override: m.override }),
    ...(m.default && { default: m.default }),
    ...(m.baseUrl && { baseUrl: m.baseUrl }),
    ...(m.judge && { judge: m.judge }),
    timeoutMs: m.timeoutMs,
    retry: { ...DEFAULT_RETRY, retries: m.retries },
    env,
    ...(m.record && { recording: Recording.forRecord(m.record) }),
    ...(m.replay && { recording: Recording.forReplay(m.replay), replay: true }),
    // Old runs' specs have no maxInflight: the default then.
    ...(m.maxInflight && { maxInflight: m.maxInflight }),
    ...(emit && { onRetry: (message: string) => emit({ type: "warning", message }), onToken: (token) => emit({ type: "token", ...token }) }),
  };
}
