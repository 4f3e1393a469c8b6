import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { HumanMessage, SystemMessage, ToolMessage, type AIMessage, type BaseMessage } from "@langchain/core/messages";
import type { StructuredToolInterface } from "@langchain/core/tools";
import { END, START, StateGraph, interrupt, task, type BaseCheckpointSaver } from "@langchain/langgraph";
import { z } from "zod";
import { CoordError } from "../errors.js";
import { INPUTS_NODE, planMission, type PhasePlan, type PlanStep } from "../definitions/plan.js";
import type { Agent } from "../definitions/schemas/agent.js";
import type { Mission } from "../definitions/schemas/mission.js";
import { limiter } from "./limit.js";
import { budgetTracker, type Budget } from "./budget.js";
import { leadPrompt, supportPrompt, systemPrompt, type StepContext } from "./prompts.js";
import { RunState, nextApprovalKey, stampDecision, type ApprovalRecord, type CallRecord, type ReviewDecision, type RunStateUpdate, type RunStateValue, type Usage } from "./state.js";
import { DELIVERABLES_TOOL } from "../models/tool-binding.js";
import { toolResultText } from "../models/mcp.js";
import { messageText } from "../models/message-text.js";
import { SECTIONS, section } from "../models/prompt-format.js";
import { addUsage, fromUsageMetadata, zeroUsage } from "../models/usage.js";

/** What a step is about to do or has done: handed to effects (hooks, files, progress). */
export interface StepInfo {
  mission: Mission;
  phase: number;
  role: "lead" | "support";
  agent: Agent;
  /** The task text given to the agent (its human message). */
  task: string;
}

/** Side effects around steps, supplied by the caller so the graph itself stays free of I/O. */
export interface StepEffects {
  /** Runs before the model call; throwing fails the step (a failing pre hook). */
  beforeStep?(step: StepInfo): Promise<void>;
  /** Runs after the step's output is known. */
  afterStep?(step: StepInfo, output: { notes?: string; deliverables?: Record<string, string>; state?: RunStateValue }): Promise<void>;
}

export interface CompileOptions {
  /** Finds an agent by the name a mission uses: a registry (loadAgents) or a plain list. */
  agents: { get(name: string): Agent | undefined } | Agent[];
  /** The chat model for an agent (a single model serves every agent when given directly). */
  model: BaseChatModel | ((agent: Agent) => BaseChatModel);
  /** The name of an agent's model, for run.json and prices (default: the model's type). */
  modelName?: (agent: Agent) => string;
  /** Pause (throw BudgetExceededError) before a step once the run has spent this much. */
  budget?: Budget;
  /** Tools an agent may call (from its `tools:`); agents with none get a single model call. */
  toolsFor?: (agent: Agent) => StructuredToolInterface[];
  /** Most model turns of one step's tool loop. */
  maxToolTurns?: number;
  checkpointer?: BaseCheckpointSaver;
  /** Pause for approval after every phase. */
  approve?: boolean;
  /** At most this many agent steps at once (default: no limit). */
  concurrency?: number;
  effects?: StepEffects;
  /**
   * Checked right before a step's model calls: a worker that lost its lease while a step was
   * starting (a pre hook, a stall) must not pay for a call another worker will make.
   */
  guard?: { check(): Promise<void> };
}

function usageOf(message: AIMessage | undefined): Usage {
  return fromUsageMetadata(message?.usage_metadata);
}

/** The structured-output schema of a lead: one string per deliverable, described by its title. */
function deliverableSchema(titles: string[], guidance: Record<string, string>) {
  return z.object(
    Object.fromEntries(
      titles.map((title, i) => {
        const g = guidance[title];
        return [`deliverable_${i + 1}`, z.string().describe(g ? `${title}\n${g}` : title)];
      }),
    ),
  );
}

interface LeadAnswer {
  values: Record<string, string>;
  usage: Usage;
}

/** Asks the lead for the given deliverables through structured output; keeps what came back. */
async function askDeliverables(model: BaseChatModel, agent: Agent, task: string, titles: string[], guidance: Record<string, string>): Promise<LeadAnswer> {
  const schema = deliverableSchema(titles, guidance);
  const structured = model.withStructuredOutput(schema, { name: DELIVERABLES_TOOL, includeRaw: true });
  const { raw, parsed } = (await structured.invoke([new SystemMessage(systemPrompt(agent)), new HumanMessage(task)])) as {
    raw: AIMessage;
    parsed: Record<string, unknown> | null;
  };
  // A reply that misses a field fails the schema; what it did return is still worth keeping.
  const args = parsed ?? (raw.tool_calls?.[0]?.args as Record<string, unknown> | undefined) ?? {};
  const values: Record<string, string> = {};
  titles.forEach((title, i) => {
    const value = args[`deliverable_${i + 1}`];
    if (typeof value === "string" && value.trim()) values[title] = value.trim();
  });
  return { values, usage: usageOf(raw) };
}

/**
 * The tool-calling loop of an agent with tools: the model calls tools, reads their results and
 * goes on until it answers in text or runs out of turns.
 */
async function toolLoop(model: BaseChatModel, messages: BaseMessage[], tools: StructuredToolInterface[], maxTurns: number): Promise<{ reply: AIMessage; usage: Usage }> {
  const bound = model.bindTools!(tools);
  const byName = new Map(tools.map((t) => [t.name, t]));
  let usage = zeroUsage();
  const history = [...messages];
  for (let turn = 1; ; turn++) {
    const reply = (await bound.invoke(history)) as AIMessage;
    usage = addUsage(usage, usageOf(reply));
    if (!reply.tool_calls?.length || turn >= maxTurns) return { reply, usage };
    history.push(reply);
    for (const call of reply.tool_calls) {
      const target = byName.get(call.name);
      const content = target ? await invokeTool(target, call.args) : `Error: no tool named ${call.name}; available: ${[...byName.keys()].join(", ")}`;
      history.push(new ToolMessage({ content, tool_call_id: call.id ?? call.name, name: call.name }));
    }
  }
}

/** A tool's answer as text; a tool that throws tells the model why instead of failing the step. */
async function invokeTool(target: StructuredToolInterface, args: unknown): Promise<string> {
  try {
    return toolResultText(await target.invoke(args as never));
  } catch (error) {
    return `Error: ${(error as Error).message}`;
  }
}

export class DeliverableMissingError extends CoordError {
  constructor(agent: Agent, phase: number, missing: string[]) {
    super(
      "RUN_DELIVERABLE_MISSING",
      `lead ${agent.name} of phase ${phase} returned no text for ${missing.map((m) => `"${m}"`).join(", ")}, twice`,
      { file: agent.file, hint: "check the model configured for this agent, then `coord resume RUN_ID`", exitCode: 1 },
    );
  }
}

/** A mission invoked as a graph (a subgraph, a tool) must still be given its required inputs. */
function requireInputs(mission: Mission, inputs: Record<string, string>): void {
  const missing = mission.inputs.filter((i) => i.required && !inputs[i.id]?.trim()).map((i) => i.id);
  if (missing.length > 0) {
    throw new CoordError("INPUT_MISSING", `mission "${mission.id}" is missing required input${missing.length > 1 ? "s" : ""}: ${missing.join(", ")}`, {
      hint: `invoke the graph with { inputs: { ${missing.map((id) => `"${id}": "..."`).join(", ")} } }`,
    });
  }
}

// A step's model calls run as a LangGraph task: their answer is checkpointed the moment it
// returns, so a crash in the step's side effects (post hooks, files, the post-phase hook) redoes
// only the effects on resume, never a paid call. Outside a checkpointed run it simply runs.
const modelCalls = task("model-calls", (work: () => Promise<unknown>) => work());

function checkpointed<T>(work: () => Promise<T>): Promise<T> {
  return modelCalls(work) as Promise<T>;
}

function contextFor(mission: Mission, plan: PhasePlan, state: RunStateValue): StepContext {
  return { mission, plan, inputs: state.inputs, extra: state.extra, earlier: state.deliverables, reviews: state.reviews };
}

/**
 * Compiles a mission into a LangGraph graph: per phase, the supports run in parallel, then the
 * lead writes the deliverables (and, with `approve`, a review node pauses for a human). Reads
 * no files and calls nothing but the given model and effects.
 */
export function compileMission(mission: Mission, options: CompileOptions) {
  const modelFor = typeof options.model === "function" ? options.model : () => options.model as BaseChatModel;
  const effects = options.effects ?? {};
  const ownAgents = new Map(mission.agents.map((a) => [a.name, a]));
  const lookup = Array.isArray(options.agents) ? new Map(options.agents.map((a) => [a.name, a])) : options.agents;
  const agentOf = (step: PlanStep): Agent => {
    const agent = (step.agent && (ownAgents.get(step.agent) ?? lookup.get(step.agent))) || undefined;
    if (!agent) {
      throw new CoordError("MISSION_UNKNOWN_AGENT", `phase ${step.phase} uses agent "${step.agent ?? "(none)"}" (not found)`, {
        file: mission.file,
        hint: "run `coord missions validate` and add the missing agent",
      });
    }
    return agent;
  };
  const plans = planMission(mission, { approve: !!options.approve });
  const limit = limiter(options.concurrency);
  const nameOf = options.modelName ?? ((agent: Agent) => modelFor(agent)._llmType());
  const budget = budgetTracker(options.budget);
  // Resolve every agent now, so a missing one fails before any step runs.
  for (const plan of plans) for (const step of [...plan.supports, plan.lead]) agentOf(step);

  const supportNode = (plan: PhasePlan, step: PlanStep) => (state: RunStateValue) => limit(() => supportStep(plan, step, state));
  const supportStep = async (plan: PhasePlan, step: PlanStep, state: RunStateValue): Promise<RunStateUpdate> => {
    budget.check(state);
    const agent = agentOf(step);
    const info: StepInfo = { mission, phase: plan.phase.index, role: "support", agent, task: supportPrompt(contextFor(mission, plan, state), agent) };
    await effects.beforeStep?.(info);
    const { notes, usage } = await checkpointed(async () => {
      await options.guard?.check();
      const messages = [new SystemMessage(systemPrompt(agent)), new HumanMessage(info.task)];
      const tools = options.toolsFor?.(agent) ?? [];
      const { reply, usage } = tools.length
        ? await toolLoop(modelFor(agent), messages, tools, options.maxToolTurns ?? 8)
        : await modelFor(agent).invoke(messages).then((r) => ({ reply: r as AIMessage, usage: usageOf(r as AIMessage) }));
      return { notes: messageText(reply).trim(), usage };
    });
    await effects.afterStep?.(info, { notes });
    const call: CallRecord = { phase: info.phase, agent: agent.name, role: "support", model: nameOf(agent), usage, attempts: 1 };
    budget.spend(call);
    return { notes: { [info.phase]: { [agent.name]: notes } }, calls: { [`${info.phase}/support/${agent.name}`]: call } };
  };

  const leadNode = (plan: PhasePlan) => (state: RunStateValue) => limit(() => leadStep(plan, state));
  const leadStep = async (plan: PhasePlan, state: RunStateValue): Promise<RunStateUpdate> => {
    budget.check(state);
    const agent = agentOf(plan.lead);
    const phase = plan.phase.index;
    const review = state.reviews[phase];
    const feedback = review?.action === "reject" ? review.note : undefined;
    const info: StepInfo = { mission, phase, role: "lead", agent, task: leadPrompt(contextFor(mission, plan, state), state.notes[phase] ?? {}, feedback) };
    await effects.beforeStep?.(info);
    const written = await checkpointed(async () => {
      await options.guard?.check();
      return writeDeliverables(plan, agent, info.task);
    });
    info.task = written.task;
    const { values, usage, attempts } = written;
    const ordered = Object.fromEntries(plan.deliverables.map((t) => [t, values[t]!]));
    const call: CallRecord = { phase, agent: agent.name, role: "lead", model: nameOf(agent), usage, attempts };
    budget.spend(call);
    // A rejected draft's calls were spent too: each redo gets its own record instead of replacing it.
    const earlier = Object.keys(state.calls).filter((k) => k.startsWith(`${phase}/lead/`)).length;
    const key = `${phase}/lead/${agent.name}${earlier ? `#${earlier + 1}` : ""}`;
    const after: RunStateValue = { ...state, deliverables: { ...state.deliverables, [phase]: ordered }, calls: { ...state.calls, [key]: call } };
    await effects.afterStep?.(info, { deliverables: ordered, state: after });
    return { deliverables: { [phase]: ordered }, calls: { [key]: call } };
  };

  /** The lead's model calls: research with its tools, then the deliverables, asked once more for any missing. */
  const writeDeliverables = async (plan: PhasePlan, agent: Agent, task: string) => {
    const model = modelFor(agent);
    const tools = options.toolsFor?.(agent) ?? [];
    let research = zeroUsage();
    if (tools.length) {
      // A lead with tools looks things up first; its findings go into the request for deliverables.
      const ask = `${task}\n\n## Before you write\n\nUse your tools to check anything you need in the inputs or the project, then reply with your findings.\n`;
      const found = await toolLoop(model, [new SystemMessage(systemPrompt(agent)), new HumanMessage(ask)], tools, options.maxToolTurns ?? 8);
      task = `${task}\n${section(SECTIONS.research, messageText(found.reply))}`;
      research = found.usage;
    }
    const first = await askDeliverables(model, agent, task, plan.deliverables, plan.phase.guidance);
    const missing = plan.deliverables.filter((t) => !first.values[t]);
    if (missing.length === 0) return { task, values: first.values, usage: addUsage(research, first.usage), attempts: 1 };
    const again = `${task}\n\n${section(SECTIONS.missing, `Write these deliverables, in full:\n${missing.map((m) => `- ${m}`).join("\n")}`)}`;
    const second = await askDeliverables(model, agent, again, missing, plan.phase.guidance);
    const values = { ...first.values, ...second.values };
    const still = plan.deliverables.filter((t) => !values[t]);
    if (still.length > 0) throw new DeliverableMissingError(agent, plan.phase.index, still);
    return { task, values, usage: addUsage(addUsage(research, first.usage), second.usage), attempts: 2 };
  };

  const reviewNode = (plan: PhasePlan) => (state: RunStateValue): RunStateUpdate => {
    const phase = plan.phase.index;
    // interrupt() re-runs this node from the top on resume, so nothing before it has side effects.
    const decision = interrupt({ phase, title: plan.phase.title, deliverables: Object.keys(state.deliverables[phase] ?? {}) }) as ReviewDecision | undefined;
    const action = decision?.action === "reject" ? "reject" : "approve";
    const review: ReviewDecision = { action, ...(decision?.note && { note: decision.note }) };
    // resumeRun stamps who and when; a caller resuming the graph itself may not, so stamp here too.
    const { by, at } = stampDecision(decision ?? review);
    // The trail is written here, once per decision, in the same checkpointed write as the review.
    const approval: ApprovalRecord = { phase, ...review, by, at };
    return { reviews: { [phase]: review }, approvals: { [nextApprovalKey(state.approvals, phase)]: approval } };
  };

  // Node names are dynamic (one per agent and phase), which the typed builder cannot express.
  const graph = new StateGraph(RunState) as unknown as LooseGraph;
  for (const plan of plans) {
    for (const step of plan.supports) graph.addNode(step.id, supportNode(plan, step));
    graph.addNode(plan.lead.id, leadNode(plan));
    if (plan.review) graph.addNode(plan.review.id, reviewNode(plan));
  }
  const entryOf = (plan: PhasePlan | undefined): string[] => (plan ? (plan.supports.length ? plan.supports.map((s) => s.id) : [plan.lead.id]) : [END]);
  // One node checks the inputs before the first phase fans out, so a caller that forgot one gets
  // a single INPUT_MISSING rather than one from every parallel support.
  graph.addNode(INPUTS_NODE, (state: RunStateValue) => {
    requireInputs(mission, state.inputs);
    return {};
  });
  graph.addEdge(START, INPUTS_NODE);
  plans.forEach((plan, i) => {
    if (i === 0) for (const id of entryOf(plan)) graph.addEdge(INPUTS_NODE, id);
    if (plan.supports.length) graph.addEdge(plan.supports.map((s) => s.id), plan.lead.id);
    const next = entryOf(plans[i + 1]);
    if (plan.review) {
      const phase = plan.phase.index;
      graph.addEdge(plan.lead.id, plan.review.id);
      graph.addConditionalEdges(plan.review.id, (state: RunStateValue) => (state.reviews[phase]?.action === "reject" ? [plan.lead.id] : next), [plan.lead.id, ...next]);
    } else {
      for (const id of next) graph.addEdge(plan.lead.id, id);
    }
  });
  if (plans.length === 0) graph.addEdge(INPUTS_NODE, END);
  return graph.compile({ ...(options.checkpointer && { checkpointer: options.checkpointer }), name: mission.id });
}

export type CompiledMission = ReturnType<typeof compileMission>;

/** Supersteps a run needs: every phase costs at most four (supports, lead, review, a rejection's redo). */
export function recursionLimitFor(mission: Mission): number {
  return 25 + mission.phases.length * 8;
}

interface LooseGraph {
  addNode(id: string, fn: (state: RunStateValue) => unknown): LooseGraph;
  addEdge(from: string | string[], to: string): LooseGraph;
  addConditionalEdges(from: string, route: (state: RunStateValue) => string[], ends: string[]): LooseGraph;
  compile(options: { checkpointer?: BaseCheckpointSaver; name?: string }): ReturnType<StateGraph<typeof RunState.spec>["compile"]>;
}
