import type { Logger } from "pino";
import type { StepEffects, StepInfo } from "./compile.js";
import type { Emit } from "./events.js";
import { runAgentHook, runProjectHook, type HookContext } from "./hooks.js";
import { deliverableFile, writeDeliverableFile, writeNotesFile } from "./paths.js";
import { buildRecord, initialState } from "./record.js";
import type { RunSpec } from "./store.js";

/**
 * What happens around each step of a run, outside the graph: agent hooks, the step's files in
 * the run folder, log lines, progress events, and the post-phase project hook.
 */
export function stepEffects(spec: RunSpec, logger: Logger, emit: Emit, hooks: HookContext): StepEffects {
  const started = new Map<string, number>();
  const key = (s: StepInfo) => `${s.phase}/${s.role}/${s.agent.name}`;
  const where = (s: StepInfo) => ({ phase: s.phase, role: s.role, agent: s.agent.name });
  return {
    async beforeStep(step) {
      started.set(key(step), Date.now());
      logger.info(where(step), "step started");
      emit({ type: "step", state: "start", ...where(step) });
      await runAgentHook(hooks, step, "pre");
    },
    async afterStep(step, output) {
      if (output.notes !== undefined) writeNotesFile(spec.runDir, step.phase, step.agent.name, output.notes);
      const phase = spec.mission.phases.find((p) => p.index === step.phase);
      const deliverables = phase ? output.deliverables : undefined;
      Object.entries(deliverables ?? {}).forEach(([title, text], i) => writeDeliverableFile(spec.runDir, deliverableFile(step.phase, i, title), text));
      await runAgentHook(hooks, step, "post");
      const ms = Date.now() - (started.get(key(step)) ?? Date.now());
      logger.info({ ...where(step), ms }, "step finished");
      emit({ type: "step", state: "end", ...where(step), ms });
      if (!deliverables || !phase) return;
      emit({ type: "phase", phase: step.phase, title: phase.title, deliverables: Object.keys(deliverables).length });
      // The hook sees the whole run so far, as run.json will say once this step is saved.
      const state = output.state ?? { ...initialState(spec), deliverables: { [step.phase]: deliverables } };
      await runProjectHook(hooks, "post-phase", buildRecord(spec, state, { status: "running" }));
    },
  };
}
