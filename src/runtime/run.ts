import { existsSync, mkdirSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { Command } from "@langchain/langgraph";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import pino, { type Logger } from "pino";
import { CoordError, formatDiagnostic, isCoordError } from "../errors.js";
import { parseAgent } from "../definitions/agent.js";
import { AgentRegistry, loadAgents } from "../definitions/agent-registry.js";
import { readText, type LoadOptions } from "../definitions/discover.js";
import { loadMission } from "../definitions/mission-catalog.js";
import type { Agent } from "../definitions/schemas/agent.js";
import { validateMissionAgents } from "../definitions/validate.js";
import { DEFAULT_PRICES, costOf } from "../models/prices.js";
import { Recording } from "../models/recording.js";
import { toolsForAgent } from "../models/tools.js";
import { connectMcp, type McpTools } from "../models/mcp.js";
import { readMcpServers } from "./mcp-config.js";
import { modelsForRun, type ModelSettings } from "../models/resolve.js";
import { compileMission, recursionLimitFor, type CompileOptions, type StepEffects, type StepInfo } from "./compile.js";
import { resolveInputs } from "./inputs.js";
import { buildRecord, deliverableFile, notesFile, readRecord, renderReport, type RunRecord } from "./record.js";
import { runAgentHook, runProjectHook, type HookContext } from "./hooks.js";
import type { ReviewDecision, RunStateValue } from "./state.js";
import { writeFileAtomic } from "../files.js";
import { checkRunId, checkpointFile, loadSpec, newRunId, runIds, saveSpec, type RunModelOptions, type RunSpec } from "./store.js";
import { lockRun } from "./lock.js";

export type { RunModelOptions };

/** What a run reports while it goes: the CLI turns these into progress lines. */
export type RunEvent =
  | { type: "start"; runId: string; runDir: string }
  | { type: "step"; state: "start" | "end"; phase: number; role: "lead" | "support"; agent: string; ms?: number }
  | { type: "phase"; phase: number; title: string; deliverables: number }
  | { type: "warning"; message: string };

export interface RunOptions extends LoadOptions {
  /** Mission id or path. */
  mission: string;
  inputsDir?: string;
  /** `ID=VALUE` or `ID=@FILE`, as on the command line. */
  inputs?: string[];
  /** Input id -> text, taken literally (never read as a path): for callers that are not the user's shell. */
  inputValues?: Record<string, string>;
  outDir?: string;
  runId?: string;
  approve?: boolean;
  hooks?: boolean;
  concurrency?: number;
  hookTimeoutMs?: number;
  onEvent?: (event: RunEvent) => void;
  /** Also log to this stream (the run folder always gets run.log). */
  logStream?: NodeJS.WritableStream;
  /** Model settings beyond agents and missions. */
  models?: RunModelOptions;
}



export interface RunOutcome {
  record: RunRecord;
  /** 0 completed, 3 paused, 1 failed. */
  exitCode: number;
  /** Why a failed run failed, as one line (also in run.json). */
  error?: string;
}

const DEFAULT_HOOK_TIMEOUT_MS = 60_000;

/** Starts a mission run: validates everything first, so a mistake costs no agent step. */
export async function runMission(options: RunOptions): Promise<RunOutcome> {
  const cwd = options.cwd ?? process.cwd();
  const load: LoadOptions = { ...options, cwd };
  // Parse warnings (an old encoding slip, a phase without deliverables) belong to `validate`, not every run.
  const { mission, diagnostics } = loadMission(options.mission, load);
  const broken = diagnostics.find((d) => d.severity === "error");
  if (broken) throw CoordError.from(broken);
  const registry = loadAgents(load);
  const unknown = validateMissionAgents(mission, registry);
  if (unknown.length > 0) {
    const first = unknown[0]!;
    const more = unknown.length > 1 ? ` (and ${unknown.length - 1} more: run \`coord missions validate ${options.mission}\`)` : "";
    throw new CoordError(first.code, `${first.message}${more}`, { ...first });
  }
  const inputs = resolveInputs(mission, {
    ...(options.inputsDir && { inputsDir: options.inputsDir }),
    inputs: options.inputs ?? [],
    ...(options.inputValues && { values: options.inputValues }),
    cwd,
  });
  if (inputs.notProvided.length > 0 && mission.kind === "template") {
    options.onEvent?.({ type: "warning", message: `not provided, marked as such in the prompt: ${inputs.notProvided.join(", ")}` });
  }
  const runId = options.runId ?? newRunId(mission.id);
  checkRunId(runId);
  if (runIds(cwd).includes(runId)) {
    throw new CoordError("RUN_EXISTS", `run "${runId}" already exists`, { hint: `continue it with \`coord resume ${runId}\`, or choose another --run-id` });
  }
  const used = new Set(mission.phases.flatMap((p) => [p.lead, ...p.support]).filter((n): n is string => !!n));
  const agents = [...used].map((name) => registry.get(name)).filter((a): a is Agent => !!a);
  const modelOptions = { ...options.models, ...(options.models?.record && { record: resolve(cwd, options.models.record) }), ...(options.models?.replay && { replay: resolve(cwd, options.models.replay) }) };
  // Resolving models now makes a missing key or a bad model name fail before any step runs.
  const models = await modelsForRun(mission, agents, modelSettings(modelOptions, cwd, options.onEvent));
  for (const warning of models.warnings) options.onEvent?.({ type: "warning", message: warning });
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
    // The server in use is kept with the run, so resuming from another shell reaches it too.
    models: { ...modelOptions, ...(!modelOptions.baseUrl && modelOptions.env?.COORD_BASE_URL && { baseUrl: modelOptions.env.COORD_BASE_URL }), env: undefined },
    options: {
      approve: !!options.approve,
      hooks: options.hooks !== false,
      concurrency: options.concurrency ?? null,
      hookTimeoutMs: options.hookTimeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS,
    },
    startedAt: new Date().toISOString(),
  };
  const unlock = lockRun(cwd, runId);
  try {
    mkdirSync(spec.runDir, { recursive: true });
    saveSpec(spec);
    options.onEvent?.({ type: "start", runId, runDir: spec.runDir });
    return await execute(spec, { inputs: spec.inputs, extra: spec.extra }, options, true);
  } finally {
    unlock();
  }
}

/**
 * Continues a run from its last checkpoint: after a crash, a failure, or with a decision for a
 * run paused for approval. Finished steps are not run again.
 */
export async function resumeRun(
  runId: string,
  options: {
    cwd?: string;
    decision?: ReviewDecision;
    onEvent?: (event: RunEvent) => void;
    logStream?: NodeJS.WritableStream;
    /** A higher budget, the environment: what may change between a pause and its resume. */
    models?: Pick<RunModelOptions, "maxTokens" | "maxCostUsd" | "env" | "timeoutMs">;
  } = {},
): Promise<RunOutcome> {
  const cwd = options.cwd ?? process.cwd();
  const saved = loadSpec(cwd, runId);
  const unlock = lockRun(cwd, runId);
  try {
    return await resumeLocked(saved, runId, cwd, options);
  } finally {
    unlock();
  }
}

async function resumeLocked(
  saved: RunSpec,
  runId: string,
  cwd: string,
  options: Parameters<typeof resumeRun>[1] & object,
): Promise<RunOutcome> {
  const { env: _env, ...changes } = options.models ?? {};
  const spec: RunSpec = { ...saved, models: { ...saved.models, ...changes } };
  if (Object.keys(changes).length > 0) saveSpec(spec);
  const opened = await openGraph(spec, options);
  const snapshot = await opened.graph.getState(opened.config).finally(opened.close);
  // Stopped before its first checkpoint (killed in a pre-mission hook, an MCP server that would
  // not start): nothing ran yet, so it starts from its saved inputs.
  if (!(snapshot.values as Partial<RunStateValue>).inputs) return execute(spec, { inputs: spec.inputs, extra: spec.extra }, options, true);
  const waiting = pausedPhase(snapshot);
  if (options.decision && waiting === null) {
    throw new CoordError("RUN_NOT_PAUSED", `run "${runId}" is not waiting for approval`, { hint: `see its state with \`coord runs show ${runId}\`` });
  }
  if (!options.decision && waiting !== null) {
    const record = await writeOutputs(spec, snapshot.values as RunStateValue, { status: "paused", reason: "approval", pausedPhase: waiting });
    return { record, exitCode: 3 };
  }
  const input = options.decision ? new Command({ resume: options.decision }) : null;
  return execute(spec, input, options, false);
}

export function listRuns(cwd = process.cwd()): RunRecord[] {
  return runIds(cwd)
    .map((id) => {
      try {
        return readRecord(loadSpec(cwd, id).runDir);
      } catch {
        return undefined;
      }
    })
    .filter((r): r is RunRecord => !!r);
}

export function getRun(runId: string, cwd = process.cwd()): RunRecord {
  const spec = loadSpec(cwd, runId);
  const record = readRecord(spec.runDir);
  if (!record) throw new CoordError("RUN_NOT_FOUND", `run "${runId}" has no run.json in ${spec.runDir}`, { hint: `continue it with \`coord resume ${runId}\`` });
  return record;
}

function runLogger(spec: RunSpec, extra?: NodeJS.WritableStream): { logger: Logger; close(): void } {
  mkdirSync(spec.runDir, { recursive: true });
  // Synchronous writes: a run killed mid-step still has every finished step in its log.
  const file = pino.destination({ dest: join(spec.runDir, "run.log"), sync: true, append: true });
  const streams = extra ? pino.multistream([{ stream: file }, { stream: extra }]) : file;
  return { logger: pino({ base: { runId: spec.runId } }, streams), close: () => file.end() };
}

function modelSettings(models: RunModelOptions, cwd: string, onEvent?: (event: RunEvent) => void): ModelSettings {
  return {
    ...(models.model && { model: models.model }),
    ...(models.baseUrl && { baseUrl: models.baseUrl }),
    ...(models.timeoutMs && { timeoutMs: models.timeoutMs }),
    env: models.env ?? process.env,
    ...(models.record && { recording: Recording.forRecord(resolve(cwd, models.record)) }),
    ...(models.replay && { recording: Recording.forReplay(resolve(cwd, models.replay)), replay: true }),
    ...(onEvent && { onRetry: (message: string) => onEvent({ type: "warning", message }) }),
  };
}

async function openGraph(
  spec: RunSpec,
  options: { onEvent?: (event: RunEvent) => void; models?: { env?: Record<string, string | undefined> } },
  effects?: StepEffects,
  mcp?: McpTools,
) {
  const registry = new AgentRegistry();
  for (const agent of spec.agents) registry.add(freshAgent(agent));
  // The run keeps the default model it started with: COORD_MODEL is its fallback on resume, so a
  // resumed run never drifts to another model (or offline) because the environment differs.
  const env = { ...(options.models?.env ?? spec.models.env ?? process.env), COORD_MODEL: spec.model };
  const models = await modelsForRun(spec.mission, registry.agents, modelSettings({ ...spec.models, env }, spec.cwd, options.onEvent));
  const modelOf = (agent: Agent) => models.byAgent.get(agent.name) ?? models.byAgent.values().next().value!;
  const prices = { ...DEFAULT_PRICES, ...spec.models.prices };
  const compileOptions: CompileOptions = {
    agents: registry,
    model: (agent) => modelOf(agent).model,
    modelName: (agent) => modelOf(agent).spec,
    toolsFor: (agent) => [...toolsForAgent(agent.tools, [spec.cwd, ...(spec.inputsDir ? [spec.inputsDir] : [])]), ...(mcp?.forAgent(agent) ?? [])],
    budget: {
      ...(spec.models.maxTokens && { maxTokens: spec.models.maxTokens }),
      ...(spec.models.maxCostUsd && { maxCostUsd: spec.models.maxCostUsd }),
      cost: (model, usage) => costOf(model, usage, prices),
    },
    approve: spec.options.approve,
    ...(spec.options.concurrency && { concurrency: spec.options.concurrency }),
    ...(effects && { effects }),
  };
  // Opened last, once nothing before it can throw: a server runs many runs in one process, and
  // each closes its database handle when done.
  mkdirSync(join(checkpointFile(spec.cwd), ".."), { recursive: true });
  const checkpointer = SqliteSaver.fromConnString(checkpointFile(spec.cwd));
  let graph;
  try {
    graph = compileMission(spec.mission, { ...compileOptions, checkpointer });
  } catch (error) {
    checkpointer.db.close();
    throw error;
  }
  const config = {
    configurable: { thread_id: spec.runId },
    recursionLimit: recursionLimitFor(spec.mission),
    durability: "sync" as const,
  };
  return { graph, config, close: () => checkpointer.db.close() };
}

/**
 * An agent as its file says now, if the file still defines it: a run that failed on a broken
 * hook must pick up the fix on resume. Otherwise the copy saved when the run started.
 */
function freshAgent(saved: Agent): Agent {
  const text = readText(saved.file);
  if (typeof text !== "string") return saved;
  const current = parseAgent(text, saved.file).agent;
  return current?.name === saved.name ? current : saved;
}

function pausedPhase(snapshot: { tasks: ReadonlyArray<{ interrupts: ReadonlyArray<{ value?: unknown }> }> }): number | null {
  for (const task of snapshot.tasks) {
    const value = task.interrupts[0]?.value as { phase?: number } | undefined;
    if (value?.phase !== undefined) return value.phase;
  }
  return null;
}

async function execute(
  spec: RunSpec,
  input: unknown,
  options: { onEvent?: (event: RunEvent) => void; logStream?: NodeJS.WritableStream; models?: { env?: Record<string, string | undefined> } },
  isNew: boolean,
): Promise<RunOutcome> {
  const { logger, close: closeLog } = runLogger(spec, options.logStream);
  const emit = (event: RunEvent) => options.onEvent?.(event);
  const warn = (message: string) => {
    logger.warn(message);
    emit({ type: "warning", message });
  };
  const effects = stepEffects(spec, logger, emit, warn);
  try {
    const mcp = await connectMcp(spec.agents, readMcpServers(spec.cwd));
    try {
      return await executeGraph(spec, input, options, isNew, { logger, emit, warn, effects, mcp });
    } finally {
      await mcp.close();
    }
  } finally {
    closeLog();
  }
}

async function executeGraph(
  spec: RunSpec,
  input: unknown,
  options: { onEvent?: (event: RunEvent) => void; logStream?: NodeJS.WritableStream; models?: { env?: Record<string, string | undefined> } },
  isNew: boolean,
  ctx: { logger: Logger; emit: (e: RunEvent) => void; warn: (m: string) => void; effects: StepEffects; mcp: McpTools },
): Promise<RunOutcome> {
  const { graph, config, close } = await openGraph(spec, options, ctx.effects, ctx.mcp);
  try {
    return await invokeAndRecord(spec, input, isNew, graph, config, ctx);
  } finally {
    close();
  }
}

async function invokeAndRecord(
  spec: RunSpec,
  input: unknown,
  isNew: boolean,
  graph: Awaited<ReturnType<typeof openGraph>>["graph"],
  config: Awaited<ReturnType<typeof openGraph>>["config"],
  ctx: { logger: Logger; warn: (m: string) => void },
): Promise<RunOutcome> {
  const { logger, warn } = ctx;
  const current = async () => (await graph.getState(config)).values as RunStateValue;
  await writeOutputs(spec, isNew ? emptyState(spec) : await current(), { status: "running" });
  if (isNew) await runProjectHook(hookContext(spec, warn), "pre-mission", buildRecord(spec, emptyState(spec), { status: "running" }));
  logger.info({ mission: spec.mission.id, resumed: !isNew }, isNew ? "run started" : "run resumed");
  try {
    await graph.invoke(input as never, config);
  } catch (thrown) {
    const error = firstCause(thrown);
    const message = isCoordError(error) ? formatDiagnostic(error.toDiagnostic(), (f) => relative(spec.cwd, f) || f) : (error as Error).message;
    if (isCoordError(error) && error.code === "BUDGET_EXCEEDED") {
      logger.info(error.message);
      const record = await writeOutputs(spec, await current(), { status: "paused", reason: "budget", error: message });
      return { record, exitCode: 3, error: message };
    }
    logger.error({ err: error }, "run failed");
    const record = await writeOutputs(spec, await current(), { status: "failed", error: message, finishedAt: new Date().toISOString() });
    return { record, exitCode: isCoordError(error) ? Math.max(1, error.exitCode) : 1, error: message };
  }
  const snapshot = await graph.getState(config);
  const waiting = pausedPhase(snapshot);
  const state = snapshot.values as RunStateValue;
  if (waiting !== null) {
    logger.info({ phase: waiting }, "paused for approval");
    return { record: await writeOutputs(spec, state, { status: "paused", reason: "approval", pausedPhase: waiting }), exitCode: 3 };
  }
  const record = await writeOutputs(spec, state, { status: "completed", finishedAt: new Date().toISOString() });
  logger.info({ usage: record.usage }, "run completed");
  await runProjectHook(hookContext(spec, warn), "post-mission", record);
  return { record, exitCode: 0 };
}

/**
 * Parallel steps that fail together reach us as one "Multiple errors occurred during superstep"
 * error holding them in `errors`: the first of ours (else the first) is the one worth reporting.
 */
function firstCause(error: unknown): unknown {
  const inner = (error as { errors?: unknown[] } | undefined)?.errors;
  if (!Array.isArray(inner) || inner.length === 0) return error;
  return inner.find(isCoordError) ?? inner[0];
}

function emptyState(spec: RunSpec): RunStateValue {
  return { inputs: spec.inputs, extra: spec.extra, notes: {}, deliverables: {}, calls: {}, reviews: {} };
}

async function writeOutputs(spec: RunSpec, state: RunStateValue, status: Parameters<typeof buildRecord>[2]): Promise<RunRecord> {
  const record = buildRecord(spec, state, status);
  writeFileAtomic(join(spec.runDir, "run.json"), `${JSON.stringify(record, null, 2)}\n`);
  writeFileAtomic(join(spec.runDir, "report.md"), renderReport(spec, record, state));
  return record;
}

/** The side effects of steps in a CLI run: hooks, files in the run folder, log lines, progress. */
function stepEffects(spec: RunSpec, logger: Logger, emit: (e: RunEvent) => void, warn: (m: string) => void): StepEffects {
  const started = new Map<string, number>();
  const hooks = hookContext(spec, warn);
  const key = (s: StepInfo) => `${s.phase}/${s.role}/${s.agent.name}`;
  return {
    async beforeStep(step) {
      started.set(key(step), Date.now());
      logger.info({ phase: step.phase, role: step.role, agent: step.agent.name }, "step started");
      emit({ type: "step", state: "start", phase: step.phase, role: step.role, agent: step.agent.name });
      await runAgentHook(hooks, step, "pre");
    },
    async afterStep(step, output) {
      if (output.notes !== undefined) writeFileAtomic(join(spec.runDir, notesFile(step.phase, step.agent.name)), `${output.notes}\n`);
      const plan = spec.mission.phases.find((p) => p.index === step.phase);
      if (output.deliverables && plan) {
        const titles = Object.keys(output.deliverables);
        titles.forEach((title, i) => writeFileAtomic(join(spec.runDir, deliverableFile(step.phase, i, title)), `${output.deliverables![title]!.trim()}\n`));
      }
      await runAgentHook(hooks, step, "post");
      const ms = Date.now() - (started.get(key(step)) ?? Date.now());
      logger.info({ phase: step.phase, role: step.role, agent: step.agent.name, ms }, "step finished");
      emit({ type: "step", state: "end", phase: step.phase, role: step.role, agent: step.agent.name, ms });
      if (output.deliverables && plan) {
        emit({ type: "phase", phase: step.phase, title: plan.title, deliverables: Object.keys(output.deliverables).length });
        // The hook sees the whole run so far, as run.json will say once this step is saved.
        const record = buildRecord(spec, output.state ?? { ...emptyState(spec), deliverables: { [step.phase]: output.deliverables } }, { status: "running" });
        await runProjectHook(hooks, "post-phase", record);
      }
    },
  };
}

function hookContext(spec: RunSpec, warn: (m: string) => void): HookContext {
  return { cwd: spec.cwd, runDir: spec.runDir, runId: spec.runId, missionId: spec.mission.id, enabled: spec.options.hooks, timeoutMs: spec.options.hookTimeoutMs, env: process.env, warn };
}
