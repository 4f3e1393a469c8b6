import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../files.js";
import { CoordError } from "../errors.js";
import type { Agent } from "../definitions/schemas/agent.js";
import type { Mission } from "../definitions/schemas/mission.js";
import { closestNames } from "../definitions/suggest.js";
import type { Price } from "../models/prices.js";

/** How a run reaches models: kept in the run's spec, so resume uses the same. */
export interface RunModelOptions {
  /** `--model` */
  model?: string;
  /** `--base-url` */
  baseUrl?: string;
  timeoutMs?: number;
  maxTokens?: number;
  maxCostUsd?: number;
  /** `--record FILE` */
  record?: string;
  /** `--replay FILE` */
  replay?: string;
  /** Price overrides (USD per million tokens) by model spec. */
  prices?: Record<string, Price>;
  /** The environment (process.env plus .env); defaults to process.env. */
  env?: Record<string, string | undefined>;
}

/** Everything needed to continue a run from its id alone, written when the run starts. */
export interface RunSpec {
  runId: string;
  /** The mission as parsed when the run started: later edits to the file don't change a running run. */
  mission: Mission;
  /** The agents the mission uses, as they were when the run started. */
  agents: Agent[];
  inputs: Record<string, string>;
  inputSources: Record<string, string>;
  extra: Array<{ name: string; text: string }>;
  notProvided: string[];
  runDir: string;
  /** The inputs folder, if one was given: agents' file tools may read it and the project. */
  inputsDir: string | null;
  cwd: string;
  /** The run's model (agents may name their own). */
  model: string;
  /** Model settings: --model, --base-url, budget, recording, prices. Never keys. */
  models: RunModelOptions;
  options: { approve: boolean; hooks: boolean; concurrency: number | null; hookTimeoutMs: number };
  startedAt: string;
}

/** Where coord keeps checkpoints and run specs: `.coord/` of the project, or COORD_HOME. */
export function coordHome(cwd: string): string {
  return process.env.COORD_HOME ? resolve(cwd, process.env.COORD_HOME) : join(cwd, ".coord");
}

export function checkpointFile(cwd: string): string {
  return join(coordHome(cwd), "checkpoints.sqlite");
}

function specFile(cwd: string, runId: string): string {
  return join(coordHome(cwd), "runs", `${runId}.json`);
}

export function saveSpec(spec: RunSpec): void {
  writeFileAtomic(specFile(spec.cwd, spec.runId), `${JSON.stringify(spec, null, 2)}\n`);
}

export function runIds(cwd: string): string[] {
  const dir = join(coordHome(cwd), "runs");
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5)).sort() : [];
}

const RUN_ID = /^[A-Za-z0-9][\w.-]{0,127}$/;

/** Run ids become file names: plain ones only, so no id can point outside `.coord/runs`. */
export function checkRunId(runId: string): void {
  if (!RUN_ID.test(runId) || runId.includes("..")) {
    throw new CoordError("RUN_ID_INVALID", `"${runId.slice(0, 80)}" is not a valid run id`, { hint: "use letters, digits, '.', '_' and '-' only" });
  }
}

export function loadSpec(cwd: string, runId: string): RunSpec {
  checkRunId(runId);
  const file = specFile(cwd, runId);
  if (!existsSync(file)) {
    const close = closestNames(runId, runIds(cwd));
    throw new CoordError("RUN_NOT_FOUND", `no run "${runId}" in ${coordHome(cwd)}`, {
      hint: close.length ? `did you mean ${close.join(", ")}?` : "run `coord runs list` from the folder the run was started in (or set COORD_HOME)",
    });
  }
  return JSON.parse(readFileSync(file, "utf8")) as RunSpec;
}

/** A sortable, readable id: the mission and the start time, plus a little randomness. */
export function newRunId(missionId: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\..*$/, "").replace("T", "-");
  // Mission ids may hold spaces or other scripts; run ids become file names, so they are plain.
  const base = missionId.replace(/[^A-Za-z0-9_.-]+/g, "-").replace(/\.{2,}/g, ".").replace(/^[^A-Za-z0-9]+/, "").slice(0, 40).replace(/[-.]+$/, "") || "run";
  return `${base}-${stamp}-${Math.random().toString(36).slice(2, 6)}`;
}
