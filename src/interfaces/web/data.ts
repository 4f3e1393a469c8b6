import { createHash } from "node:crypto";
import { missionToMermaid } from "../../definitions/mermaid.js";
import { buildRecord, type RunRecord } from "../../runtime/record.js";
import { readRecords, readRun } from "../../runtime/run-records.js";
import { readSavedRun } from "../../runtime/saved-run.js";
import type { RunStateValue } from "../../runtime/state.js";
import type { RunSpec } from "../../runtime/store.js";
import type { RunStore } from "../../runtime/store/run-store.js";
import { loadSpec } from "../../runtime/store/specs.js";
import { remoteRecord } from "../surface.js";

/** What a page shows of a run: its record (paths scrubbed), texts and graph, read from the store only. */
export interface RunView {
  record: RunRecord;
  spec: RunSpec;
  state: RunStateValue;
  savedAt: string | null;
  graph: string;
  steps: Step[];
  /** Changes whenever anything on the run's page would: what live updates compare. */
  version: string;
}

/** One agent step on the timeline: when it started and ended (checkpoint times), null end while it runs. */
export interface Step {
  key: string;
  phase: number;
  agent: string;
  role: string;
  tokens: number;
  start: string;
  end: string | null;
}

export function versionOf(record: RunRecord | undefined, savedAt: string | null): string {
  return createHash("sha1")
    .update(JSON.stringify(record ?? null) + (savedAt ?? ""))
    .digest("base64url")
    .slice(0, 16);
}

/** The store's runs, newest first (at most `limit`); runs with no record yet are left out. */
export async function listRecords(store: RunStore, cwd: string, limit = 500): Promise<RunRecord[]> {
  const records = (await readRecords(store)).map((record) => remoteRecord(record, cwd));
  return records.sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.runId.localeCompare(a.runId)).slice(0, limit);
}

/**
 * A cheap fingerprint of one run, for the live updates: its record and last checkpoint time; and
 * whether it is done (completed or failed), from the same read of its record.
 */
export async function runVersion(store: RunStore, spec: RunSpec): Promise<{ version: string; done: boolean }> {
  const [record, tuple] = await Promise.all([store.readRecord(spec), (await store.checkpointer()).getTuple({ configurable: { thread_id: spec.runId } })]);
  return { version: versionOf(record, tuple?.checkpoint.ts ?? null), done: record?.status === "completed" || record?.status === "failed" };
}

export async function readRunView(store: RunStore, runId: string, cwd: string): Promise<RunView> {
  const spec = await loadSpec(store, runId);
  const [record, saved] = await Promise.all([store.readRecord(spec), readSavedRun(store, spec)]);
  const stored = record ?? (await readRun(store, runId));
  // While a run goes, its record is written at its stops only: its checkpoints are fresher.
  const live = (stored.status === "running" || stored.status === "queued") && saved.stop.status === "running";
  const full = live ? { ...buildRecord(spec, saved.state, { status: "running" }), ...(stored.startedBy && { startedBy: stored.startedBy }) } : stored;
  return {
    record: remoteRecord(full, cwd),
    spec,
    state: saved.state,
    savedAt: saved.savedAt,
    graph: missionToMermaid(spec.mission, { approve: spec.settings.approve }),
    steps: await stepsOf(store, spec, full),
    version: versionOf(record, saved.savedAt),
  };
}

/**
 * The timeline: each step from its own start and end times (runs from before coord kept them:
 * it ends at the first checkpoint that holds its call and starts at the one before). Phases the
 * record says are running but with no call yet get an open bar from the last checkpoint on.
 */
async function stepsOf(store: RunStore, spec: RunSpec, record: RunRecord): Promise<Step[]> {
  const tuples: Array<{ ts: string; calls: Record<string, { phase: number; agent: string; role: string; usage: { totalTokens: number }; startedAt?: string; finishedAt?: string }> }> = [];
  try {
    for await (const tuple of (await store.checkpointer()).list({ configurable: { thread_id: spec.runId } }, { limit: 500 })) {
      const calls = (tuple.checkpoint.channel_values.calls ?? {}) as (typeof tuples)[number]["calls"];
      tuples.push({ ts: tuple.checkpoint.ts, calls });
    }
  } catch {
    return [];
  }
  tuples.sort((a, b) => a.ts.localeCompare(b.ts));
  const steps = new Map<string, Step>();
  let previous = spec.startedAt;
  for (const { ts, calls } of tuples) {
    for (const [key, call] of Object.entries(calls)) {
      // A call's own times when it has them; else the super-step it was saved in.
      if (!steps.has(key)) steps.set(key, { key, phase: call.phase, agent: call.agent, role: call.role, tokens: call.usage?.totalTokens ?? 0, start: call.startedAt ?? previous, end: call.finishedAt ?? ts });
      else steps.get(key)!.tokens = call.usage?.totalTokens ?? 0;
    }
    previous = ts;
  }
  if (record.status === "running") {
    for (const phase of record.phases.filter((p) => p.status === "running")) {
      const done = new Set(phase.calls.map((c) => `${c.role}/${c.agent}`));
      const waiting = [...phase.support.map((a) => ({ agent: a, role: "support" })), ...(phase.lead ? [{ agent: phase.lead, role: "lead" }] : [])].filter((s) => !done.has(`${s.role}/${s.agent}`));
      // Supports run before the lead: only the first of what is left is at work.
      const atWork = waiting.filter((s) => s.role === waiting[0]!.role);
      for (const s of atWork) steps.set(`live/${phase.index}/${s.role}/${s.agent}`, { key: `live/${phase.index}/${s.role}/${s.agent}`, phase: phase.index, agent: s.agent, role: s.role, tokens: 0, start: previous, end: null });
    }
  }
  return [...steps.values()].sort((a, b) => a.start.localeCompare(b.start) || a.phase - b.phase || a.role.localeCompare(b.role) || a.agent.localeCompare(b.agent));
}
