import { mkdirSync } from "node:fs";
import type { Callbacks } from "@langchain/core/callbacks/manager";
import { dirname, join, relative } from "node:path";
import type { Logger } from "pino";
import { formatDiagnostic, isCoordError, type ErrorCode } from "../errors.js";
import { writeFileAtomic } from "../files.js";
import type { Agent } from "../definitions/schemas/agent.js";
import type { Settings } from "../definitions/schemas/settings.js";
import { connectMcp, type McpTools } from "../models/mcp.js";
import { DEFAULT_PRICES, costOf } from "../models/prices.js";
import { contextWindowOf, requestBudget } from "../models/context.js";
import { CRITERIA_NODE } from "../definitions/plan.js";
import { judgeContextOf, judgeCriteria, templateSectionResults } from "./criteria.js";
import { toolsForAgent } from "../models/tools.js";
import { compileMission, recursionLimitFor, type CompileOptions, type StepEffects } from "./compile.js";
import { stepEffects } from "./effects.js";
import type { Emit, Env } from "./events.js";
import type { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import { loadSpec, saveSpec } from "./store/specs.js";
import { runProjectHook, type HookContext } from "./hooks.js";
import type { RunGuard } from "./events.js";
import { RUN_FILES } from "./paths.js";
import { compactRun, isFinished } from "./retention.js";
import type { RunModels } from "./prepare.js";
import { buildRecord, initialState, renderReport, type RunRecord } from "./record.js";
import type { RunStateValue } from "./state.js";
import { nextCallKey, pauseOf, type Pause } from "./decisions.js";
import type { RunSpec } from "./store.js";
import type { RunStore } from "./store/run-store.js";

export interface RunOutcome {
  record: RunRecord;
  /** 0 completed, 3 paused, 1 failed. */
  exitCode: number;
  /** Why a failed run failed, as one line (also in run.json). */
  error?: string;
}

/** What executing a run needs besides its spec: where state lives, and what the interface gave. */
export interface ExecuteContext {
  store: RunStore;
  env: Env;
  mcpServers: Settings["mcpServers"];
  emit: Emit;
  logStream?: NodeJS.WritableStream;
  /** A worker's lease: checked before every step and every checkpoint write. */
  guard?: RunGuard;
  /** LangChain callbacks for every model and tool call of the run (see CompileOptions.callbacks). */
  callbacks?: Callbacks;
}

/**
 * Runs (or continues) a run's graph to its next stop: completed, paused for approval or budget,
 * or failed. `input` is the first state for a new run, null to continue, or a resume Command.
 */
export async function executeRun(spec: RunSpec, models: RunModels, input: unknown, isNew: boolean, ctx: ExecuteContext): Promise<RunOutcome> {
  const { logger, close: closeLog } = await runLogger(spec, ctx.logStream);
  // OpenTelemetry only when the run's environment names an OTLP endpoint: otherwise not loaded.
  const tracer = tracingWanted(ctx.env) ? await startTracing(spec, models, input, isNew, ctx) : undefined;
  const emit: Emit = tracer
    ? (event) => {
        tracer.event(event);
        ctx.emit(event);
      }
    : ctx.emit;
  const warn = (message: string, code?: ErrorCode) => {
    logger.warn({ ...(code && { code }) }, message);
    emit({ type: "warning", message, ...(code && { code }) });
  };
  const hooks = { ...hookContext(spec, ctx.env, warn), ...(tracer && { trace: tracer.hook.bind(tracer) }) };
  const callbacks = tracer ? withHandler(ctx.callbacks, tracer) : ctx.callbacks;
  let outcome: RunOutcome | undefined;
  try {
    const mcp = await connectMcp(spec.agents, ctx.mcpServers, ctx.env);
    try {
      const opened = await openGraph(spec, models, ctx.store, guardedEffects(stepEffects(spec, logger, emit, hooks), ctx.guard), mcp, ctx.guard, callbacks);
      outcome = await invokeAndRecord(spec, input, isNew, opened, { logger, hooks, store: ctx.store, ...(ctx.guard && { guard: ctx.guard }) });
      // A finished run keeps its last checkpoint only, so checkpoint tables don't grow without
      // bound; housekeeping, so a failure here is a warning, never the run's failure.
      if (isFinished(outcome.record.status)) await compactRun(ctx.store, spec.runId).catch((e: Error) => warn(`could not compact the run's checkpoints: ${e.message}`));
      return outcome;
    } finally {
      await mcp.close();
    }
  } catch (error) {
    outcome = undefined;
    await tracer?.end({ status: "failed", error: (error as Error).message }).catch(() => undefined);
    throw error;
  } finally {
    // The segment's spans are sent before the run returns, so a CLI process exits with them sent.
    if (outcome && tracer) {
      const { record, error } = outcome;
      const phase = record.phases.find((p) => p.status === "awaiting-approval")?.index;
      await tracer.end({ status: record.status === "completed" ? "completed" : record.status === "paused" ? "paused" : "failed", ...(record.reason && { reason: record.reason }), ...(phase !== undefined && { phase }), ...(error && { error }) }).catch(() => undefined);
    }
    closeLog();
  }
}

/** Whether the run's environment asks for OpenTelemetry traces (standard OTLP variables). */
export function tracingWanted(env: Env): boolean {
  if ((env.OTEL_SDK_DISABLED ?? "").trim().toLowerCase() === "true") return false;
  if ((env.OTEL_TRACES_EXPORTER ?? "").trim().toLowerCase() === "none") return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim());
}

/** The run segment's trace (see tracing.ts), its id saved with the run the first time. */
async function startTracing(spec: RunSpec, models: RunModels, input: unknown, isNew: boolean, ctx: ExecuteContext) {
  const { startRunTrace } = await import("./tracing.js");
  const prices = { ...DEFAULT_PRICES, ...spec.settings.models.prices };
  const decision = (input as { resume?: { action?: string; by?: { kind?: string; id?: string } } } | null)?.resume;
  const tracer = startRunTrace(spec, ctx.env, {
    isNew,
    modelOf: (agent) => models.byAgent.get(agent)?.spec ?? (agent === "judge" ? models.judge.spec : models.byAgent.values().next().value?.spec),
    cost: (model, usage) => costOf(model, usage, prices),
    ...(decision && typeof decision === "object" && { decision }),
  });
  if (!spec.trace) {
    // Saved from the store's copy: the spec in hand may carry this process's changes (hooks off).
    await loadSpec(ctx.store, spec.runId)
      .then((saved) => saveSpec(ctx.store, { ...saved, trace: tracer.ref }))
      .catch((e: Error) => ctx.emit({ type: "warning", message: `could not keep the run's trace id: ${e.message}` }));
  }
  return tracer;
}

/** The caller's callbacks and one more handler. */
function withHandler(callbacks: Callbacks | undefined, handler: BaseCallbackHandler): Callbacks {
  if (!callbacks) return [handler];
  return Array.isArray(callbacks) ? [...callbacks, handler] : callbacks.copy([handler]);
}

/** A run's checkpointed state and the phase it waits on for approval, if any. */
export async function readRunState(spec: RunSpec, models: RunModels, store: RunStore): Promise<{ values: Partial<RunStateValue>; pause: Pause | null }> {
  const opened = await openGraph(spec, models, store);
  const snapshot = await opened.graph.getState(opened.config);
  return { values: snapshot.values as Partial<RunStateValue>, pause: pauseIn(snapshot) };
}

/**
 * Judges a run's success criteria again, with the run's judge model (or the one its models were
 * resolved with), and saves the verdicts in its checkpoint as the criteria step's: no agent runs.
 */
export async function recheckCriteria(spec: RunSpec, models: RunModels, store: RunStore): Promise<RunStateValue> {
  const opened = await openGraph(spec, models, store);
  const state = (await opened.graph.getState(opened.config)).values as RunStateValue;
  const sections = spec.mission.kind === "template" ? templateSectionResults(spec.mission, state.deliverables) : [];
  const startedAt = new Date().toISOString();
  // The same request as the run's own check: the run's shared context, then the deliverables.
  const judged = spec.mission.successCriteria.length
    ? await judgeCriteria(models.judge.model, spec.mission, spec.mission.successCriteria, state.deliverables, requestBudget(spec.settings.models.contextTokens ?? contextWindowOf(models.judge.spec)), undefined, judgeContextOf(state))
    : undefined;
  const call = judged && { phase: 0, agent: "judge", role: "judge" as const, model: models.judge.spec, usage: judged.usage, attempts: 1, startedAt, finishedAt: new Date().toISOString() };
  const update = { criteria: [...sections, ...(judged?.results ?? [])], ...(call && { calls: { [nextCallKey(state.calls, "0/judge")]: call } }) };
  await opened.graph.updateState(opened.config, update, CRITERIA_NODE);
  return (await opened.graph.getState(opened.config)).values as RunStateValue;
}

export function hookContext(spec: RunSpec, env: Env, warn: HookContext["warn"]): HookContext {
  return { cwd: spec.cwd, runDir: spec.runDir, runId: spec.runId, missionId: spec.mission.id, enabled: spec.settings.hooks.enabled, timeoutMs: spec.settings.hooks.timeoutMs, env, warn };
}

async function runLogger(spec: RunSpec, extra?: NodeJS.WritableStream): Promise<{ logger: Logger; close(): void }> {
  mkdirSync(spec.runDir, { recursive: true });
  // Loaded when a run starts, not with the library: commands that only read runs never need it.
  const { default: pino } = await import("pino");
  // Synchronous writes: a run killed mid-step still has every finished step in its log.
  const file = pino.destination({ dest: join(spec.runDir, RUN_FILES.log), sync: true, append: true });
  const streams = extra ? pino.multistream([{ stream: file }, { stream: extra }]) : file;
  return { logger: pino({ base: { runId: spec.runId } }, streams), close: () => file.end() };
}

/** The compile options of a run: its models, tools, budget and approval, from its spec. */
/** What compileMission needs of a run: also what a LangGraph server's mission graph is compiled with (mission-graph.ts). */
export type CompileSpec = Pick<RunSpec, "mission" | "agents" | "settings" | "cwd" | "inputsDir">;

export function compileOptions(spec: CompileSpec, models: RunModels, effects?: StepEffects, mcp?: McpTools): CompileOptions {
  const modelOf = (agent: Agent) => models.byAgent.get(agent.name) ?? models.byAgent.values().next().value!;
  const prices = { ...DEFAULT_PRICES, ...spec.settings.models.prices };
  const readable = [spec.cwd, ...(spec.inputsDir ? [spec.inputsDir] : [])];
  const { budget } = spec.settings;
  return {
    agents: spec.agents,
    judge: { model: models.judge.model, name: models.judge.spec },
    // Runs started before gates existed have no criteria settings: no gates.
    ...(gated(spec) && { gate: { maxRedos: spec.settings.criteria?.maxRedos ?? 1 } }),
    contextTokens: (agent) => spec.settings.models.contextTokens ?? contextWindowOf(modelOf(agent).spec),
    model: (agent) => modelOf(agent).model,
    modelName: (agent) => modelOf(agent).spec,
    toolsFor: (agent) => [...toolsForAgent(agent.tools, readable), ...(mcp?.forAgent(agent) ?? [])],
    budget: {
      ...(budget.maxTokens && { maxTokens: budget.maxTokens }),
      ...(budget.maxCostUsd && { maxCostUsd: budget.maxCostUsd }),
      cost: (model, usage) => costOf(model, usage, prices),
    },
    approve: spec.settings.approve,
    // Runs started before the setting existed have none: they get the default.
    ...(spec.settings.deliverables && { deliverables: spec.settings.deliverables }),
    ...(spec.settings.concurrency && { concurrency: spec.settings.concurrency }),
    ...(effects && { effects }),
  };
}

/** Gates are on by the settings (`--gate`), or by the mission itself: a `**Gate:** on` line in its header. */
function gated(spec: CompileSpec): boolean {
  return !!spec.settings.criteria?.gate || /^(on|yes|true)$/i.test(spec.mission.metadata.extra.gate?.trim() ?? "");
}

/** Steps of a run held under a lease stop before they start once the lease is lost. */
function guardedEffects(effects: StepEffects, guard: RunGuard | undefined): StepEffects {
  if (!guard) return effects;
  return {
    ...effects,
    async beforeStep(step) {
      await guard.check();
      await effects.beforeStep?.(step);
    },
  };
}

/** The run's graph over the store's checkpointer (the store's handle is its caller's to close). */
async function openGraph(spec: RunSpec, models: RunModels, store: RunStore, effects?: StepEffects, mcp?: McpTools, guard?: RunGuard, callbacks?: Callbacks) {
  const options = { ...compileOptions(spec, models, effects, mcp), ...(guard && { guard }), ...(callbacks && { callbacks }) };
  const graph = compileMission(spec.mission, { ...options, checkpointer: await store.checkpointer(guard) });
  const config = { configurable: { thread_id: spec.runId }, recursionLimit: recursionLimitFor(spec.mission), durability: "sync" as const };
  return { graph, config };
}

type OpenGraph = Awaited<ReturnType<typeof openGraph>>;

async function invokeAndRecord(spec: RunSpec, input: unknown, isNew: boolean, { graph, config }: OpenGraph, ctx: { logger: Logger; hooks: HookContext; store: RunStore; guard?: RunGuard }): Promise<RunOutcome> {
  const { logger, hooks, store } = ctx;
  const current = async () => (await graph.getState(config)).values as RunStateValue;
  await writeOutputs(store, spec, isNew ? initialState(spec) : await current(), { status: "running" });
  if (isNew) await runProjectHook(hooks, "pre-mission", buildRecord(spec, initialState(spec), { status: "running" }));
  logger.info({ mission: spec.mission.id, resumed: !isNew }, isNew ? "run started" : "run resumed");
  try {
    await graph.invoke(input as never, config);
  } catch (thrown) {
    const cause = firstCause(thrown);
    // A run taken over by another worker is theirs now: this process writes nothing more.
    if (isCoordError(cause) && cause.code === "LEASE_LOST") throw cause;
    return stopped(store, spec, cause, await current(), logger);
  }
  await ctx.guard?.check();
  const snapshot = await graph.getState(config);
  const waiting = pauseIn(snapshot);
  const state = snapshot.values as RunStateValue;
  if (waiting) {
    logger.info({ phase: waiting.phase, reason: waiting.reason }, waiting.reason === "criteria" ? "paused: criteria still unmet" : "paused for approval");
    return { record: await writeOutputs(store, spec, state, { status: "paused", reason: waiting.reason, pausedPhase: waiting.phase }), exitCode: 3 };
  }
  const record = await writeOutputs(store, spec, state, { status: "completed", finishedAt: new Date().toISOString() });
  logger.info({ usage: record.usage }, "run completed");
  await runProjectHook(hooks, "post-mission", record);
  return { record, exitCode: 0 };
}

/** A run that stopped on an error: paused when it was its budget, failed otherwise. */
async function stopped(store: RunStore, spec: RunSpec, error: unknown, state: RunStateValue, logger: Logger): Promise<RunOutcome> {
  const message = failureLine(spec, error);
  if (isCoordError(error) && error.code === "BUDGET_EXCEEDED") {
    logger.info(error.message);
    return { record: await writeOutputs(store, spec, state, { status: "paused", reason: "budget", error: message }), exitCode: 3, error: message };
  }
  logger.error({ err: error }, "run failed");
  const record = await writeOutputs(store, spec, state, { status: "failed", error: message, finishedAt: new Date().toISOString() });
  return { record, exitCode: isCoordError(error) ? Math.max(1, error.exitCode) : 1, error: message };
}

/** Why a run failed, as the one line run.json keeps: paths relative to the project. */
export function failureLine(spec: RunSpec, error: unknown): string {
  return isCoordError(error) ? formatDiagnostic(error.toDiagnostic(), (f) => relative(spec.cwd, f) || f) : (error as Error).message;
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

function pauseIn(snapshot: { tasks: ReadonlyArray<{ interrupts: ReadonlyArray<{ value?: unknown }> }> }): Pause | null {
  for (const task of snapshot.tasks) {
    const pause = pauseOf(task.interrupts[0]?.value);
    if (pause) return pause;
  }
  return null;
}

/**
 * run.json and report.md, rewritten at every stop so the folder always tells the run's state,
 * and the record kept in the store, where every surface on every machine reads it.
 */
export async function writeOutputs(store: RunStore, spec: RunSpec, state: RunStateValue, status: Parameters<typeof buildRecord>[2]): Promise<RunRecord> {
  const record = writeRunFiles(spec, state, status);
  await store.saveRecord(record);
  return record;
}

/** run.json and report.md in the spec's run folder (an export's folder, say), and nothing else. */
export function writeRunFiles(spec: RunSpec, state: RunStateValue, status: Parameters<typeof buildRecord>[2]): RunRecord {
  const record = buildRecord(spec, state, status);
  writeFileAtomic(join(spec.runDir, RUN_FILES.record), `${JSON.stringify(record, null, 2)}\n`);
  writeFileAtomic(join(spec.runDir, RUN_FILES.report), renderReport(spec, record, state));
  return record;
}
