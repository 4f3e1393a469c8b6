import { mkdirSync } from "node:fs";
import { Command } from "@langchain/langgraph";
import { CoordError } from "../errors.js";
import { removeInterruptedWrites } from "../files.js";
import { parseAgent } from "../definitions/agent.js";
import { readText } from "../definitions/discover.js";
import type { Agent } from "../definitions/schemas/agent.js";
import { SettingsSchema, type Settings, type SettingsInput } from "../definitions/schemas/settings.js";
import type { Env, RunEvent } from "./events.js";
import type { RunGuard } from "./events.js";
import { executeRun, failureLine, readRunState, writeOutputs, type ExecuteContext, type RunOutcome } from "./execute.js";
import { lockRun } from "./lock.js";
import { prepareRun, resolveRunModels, type RunOptions } from "./prepare.js";
import { initialState, readRecord, type RunRecord } from "./record.js";
import { readSavedRun } from "./saved-run.js";
import { stampDecision, type ReviewDecision, type RunStateValue } from "./state.js";
import { homeDir, loadSpec, runIds, saveSpec, type RunSpec } from "./store.js";

export type { RunEvent, RunGuard, RunOptions, RunOutcome };

/**
 * Starts a mission run: prepares everything (so a mistake costs no agent step), saves the run's
 * spec, then executes the graph to its first stop.
 */
export async function runMission(options: RunOptions): Promise<RunOutcome> {
  const { spec, models, home } = await prepareRun(options);
  const unlock = lockRun(home, spec.runId);
  try {
    mkdirSync(spec.runDir, { recursive: true });
    saveSpec(home, spec);
    options.onEvent?.({ type: "start", runId: spec.runId, runDir: spec.runDir });
    return await executeRun(spec, models, initialState(spec), true, executeContext(spec, home, options));
  } finally {
    unlock();
  }
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
  const prepared = [];
  for (const one of options) prepared.push(await prepareRun(one));
  for (const { spec, home } of prepared) {
    saveSpec(home, spec);
    await writeOutputs(spec, initialState(spec), { status: "queued" });
  }
  return prepared.map((p) => p.spec);
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
  const home = homeDir(cwd, current);
  const saved = loadSpec(home, runId);
  // A worker's lease is the run's lock across machines; the lock file serves one machine.
  const unlock = options.guard ? () => {} : lockRun(home, runId);
  try {
    return await resumeLocked(withHooksAllowed(withBudget(saved, options.budget, home), options.allowHooks), home, { ...options, settings: current, ...(decision && { decision }) });
  } finally {
    unlock();
  }
}

function withHooksAllowed(spec: RunSpec, allowed: boolean | undefined): RunSpec {
  if (allowed !== false || !spec.settings.hooks.enabled) return spec;
  return { ...spec, settings: { ...spec.settings, hooks: { ...spec.settings.hooks, enabled: false } } };
}

function withBudget(saved: RunSpec, budget: ResumeOptions["budget"], home: string): RunSpec {
  const changes = Object.fromEntries(Object.entries(budget ?? {}).filter(([, v]) => v !== undefined));
  if (Object.keys(changes).length === 0) return saved;
  const spec = { ...saved, settings: { ...saved.settings, budget: { ...saved.settings.budget, ...changes } } };
  saveSpec(home, spec);
  return spec;
}

async function resumeLocked(saved: RunSpec, home: string, options: ResumeOptions & { settings: Settings }): Promise<RunOutcome> {
  // Agent files are read again, so a fixed hook is picked up; the models are resolved once.
  const spec: RunSpec = { ...saved, agents: saved.agents.map(freshAgent) };
  removeInterruptedWrites(spec.runDir);
  const env = options.env ?? {};
  const models = await resolveRunModels(spec.mission, spec.agents, spec.settings, env, options.onEvent);
  const ctx = executeContext(spec, home, { ...options, settings: { mcpServers: options.settings.mcpServers } });
  const state = await readRunState(spec, models, home);
  // Stopped before its first checkpoint (killed in a pre-mission hook, an MCP server that would
  // not start): nothing ran yet, so it starts from its saved inputs.
  if (!state.values.inputs) return executeRun(spec, models, initialState(spec), true, ctx);
  if (options.decision && state.pausedPhase === null) {
    throw new CoordError("RUN_NOT_PAUSED", `run "${spec.runId}" is not waiting for approval`, {
      hint: `see its state with \`coord runs show ${spec.runId}\``,
      hints: { chat: `see its state with \`/coord status ${spec.runId}\``, remote: "ask for the run's status to see what it is doing" },
    });
  }
  if (!options.decision && state.pausedPhase !== null) {
    const record = await writeOutputs(spec, state.values as RunStateValue, { status: "paused", reason: "approval", pausedPhase: state.pausedPhase });
    return { record, exitCode: 3 };
  }
  const input = options.decision ? new Command({ resume: options.decision }) : null;
  return executeRun(spec, models, input, false, ctx);
}

function executeContext(spec: RunSpec, home: string, options: { env?: Env; onEvent?: (e: RunEvent) => void; logStream?: NodeJS.WritableStream; settings?: SettingsInput; guard?: RunGuard }): ExecuteContext {
  return {
    home,
    ...(options.guard && { guard: options.guard }),
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
  const home = runsHome(options);
  const spec = loadSpec(home, runId);
  const { state } = await readSavedRun(home, spec);
  return writeOutputs(spec, state, { status: "failed", error: failureLine(spec, error), finishedAt: new Date().toISOString() });
}

/** Where runs are listed from: the project folder and its settings' `home`. */
export interface RunsOptions {
  cwd?: string;
  settings?: SettingsInput;
}

function runsHome(options: RunsOptions): string {
  return homeDir(options.cwd ?? process.cwd(), SettingsSchema.parse(options.settings ?? {}));
}

export function listRuns(options: RunsOptions = {}): RunRecord[] {
  const home = runsHome(options);
  return runIds(home)
    .map((id) => {
      try {
        return readRecord(loadSpec(home, id).runDir);
      } catch {
        return undefined;
      }
    })
    .filter((r): r is RunRecord => !!r);
}

export function getRun(runId: string, options: RunsOptions = {}): RunRecord {
  const spec = loadSpec(runsHome(options), runId);
  const record = readRecord(spec.runDir);
  if (!record) {
    throw new CoordError("RUN_NOT_FOUND", `run "${runId}" has no run.json in ${spec.runDir}`, {
      hint: `continue it with \`coord resume ${runId}\``,
      hints: { remote: "the run was stopped before its first step; it can be resumed from the CLI" },
    });
  }
  return record;
}
