import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Callbacks } from "@langchain/core/callbacks/manager";
import { Command } from "@langchain/langgraph";
import { CoordError } from "../errors.js";
import { removeInterruptedWrites } from "../files.js";
import { parseAgent } from "../definitions/agent.js";
import { readText } from "../definitions/discover.js";
import type { Agent } from "../definitions/schemas/agent.js";
import { SettingsSchema, type Settings, type SettingsInput } from "../definitions/schemas/settings.js";
import type { Env, RunEvent } from "./events.js";
import type { RunGuard } from "./events.js";
import { executeRun, failureLine, readRunState, recheckCriteria, writeOutputs, type ExecuteContext, type RunOutcome } from "./execute.js";
import { prepareRun, resolveRunModels, type RunOptions } from "./prepare.js";
import { initialState, type RunRecord } from "./record.js";
import { readSavedRun } from "./saved-run.js";
import { stampDecision, type ReviewDecision, type RunStateValue } from "./state.js";
import type { RunSpec } from "./store.js";
import { loadSpec, saveSpec } from "./store/specs.js";
import { openStore, withStore } from "./store/open-store.js";
import type { RunStore } from "./store/run-store.js";
import { withRunsStore, type RunsOptions } from "./run-records.js";

export { getRun, listRuns, readRun, readRecords, withRunsStore, type RunsOptions } from "./run-records.js";

export type { RunEvent, RunGuard, RunOptions, RunOutcome };

/**
 * Starts a mission run: prepares everything (so a mistake costs no agent step), saves the run's
 * spec, then executes the graph to its first stop.
 */
export async function runMission(options: RunOptions): Promise<RunOutcome> {
  return withStore(options.cwd ?? process.cwd(), SettingsSchema.parse(options.settings ?? {}), async (store) => {
    const { spec, models } = await prepareRun(options, store);
    const unlock = await store.lockRun(spec.runId);
    try {
      mkdirSync(spec.runDir, { recursive: true });
      await saveSpec(store, spec);
      // A run has a record from the moment its id is given out: a caller that asks at once finds it.
      await writeOutputs(store, spec, initialState(spec), { status: "running" });
      options.onEvent?.({ type: "start", runId: spec.runId, runDir: spec.runDir });
      return await executeRun(spec, models, initialState(spec), true, executeContext(spec, store, options));
    } finally {
      await unlock();
    }
  });
}

/**
 * Prepares a run and saves it without running it: for a worker to take from the queue. Every
 * check a run makes before its first step is made here, so a mistake is the caller's at once.
 */
export async function createRun(options: RunOptions): Promise<RunSpec> {
  const [spec] = await createRuns([options]);
  return spec!;
}

/** Several runs at once (a batch): every one is checked before any is saved, so none or all are created. */
export async function createRuns(options: RunOptions[]): Promise<RunSpec[]> {
  const prepared: Array<{ spec: RunSpec; store: RunStore }> = [];
  try {
    for (const one of options) {
      const store = await openStore(one.cwd ?? process.cwd(), SettingsSchema.parse(one.settings ?? {}));
      prepared.push({ spec: (await prepareRun(one, store).catch(async (error: unknown) => Promise.reject(await store.close().then(() => error)))).spec, store });
    }
    for (const { spec, store } of prepared) {
      await saveSpec(store, spec);
      await writeOutputs(store, spec, initialState(spec), { status: "queued" });
    }
    return prepared.map((p) => p.spec);
  } finally {
    await Promise.all(prepared.map(({ store }) => store.close()));
  }
}

export interface ResumeOptions {
  cwd?: string;
  /**
   * The project's settings now: where runs are kept (`home`) and its MCP servers come from here.
   * Everything else is the run's own, as it started.
   */
  settings?: SettingsInput;
  /** A higher budget for a run paused on its budget: the one setting a resume may change. */
  budget?: Partial<Settings["budget"]>;
  /**
   * The decision on a run paused for approval. `by` says who took it (default the library) and
   * `at` when (default now, as it reaches here); both go into run.json's `approvals`.
   */
  decision?: ReviewDecision;
  env?: Env;
  onEvent?: (event: RunEvent) => void;
  logStream?: NodeJS.WritableStream;
  /**
   * A worker's lease instead of the run's lock file: checked before every step and checkpoint
   * write, so a worker that lost the run to another stops and writes nothing more.
   */
  guard?: RunGuard;
  /** Whether this process may run the run's hooks at all (a worker started without --allow-hooks may not). */
  allowHooks?: boolean;
  /** LangChain callbacks for every model and tool call this resume makes (as RunOptions.callbacks). */
  callbacks?: Callbacks;
}

/**
 * Continues a run from its last checkpoint: after a crash, a failure, or with a decision for a
 * run paused for approval. Finished steps are not run again.
 */
export async function resumeRun(runId: string, options: ResumeOptions = {}): Promise<RunOutcome> {
  const cwd = options.cwd ?? process.cwd();
  // Stamped before waiting on anything: the time is the decision's, not the graph's.
  const decision = options.decision && stampDecision(options.decision);
  const current = SettingsSchema.parse(options.settings ?? {});
  return withStore(cwd, current, async (store) => {
    const saved = onThisMachine(await loadSpec(store, runId), cwd);
    // A worker's lease is the run's lock across machines; the lock file serves one machine.
    const unlock = options.guard ? async () => {} : await store.lockRun(runId);
    try {
      const spec = withHooksAllowed(await withBudget(saved, options.budget, store), options.allowHooks);
      return await resumeLocked(spec, store, { ...options, settings: current, ...(decision && { decision }) });
    } finally {
      await unlock();
    }
  });
}

/**
 * A run started on another machine (a worker on a shared database) is carried on in this
 * process's project folder: its run folder, hooks and file tools live here, not at paths of
 * the machine that started it.
 */
function onThisMachine(spec: RunSpec, cwd: string): RunSpec {
  if (existsSync(spec.cwd)) return spec;
  return { ...spec, cwd, runDir: join(cwd, "runs", spec.runId), inputsDir: spec.inputsDir && existsSync(spec.inputsDir) ? spec.inputsDir : null };
}

function withHooksAllowed(spec: RunSpec, allowed: boolean | undefined): RunSpec {
  if (allowed !== false || !spec.settings.hooks.enabled) return spec;
  return { ...spec, settings: { ...spec.settings, hooks: { ...spec.settings.hooks, enabled: false } } };
}

async function withBudget(saved: RunSpec, budget: ResumeOptions["budget"], store: RunStore): Promise<RunSpec> {
  const changes = Object.fromEntries(Object.entries(budget ?? {}).filter(([, v]) => v !== undefined));
  if (Object.keys(changes).length === 0) return saved;
  const spec = { ...saved, settings: { ...saved.settings, budget: { ...saved.settings.budget, ...changes } } };
  await saveSpec(store, spec);
  return spec;
}

async function resumeLocked(saved: RunSpec, store: RunStore, options: ResumeOptions & { settings: Settings }): Promise<RunOutcome> {
  // Agent files are read again, so a fixed hook is picked up; the models are resolved once.
  const spec: RunSpec = { ...saved, agents: saved.agents.map(freshAgent) };
  removeInterruptedWrites(spec.runDir);
  const env = options.env ?? {};
  const models = await resolveRunModels(spec.mission, spec.agents, spec.settings, env, options.onEvent);
  const ctx = executeContext(spec, store, { ...options, settings: { mcpServers: options.settings.mcpServers } });
  const state = await readRunState(spec, models, store);
  // Stopped before its first checkpoint (killed in a pre-mission hook, an MCP server that would
  // not start): nothing ran yet, so it starts from its saved inputs.
  if (!state.values.inputs) return executeRun(spec, models, initialState(spec), true, ctx);
  if (options.decision && !state.pause) {
    throw new CoordError("RUN_NOT_PAUSED", `run "${spec.runId}" is not waiting for approval`, {
      hint: `see its state with \`coord runs show ${spec.runId}\``,
      hints: { chat: `see its state with \`/coord status ${spec.runId}\``, remote: "ask for the run's status to see what it is doing" },
    });
  }
  if (!options.decision && state.pause) {
    const record = await writeOutputs(store, spec, state.values as RunStateValue, { status: "paused", reason: state.pause.reason, pausedPhase: state.pause.phase });
    return { record, exitCode: 3 };
  }
  const input = options.decision ? new Command({ resume: options.decision }) : null;
  return executeRun(spec, models, input, false, ctx);
}

function executeContext(spec: RunSpec, store: RunStore, options: { env?: Env; onEvent?: (e: RunEvent) => void; logStream?: NodeJS.WritableStream; settings?: SettingsInput; guard?: RunGuard; callbacks?: Callbacks }): ExecuteContext {
  return {
    store,
    ...(options.guard && { guard: options.guard }),
    ...(options.callbacks && { callbacks: options.callbacks }),
    env: options.env ?? {},
    mcpServers: SettingsSchema.shape.mcpServers.parse(options.settings?.mcpServers ?? spec.settings.mcpServers),
    emit: (event) => options.onEvent?.(event),
    ...(options.logStream && { logStream: options.logStream }),
  };
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

/**
 * Records that a run could not be worked on at all (a worker without the model's key, a spec it
 * cannot use): failed, with the reason in run.json, instead of staying "queued" or "running"
 * with nobody on it. Resumable once the cause is fixed.
 */
export async function recordRunFailure(runId: string, options: RunsOptions, error: unknown): Promise<RunRecord> {
  return withRunsStore(options, async (store) => {
    const spec = onThisMachine(await loadSpec(store, runId), options.cwd ?? process.cwd());
    const { state } = await readSavedRun(store, spec);
    return writeOutputs(store, spec, state, { status: "failed", error: failureLine(spec, error), finishedAt: new Date().toISOString() });
  });
}

export interface CheckOptions extends RunsOptions {
  /** The model that judges (default: the judge the run was started with, else its model). */
  judgeModel?: string;
  env?: Env;
}

/**
 * `coord check`: judges a finished run's success criteria again (with a stronger model, say)
 * without running any agent, and rewrites its record and report.
 */
export async function checkRun(runId: string, options: CheckOptions = {}): Promise<RunRecord> {
  return withRunsStore(options, async (store) => {
    const spec = onThisMachine(await loadSpec(store, runId), options.cwd ?? process.cwd());
    const unlock = await store.lockRun(runId);
    try {
      const { stop } = await readSavedRun(store, spec);
      if (stop.status !== "completed") {
        throw new CoordError("USAGE", `run "${runId}" is ${stop.status}: coord check judges runs that completed`, { hint: `see it with \`coord runs show ${runId}\`` });
      }
      const settings = options.judgeModel ? { ...spec.settings, models: { ...spec.settings.models, judge: options.judgeModel } } : spec.settings;
      const models = await resolveRunModels(spec.mission, [], settings, options.env ?? {});
      const state = await recheckCriteria({ ...spec, settings }, models, store);
      return writeOutputs(store, spec, state, stop);
    } finally {
      await unlock();
    }
  });
}
