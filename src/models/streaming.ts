import type { AIMessageChunk } from "@langchain/core/messages";
import { AsyncLocalStorageProviderSingleton } from "@langchain/core/singletons";
import { planMission } from "../definitions/plan.js";
import type { Mission } from "../definitions/schemas/mission.js";

/** The step of a run a model call belongs to. */
export interface StepRef {
  phase: number;
  role: "lead" | "support";
  agent: string;
}

/**
 * Text a model call has streamed since the last of these, for one step. `call` numbers the
 * run's model calls (a step may make several, some at once); `attempt` counts from 1, and a
 * higher one for the same call means the earlier attempt failed and its text is void. For tool
 * call arguments (a lead's deliverables are written as one), `tool` names the tool.
 */
export interface StepToken extends StepRef {
  text: string;
  call: number;
  attempt: number;
  tool?: string;
}

/** Coalesced: at most one token event per call this often (and one at its end). */
export const TOKEN_FLUSH_MS = 150;

/** The graph node a model call runs in, by the node ids planMission gives, to the step it is. */
export function stepsOfMission(mission: Mission): Map<string, StepRef> {
  const steps = new Map<string, StepRef>();
  for (const plan of planMission(mission)) {
    for (const s of plan.supports) if (s.agent) steps.set(s.id, { phase: s.phase, role: "support", agent: s.agent });
    if (plan.lead.agent) steps.set(plan.lead.id, { phase: plan.lead.phase, role: "lead", agent: plan.lead.agent });
    if (plan.planner?.agent) steps.set(plan.planner.id, { phase: plan.planner.phase, role: "lead", agent: plan.planner.agent });
  }
  return steps;
}

/**
 * The step the current model call is made for. LangGraph runs each node (and each task a node
 * starts) with its config in async context; its checkpoint namespace (`node:id|task:id`) names
 * the node, the innermost one that is a step of the mission.
 */
export function currentStep(steps: ReadonlyMap<string, StepRef>): StepRef | undefined {
  const config = AsyncLocalStorageProviderSingleton.getRunnableConfig() as { metadata?: Record<string, unknown>; configurable?: Record<string, unknown> } | undefined;
  const ns = config?.configurable?.checkpoint_ns ?? config?.metadata?.langgraph_checkpoint_ns;
  const names = typeof ns === "string" ? ns.split("|").map((part) => part.split(":")[0]!) : [];
  const node = config?.metadata?.langgraph_node;
  if (typeof node === "string") names.push(node);
  for (const name of names.reverse()) {
    const step = steps.get(name);
    if (step) return step;
  }
  return undefined;
}

/** Collects one attempt's streamed text and hands it on in coalesced pieces, in order. */
export class TokenBuffer {
  private text = "";
  private tool: string | undefined;
  private last = 0;
  /** Tool call names by their index in the stream (only the first chunk of a call names it). */
  private readonly toolNames = new Map<number, string>();

  constructor(
    private readonly emit: (token: StepToken) => void,
    private readonly step: StepRef,
    private readonly call: number,
    private readonly attempt: number,
    private readonly intervalMs = TOKEN_FLUSH_MS,
  ) {}

  push(chunk: AIMessageChunk): void {
    // Text comes as a string (OpenAI) or as text blocks (Anthropic); thinking is not shown.
    if (typeof chunk.content === "string") {
      if (chunk.content) this.add(chunk.content, undefined);
    } else {
      for (const block of chunk.content) if (block.type === "text" && typeof block.text === "string" && block.text) this.add(block.text, undefined);
    }
    for (const part of chunk.tool_call_chunks ?? []) {
      const index = part.index ?? 0;
      if (part.name) this.toolNames.set(index, part.name);
      if (part.args) this.add(part.args, this.toolNames.get(index) ?? part.name ?? "tool");
    }
    if (Date.now() - this.last >= this.intervalMs) this.flush();
  }

  flush(): void {
    if (!this.text) return;
    this.emit({ ...this.step, text: this.text, call: this.call, attempt: this.attempt, ...(this.tool && { tool: this.tool }) });
    this.text = "";
    this.last = Date.now();
  }

  private add(text: string, tool: string | undefined): void {
    if (this.text && tool !== this.tool) this.flush();
    this.tool = tool;
    this.text += text;
  }
}
