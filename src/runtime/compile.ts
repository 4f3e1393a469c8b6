import type { Callbacks } from "@langchain/core/callbacks/manager";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { HumanMessage, SystemMessage, ToolMessage, type AIMessage, type BaseMessage } from "@langchain/core/messages";
import { mergeConfigs, type RunnableConfig } from "@langchain/core/runnables";
import { AsyncLocalStorageProviderSingleton } from "@langchain/core/singletons";
import { tool, type StructuredToolInterface } from "@langchain/core/tools";
import { setMaxListeners } from "node:events";
import { END, START, StateGraph, interrupt, task, type BaseCheckpointSaver, type LangGraphRunnableConfig } from "@langchain/langgraph";
import * as z from "zod";
import { CoordError } from "../errors.js";
import { ASSIGN_NODE, CRITERIA_NODE, INPUTS_NODE, gateNodeId, planMission, type PhasePlan, type PlanStep } from "../definitions/plan.js";
import type { Agent } from "../definitions/schemas/agent.js";
import type { Mission } from "../definitions/schemas/mission.js";
import { limiter } from "./limit.js";
import { missionGraphInputSchema } from "./input-schema.js";
import { budgetTracker, type Budget } from "./budget.js";
import { fitContext, leadPrompt, planRequest, rolePrompt, sharedContext, singleRequest, supportPrompt, type StepContext } from "./prompts.js";
import { RunState, nextApprovalKey, nextCallKey, stampDecision, type ApprovalRecord, type CallRecord, type PhaseGate, type ReviewDecision, type RunStateUpdate, type RunStateValue, type Usage } from "./state.js";
import { DELIVERABLES_TOOL } from "../models/tool-binding.js";
import { toolResultText } from "../models/mcp.js";
import { messageText } from "../models/message-text.js";
import { SECTIONS, section } from "../models/prompt-format.js";
import { askStructured } from "../models/structured.js";
import { addUsage, fromUsageMetadata, zeroUsage } from "../models/usage.js";
import { DEFAULT_CONTEXT_TOKENS, estimateTokens, requestBudget } from "../models/context.js";
import { digestsOf } from "./digests.js";
import { assignCriteria, gateFeedback, judgeContextOf, judgeCriteria, templateSectionResults, type CriterionResult } from "./criteria.js";

/** What a step is about to do or has done: handed to effects (hooks, files, progress). */
export interface StepInfo {
  mission: Mission;
  phase: number;
  role: "lead" | "support";
  agent: Agent;
  /** What the agent is given besides its role: the run's shared context, then the step's ask. */
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
  /**
   * How a lead writes its phase's deliverables: `parallel` (a short plan, then one call per
   * deliverable at once, from the plan) or `one-call` (every deliverable in one generation).
   */
  deliverables?: "parallel" | "one-call";
  /**
   * The context window of an agent's model, in tokens (default 128k): requests stay within it,
   * giving older deliverables in brief once the whole ones no longer fit.
   */
  contextTokens?: (agent: Agent) => number;
  /**
   * The model that checks the success criteria after the last phase (default: the last phase's
   * lead's model) and its name for run.json. Missions without criteria make no judge call.
   */
  judge?: { model: BaseChatModel; name: string };
  /**
   * Gates: each criterion is assigned to a phase before the first one and checked right after
   * it; an unmet one sends the lead back (at most `maxRedos` times), then pauses the run.
   */
  gate?: { maxRedos: number };
  /** At most this many agent steps at once (default: no limit). */
  concurrency?: number;
  effects?: StepEffects;
  /**
   * Checked right before a step's model calls: a worker that lost its lease while a step was
   * starting (a pre hook, a stall) must not pay for a call another worker will make.
   */
  guard?: { check(): Promise<void> };
  /**
   * LangChain callbacks for every model and tool call of the graph (a tracer, a cost meter): each
   * call is tagged with its mission, phase, agent and role, and its metadata carries them and the
   * run id (`coord_run_id`: the invoke's `metadata.coord_run_id`, else its `thread_id`).
   */
  callbacks?: Callbacks;
}

/** The step a model or tool call is made for, as its tags and metadata name it. */
interface CallTag {
  phase: number;
  agent: string;
  /** As run.json's `calls` say: a lead's plan written alongside its supports is `plan`. */
  role: "lead" | "support" | "judge" | "plan";
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

/** A step's messages, given its ask: the same system prompt for every call of the step. */
type Messages = (ask: string) => BaseMessage[];

/**
 * The messages of an agent's step: a system prompt of the run's shared context first and the
 * agent's role after it, then the step's own ask. Providers cache the longest prefix they saw
 * before; Anthropic caches only what is marked, so there the shared context is marked.
 */
function stepMessages(shared: string, agent: Agent, markCache: boolean): Messages {
  const role = rolePrompt(agent);
  const system = markCache
    ? new SystemMessage({ content: [{ type: "text", text: shared, cache_control: { type: "ephemeral" } }, { type: "text", text: `\n${role}` }] })
    : new SystemMessage(`${shared}\n${role}`);
  return (ask) => [system, new HumanMessage(ask)];
}

/** The lead's short plan for a phase written side by side: the decisions its deliverables share. */
async function writePlan(model: BaseChatModel, messages: Messages, task: string, titles: string[], config?: RunnableConfig): Promise<{ text: string; usage: Usage }> {
  const reply = (await model.invoke(messages(planRequest(task, titles)), config)) as AIMessage;
  return { text: messageText(reply).trim(), usage: usageOf(reply) };
}

/** Asks the lead for the given deliverables through structured output; keeps what came back. */
async function askDeliverables(model: BaseChatModel, messages: BaseMessage[], titles: string[], guidance: Record<string, string>, config?: RunnableConfig): Promise<LeadAnswer> {
  const { value: args = {}, usage } = await askStructured(model, deliverableSchema(titles, guidance), DELIVERABLES_TOOL, messages, config);
  // A reply that misses a field fails the schema; the deliverables it did write are kept.
  const values: Record<string, string> = {};
  titles.forEach((title, i) => {
    const value: unknown = args[`deliverable_${i + 1}`];
    if (typeof value === "string" && value.trim()) values[title] = value.trim();
  });
  return { values, usage };
}

/**
 * The tool-calling loop of an agent with tools: the model calls tools, reads their results and
 * goes on until it answers in text or runs out of turns.
 */
async function toolLoop(model: BaseChatModel, messages: BaseMessage[], tools: StructuredToolInterface[], maxTurns: number, budget = Number.POSITIVE_INFINITY, config?: RunnableConfig): Promise<{ reply: AIMessage; usage: Usage }> {
  const bound = model.bindTools!(tools);
  const byName = new Map(tools.map((t) => [t.name, t]));
  let usage = zeroUsage();
  const history = [...messages];
  let size = estimateTokens(messages.map(messageText).join("\n"));
  for (let turn = 1; ; turn++) {
    const reply = (await bound.invoke(history, config)) as AIMessage;
    usage = addUsage(usage, usageOf(reply));
    if (!reply.tool_calls?.length || turn >= maxTurns) return { reply, usage };
    history.push(reply);
    size += estimateTokens(messageText(reply)) + estimateTokens(JSON.stringify(reply.tool_calls));
    for (const call of reply.tool_calls) {
      const target = byName.get(call.name);
      const answer = target ? await invokeTool(target, call.args, config) : `Error: no tool named ${call.name}; available: ${[...byName.keys()].join(", ")}`;
      // Tool results never take the request past the model's budget: what does not fit is cut, and the model is told.
      const content = fitToBudget(answer, budget - size - 512);
      size += estimateTokens(content);
      history.push(new ToolMessage({ content, tool_call_id: call.id ?? call.name, name: call.name }));
    }
  }
}

/** A tool's answer cut to what the request still has room for, saying so. */
function fitToBudget(text: string, tokensLeft: number): string {
  if (estimateTokens(text) <= tokensLeft) return text;
  const note = "\n\n[cut here: the rest would not fit in the model's context]";
  return tokensLeft <= 64 ? "[not given: the request has no room left in the model's context; work from what you have]" : `${text.slice(0, Math.floor((tokensLeft - 32) * 3.5))}${note}`;
}

/** A tool's answer as text; a tool that throws tells the model why instead of failing the step. */
async function invokeTool(target: StructuredToolInterface, args: unknown, config?: RunnableConfig): Promise<string> {
  try {
    return toolResultText(await target.invoke(args as never, config));
  } catch (error) {
    return `Error: ${(error as Error).message}`;
  }
}

/**
 * Refuses a request that would not fit its model's context even with every earlier deliverable
 * in brief (huge inputs, a small model), before anything is paid for.
 */
function requireRoom(messages: BaseMessage[], room: number, agent: Agent, phase: number): void {
  const needed = estimateTokens(messages.map(messageText).join("\n"));
  // The lead's plan and the "now" line come on top of its ask.
  if (needed + STEP_MARGIN <= room) return;
  throw new CoordError("CONTEXT_TOO_SMALL", `phase ${phase}'s request to ${agent.name} needs about ${needed + STEP_MARGIN} tokens with room for its answer's plan, over the ${room} its model's context leaves for a request`, {
    hint: "use a model with a larger context window, raise --context-tokens (models.contextTokens) if the model allows it, or shorten the inputs",
    exitCode: 1,
  });
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

/**
 * Every model call of a step listens on the step's abort signal: a lead writing five deliverables
 * side by side, each with its retries, passes Node's default of ten listeners with no leak, so the
 * step's signal allows any number instead of printing a warning.
 */
function allowListeners(config: LangGraphRunnableConfig | undefined): void {
  if (config?.signal) setMaxListeners(0, config.signal);
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
// Each kind of call is a task of its own name: LangGraph tells a node's tasks apart by name and
// by the order they were called in, so a resume matches a saved answer to the call that made it
// even when calls made side by side finish in another order.
const modelTasks = new Map<string, (work: () => Promise<unknown>) => Promise<unknown>>();

function checkpointed<T>(name: string, work: () => Promise<T>): Promise<T> {
  let run = modelTasks.get(name);
  if (!run) {
    run = task(name, (work: () => Promise<unknown>) => work());
    modelTasks.set(name, run);
  }
  return run(work) as Promise<T>;
}

function contextFor(mission: Mission, plan: PhasePlan, state: RunStateValue): StepContext {
  return { mission, plan, inputs: state.inputs, extra: state.extra, earlier: state.deliverables, reviews: state.reviews, ...(state.digests && { digests: state.digests }) };
}

// What a lead adds to its ask when writing side by side: the plan (asked for in at most 200 words) and the last line.
const STEP_MARGIN = 800;

/** `read_deliverable`: the whole text of an earlier deliverable that a request gives in brief. */
function readDeliverableTool(context: StepContext): StructuredToolInterface {
  return tool(
    ({ phase, title }: { phase: number; title: string }) => {
      const text = context.earlier[phase]?.[title];
      if (phase >= context.plan.phase.index || text === undefined) {
        const known = Object.entries(context.earlier)
          .filter(([p]) => Number(p) < context.plan.phase.index)
          .flatMap(([p, byTitle]) => Object.keys(byTitle).map((t) => `${p}: "${t}"`));
        return `No deliverable "${title}" in an earlier phase ${phase}. Earlier deliverables: ${known.join(", ") || "none"}.`;
      }
      return text;
    },
    {
      name: "read_deliverable",
      description: "Read an earlier phase's deliverable in full; the request gives the older ones in brief.",
      schema: z.object({ phase: z.number().int().describe("The phase that wrote it"), title: z.string().describe("Its title, as the earlier deliverables list it") }),
    },
  );
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
  const plans = planMission(mission, { approve: !!options.approve, deliverables: options.deliverables ?? "parallel" });
  const limit = limiter(options.concurrency);
  const nameOf = options.modelName ?? ((agent: Agent) => modelFor(agent)._llmType());
  const budget = budgetTracker(options.budget);
  const budgetOf = (agent: Agent) => requestBudget(options.contextTokens?.(agent) ?? DEFAULT_CONTEXT_TOKENS);
  // Older deliverables given in brief can be read whole: the tool comes with the cut.
  const contextTools = (context: StepContext) => (context.digestBefore ? [readDeliverableTool(context)] : []);
  // Anthropic caches only the prefix a request marks; other providers cache prefixes by themselves.
  const marksCache = (agent: Agent) => nameOf(agent).startsWith("anthropic:");
  // Resolve every agent now, so a missing one fails before any step runs.
  for (const plan of plans) for (const step of [...plan.supports, plan.lead]) agentOf(step);

  /**
   * One model call of a step, checkpointed as a LangGraph task the moment it returns (a crash
   * after it redoes no paid call), and only while this process still holds the run. `work` gets
   * the config its model and tool calls are made with (see callConfig).
   */
  const modelCall = <T>(name: string, tag: CallTag, work: (config: RunnableConfig) => Promise<T>): Promise<T> =>
    checkpointed(`model:${name}`, async () => {
      await options.guard?.check();
      return work(callConfig(name, tag));
    });

  /**
   * The config of a step's model and tool calls: tagged with the step, and with the caller's
   * callbacks added to the ones LangGraph gives the task the call runs in (read from its async
   * context), so a tracer sees the call inside its task. The caller's callbacks go to these calls
   * only, never into the graph's context, which the model inside coord's managed model would
   * also pick up: each call is seen once.
   */
  const callConfig = (name: string, tag: CallTag): RunnableConfig => {
    const current = AsyncLocalStorageProviderSingleton.getRunnableConfig() as RunnableConfig | undefined;
    const runId = current?.metadata?.coord_run_id ?? current?.configurable?.thread_id;
    const metadata = {
      // LangGraph's own (the node and task, the thread) stay: tracers group calls by them.
      ...current?.metadata,
      coord_mission: mission.id,
      coord_phase: tag.phase,
      coord_agent: tag.agent,
      coord_role: tag.role,
      coord_call: name,
      ...((typeof runId === "string" || typeof runId === "number") && { coord_run_id: String(runId) }),
    };
    const tags = ["coord", `coord:mission:${mission.id}`, `coord:phase:${tag.phase}`, `coord:agent:${tag.agent}`, `coord:role:${tag.role}`];
    // The task's callbacks last: the merged manager keeps the task as the calls' parent run.
    const { callbacks } = mergeConfigs({ callbacks: options.callbacks }, { callbacks: current?.callbacks });
    return { ...(callbacks && { callbacks }), tags, metadata };
  };

  /**
   * A step's request within its model's budget: the run's shared context cut to fit around the
   * step's ask, rendered once, and the messages built from it; refused before any call when even
   * the cut context leaves no room.
   */
  const stepRequest = (plan: PhasePlan, state: RunStateValue, agent: Agent, askOf: (whole: StepContext) => string) => {
    const room = budgetOf(agent);
    const whole = contextFor(mission, plan, state);
    const ask = askOf(whole);
    const context = fitContext(whole, room, estimateTokens(rolePrompt(agent) + ask) + STEP_MARGIN);
    const shared = sharedContext(context);
    const messages = stepMessages(shared, agent, marksCache(agent));
    requireRoom(messages(ask), room, agent, plan.phase.index);
    return { room, ask, context, shared, messages };
  };

  /** An agent's step as a graph node: within the run's concurrency limit, its signal allowing its many listeners. */
  const agentNode = (step: (state: RunStateValue) => Promise<RunStateUpdate>) => (state: RunStateValue, config?: LangGraphRunnableConfig) => {
    allowListeners(config);
    return limit(() => step(state));
  };

  const supportStep = async (plan: PhasePlan, step: PlanStep, state: RunStateValue): Promise<RunStateUpdate> => {
    budget.check(state);
    const agent = agentOf(step);
    const { room, ask, context, shared, messages } = stepRequest(plan, state, agent, (whole) => supportPrompt(whole, agent));
    const info: StepInfo = { mission, phase: plan.phase.index, role: "support", agent, task: `${shared}\n${ask}` };
    await effects.beforeStep?.(info);
    const startedAt = new Date().toISOString();
    const { notes, usage } = await modelCall("support", { phase: info.phase, agent: agent.name, role: "support" }, async (config) => {
      const tools = [...(options.toolsFor?.(agent) ?? []), ...contextTools(context)];
      const { reply, usage } = tools.length
        ? await toolLoop(modelFor(agent), messages(ask), tools, options.maxToolTurns ?? 8, room, config)
        : await modelFor(agent).invoke(messages(ask), config).then((r) => ({ reply: r as AIMessage, usage: usageOf(r as AIMessage) }));
      return { notes: messageText(reply).trim(), usage };
    });
    await effects.afterStep?.(info, { notes });
    const call: CallRecord = { phase: info.phase, agent: agent.name, role: "support", model: nameOf(agent), usage, attempts: 1, startedAt, finishedAt: new Date().toISOString() };
    budget.spend(call);
    return { notes: { [info.phase]: { [agent.name]: notes } }, calls: { [`${info.phase}/support/${agent.name}`]: call } };
  };

  /**
   * The lead's plan for the phase, written alongside its supports from the brief, the inputs and
   * the earlier deliverables: the deliverables then start as soon as the supports are done.
   */
  const plannerStep = async (plan: PhasePlan, state: RunStateValue): Promise<RunStateUpdate> => {
    budget.check(state);
    const agent = agentOf(plan.lead);
    const phase = plan.phase.index;
    const { ask, messages } = stepRequest(plan, state, agent, (whole) => leadPrompt(whole, {}));
    const startedAt = new Date().toISOString();
    const planned = await modelCall("lead-plan", { phase, agent: agent.name, role: "plan" }, (config) => writePlan(modelFor(agent), messages, ask, plan.deliverables, config));
    const call: CallRecord = { phase, agent: agent.name, role: "plan", model: nameOf(agent), usage: planned.usage, attempts: 1, startedAt, finishedAt: new Date().toISOString() };
    budget.spend(call);
    return { phasePlans: { [phase]: planned.text }, calls: { [`${phase}/plan/${agent.name}`]: call } };
  };

  const leadStep = async (plan: PhasePlan, state: RunStateValue): Promise<RunStateUpdate> => {
    budget.check(state);
    const agent = agentOf(plan.lead);
    const phase = plan.phase.index;
    const review = state.reviews[phase];
    const feedback = review?.action === "reject" ? review.note : undefined;
    const { room, ask, context, shared, messages } = stepRequest(plan, state, agent, (whole) => leadPrompt(whole, state.notes[phase] ?? {}, feedback));
    const info: StepInfo = { mission, phase, role: "lead", agent, task: `${shared}\n${ask}` };
    await effects.beforeStep?.(info);
    const early = feedback === undefined ? state.phasePlans?.[phase] : undefined;
    const startedAt = new Date().toISOString();
    const written = await writeDeliverables(plan, agent, ask, messages, { room, tools: contextTools(context), ...(early !== undefined && { plan: early }) });
    // Post hooks see what the lead worked from, its research and plan included.
    info.task = `${shared}\n${written.task}`;
    const { values, usage, attempts } = written;
    const ordered = Object.fromEntries(plan.deliverables.map((t) => [t, values[t]!]));
    const call: CallRecord = { phase, agent: agent.name, role: "lead", model: nameOf(agent), usage, attempts, startedAt, finishedAt: new Date().toISOString() };
    budget.spend(call);
    // A rejected draft's calls were spent too: each redo gets its own record instead of replacing it.
    const key = nextCallKey(state.calls, `${phase}/lead/${agent.name}`);
    const after: RunStateValue = { ...state, deliverables: { ...state.deliverables, [phase]: ordered }, calls: { ...state.calls, [key]: call } };
    await effects.afterStep?.(info, { deliverables: ordered, state: after });
    // Digested once, as they are written, and kept in the checkpoint with them.
    return { deliverables: { [phase]: ordered }, digests: { [phase]: digestsOf(ordered) }, calls: { [key]: call } };
  };

  /**
   * The lead's model calls: research with its tools, then the deliverables. By default a short
   * plan comes first and each deliverable is then written by its own call, all at once, so a
   * phase waits for its longest deliverable rather than for all of them one after another.
   */
  const writeDeliverables = async (plan: PhasePlan, agent: Agent, task: string, messages: Messages, context: { room: number; tools: StructuredToolInterface[]; plan?: string | undefined }) => {
    const model = modelFor(agent);
    const tag: CallTag = { phase: plan.phase.index, agent: agent.name, role: "lead" };
    const tools = [...(options.toolsFor?.(agent) ?? []), ...context.tools];
    // What the lead's research and plan may add to its requests: the room the ask leaves, less the last line.
    const roomLeft = (ask: string) => context.room - estimateTokens(messages(ask).map(messageText).join("\n")) - 200;
    let usage = zeroUsage();
    if (tools.length) {
      // A lead with tools looks things up first; its findings go into the request for deliverables.
      const ask = `${task}\n\n## Before you write\n\nUse your tools to check anything you need in the inputs or the project, then reply with your findings.\n`;
      const found = await modelCall("lead-research", tag, (config) => toolLoop(model, messages(ask), tools, options.maxToolTurns ?? 8, context.room, config));
      task = `${task}\n${section(SECTIONS.research, fitToBudget(messageText(found.reply), roomLeft(task)))}`;
      usage = found.usage;
    }
    const titles = plan.deliverables;
    const ask = (name: string, request: string, wanted: string[]) => modelCall(name, tag, (config) => askDeliverables(model, messages(request), wanted, plan.phase.guidance, config));
    if ((options.deliverables ?? "parallel") === "one-call" || titles.length === 1) {
      const written = await askWithRetry((again, request, wanted) => ask(`deliverables${again}`, request, wanted), task, titles, agent, plan.phase.index);
      return { task, values: written.values, usage: addUsage(usage, written.usage), attempts: written.attempts };
    }
    // The plan holds what every deliverable must agree on; each deliverable is then written from
    // it. It was written alongside the supports when the phase has them; a redo plans again, with
    // the reviewer's feedback.
    const planned = context.plan !== undefined ? { text: context.plan, usage: zeroUsage() } : await modelCall("lead-plan", tag, (config) => writePlan(model, messages, task, titles, config));
    // A plan longer than asked for is cut to the room the requests have left.
    task = `${task}\n${section(SECTIONS.phasePlan, fitToBudget(planned.text, roomLeft(task)))}`;
    usage = addUsage(usage, planned.usage);
    // Settled, not raced: when one deliverable fails, the others still finish and are saved, so a
    // resume asks only for what is missing.
    const settled = await Promise.allSettled(titles.map((title, i) => askWithRetry((again, request, wanted) => ask(`deliverable-${i + 1}${again}`, request, wanted), singleRequest(task, title), [title], agent, plan.phase.index)));
    const failed = settled.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
    const each = settled.map((r) => (r as PromiseFulfilledResult<Awaited<ReturnType<typeof askWithRetry>>>).value);
    const values = Object.assign({}, ...each.map((w) => w.values)) as Record<string, string>;
    // Calls one after another: the plan when it was written here, then the longest deliverable's tries.
    const attempts = (context.plan === undefined ? 1 : 0) + Math.max(...each.map((w) => w.attempts));
    return { task, values, usage: each.reduce((sum, w) => addUsage(sum, w.usage), usage), attempts };
  };

  /** Asks for deliverables; any that come back empty are asked for once more, alone. */
  const askWithRetry = async (ask: (again: "" | "-again", request: string, wanted: string[]) => Promise<LeadAnswer>, task: string, titles: string[], agent: Agent, phase: number) => {
    const first = await ask("", task, titles);
    const missing = titles.filter((t) => !first.values[t]);
    if (missing.length === 0) return { ...first, attempts: 1 };
    const second = await ask("-again", `${task}\n\n${section(SECTIONS.missing, `Write these deliverables, in full:\n${missing.map((m) => `- ${m}`).join("\n")}`)}`, missing);
    const values = { ...first.values, ...second.values };
    const still = titles.filter((t) => !values[t]);
    if (still.length > 0) throw new DeliverableMissingError(agent, phase, still);
    return { values, usage: addUsage(first.usage, second.usage), attempts: 2 };
  };

  /**
   * The success criteria, checked once the last phase is done: a template's own output sections
   * without a model, the mission's criteria by the judge model, its quotes verified.
   */
  const criteriaNode = async (state: RunStateValue): Promise<RunStateUpdate> => {
    const sections = mission.kind === "template" ? templateSectionResults(mission, state.deliverables) : [];
    if (mission.successCriteria.length === 0) return { criteria: sections };
    // With gates every criterion was checked after its phase: the last verdicts stand.
    if (options.gate && state.gates?.assigned) return { criteria: [...sections, ...gatedResults(state)] };
    budget.check(state);
    const lastLead = agentOf(plans.at(-1)!.lead);
    const judge = judgeOf(lastLead);
    const startedAt = new Date().toISOString();
    const { results, usage } = await modelCall("judge", { phase: 0, agent: "judge", role: "judge" }, (config) => judgeCriteria(judge.model, mission, mission.successCriteria, state.deliverables, budgetOf(lastLead), config, judgeContextOf(state)));
    const call: CallRecord = { phase: 0, agent: "judge", role: "judge", model: judge.name, usage, attempts: 1, startedAt, finishedAt: new Date().toISOString() };
    budget.spend(call);
    const criteria: CriterionResult[] = [...sections, ...results];
    return { criteria, calls: { "0/judge": call } };
  };

  const judgeOf = (agent: Agent) => options.judge ?? { model: modelFor(agent), name: nameOf(agent) };

  /** The criteria each in the verdict of the last check after its phase, in the mission's order. */
  const gatedResults = (state: RunStateValue): CriterionResult[] =>
    mission.successCriteria.map((text, i) => {
      const phase = state.gates!.assigned![i]!;
      const found = state.gates!.phases[phase]?.results.find((r) => r.text === text);
      return found ?? { text, verdict: "not_met", phase, evidence: [], missing: "not checked: its phase did not finish" };
    });

  /** Before the first phase: which phase should meet each criterion (gates). */
  const assignNode = async (): Promise<RunStateUpdate> => {
    const lead = agentOf(plans[0]!.lead);
    const judge = judgeOf(lead);
    const { phases, usage } = await modelCall("assign", { phase: 0, agent: "judge", role: "judge" }, (config) => assignCriteria(judge.model, mission, mission.successCriteria, config));
    const call: CallRecord = { phase: 0, agent: "judge", role: "judge", model: judge.name, usage, attempts: 1 };
    budget.spend(call);
    return { gates: { assigned: phases, phases: {} }, calls: { "0/judge-assign": call } };
  };

  /**
   * Right after a phase (gates): its criteria, judged against everything written so far. Unmet
   * ones send its lead back with what is missing, at most `maxRedos` times; then the run pauses
   * for a person, who may go on anyway (approve) or have the lead try again (reject with a note).
   */
  const gateNode = (plan: PhasePlan) => async (state: RunStateValue): Promise<RunStateUpdate> => {
    const phase = plan.phase.index;
    const previous = state.gates?.phases[phase];
    const redos = previous?.redos ?? 0;
    const mine = mission.successCriteria.filter((_, i) => state.gates?.assigned?.[i] === phase);
    if (mine.length === 0) return { gates: { phases: { [phase]: { status: "passed", redos, results: [] } } } };
    budget.check(state);
    const lead = agentOf(plan.lead);
    const judge = judgeOf(lead);
    const startedAt = new Date().toISOString();
    const checked = await modelCall("gate", { phase, agent: "judge", role: "judge" }, (config) => judgeCriteria(judge.model, mission, mine, state.deliverables, budgetOf(lead), config, judgeContextOf(state)));
    const results = checked.results.map((r) => ({ ...r, phase }));
    const call: CallRecord = { phase, agent: "judge", role: "judge", model: judge.name, usage: checked.usage, attempts: 1, startedAt, finishedAt: new Date().toISOString() };
    budget.spend(call);
    const calls = { [nextCallKey(state.calls, `${phase}/gate`)]: call };
    const unmet = results.filter((r) => r.verdict !== "met");
    const gate = (status: PhaseGate["status"], more = 0): PhaseGate => ({ status, redos: redos + more, results });
    if (unmet.length === 0) return { gates: { phases: { [phase]: gate("passed") } }, calls };
    if (redos < options.gate!.maxRedos) {
      return { gates: { phases: { [phase]: gate("redo", 1) } }, reviews: { [phase]: { action: "reject", note: gateFeedback(unmet) } }, calls };
    }
    // interrupt() runs this node again from the top on resume; the judge's answer is a saved task.
    const decision = interrupt({ phase, title: plan.phase.title, kind: "criteria", unmet: unmet.map((u) => u.text) }) as ReviewDecision | undefined;
    const action = decision?.action === "reject" ? "reject" : "approve";
    const { by, at } = stampDecision(decision ?? { action });
    const approval: ApprovalRecord = { phase, action, ...(decision?.note && { note: decision.note }), by, at };
    const approvals = { [nextApprovalKey(state.approvals, phase)]: approval };
    if (action === "approve") return { gates: { phases: { [phase]: gate("waived") } }, approvals, calls };
    return { gates: { phases: { [phase]: gate("redo", 1) } }, reviews: { [phase]: { action: "reject", note: decision?.note || gateFeedback(unmet) } }, approvals, calls };
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
  const graph = new StateGraph({ state: RunState, input: missionGraphInputSchema(mission) }) as unknown as LooseGraph;
  const gated = !!options.gate && mission.successCriteria.length > 0;
  for (const plan of plans) {
    for (const step of plan.supports) graph.addNode(step.id, agentNode((state) => supportStep(plan, step, state)));
    if (plan.planner) graph.addNode(plan.planner.id, agentNode((state) => plannerStep(plan, state)));
    graph.addNode(plan.lead.id, agentNode((state) => leadStep(plan, state)));
    if (gated) graph.addNode(gateNodeId(plan.phase.index), gateNode(plan));
    if (plan.review) graph.addNode(plan.review.id, reviewNode(plan));
  }
  if (gated) graph.addNode(ASSIGN_NODE, assignNode);
  // After the last phase: its criteria are checked, when it has any to check.
  const checksCriteria = mission.successCriteria.length > 0 || mission.kind === "template";
  if (checksCriteria) graph.addNode(CRITERIA_NODE, criteriaNode);
  // A phase starts with its supports and, writing side by side, its lead's plan; else with its lead.
  const firstOf = (plan: PhasePlan) => [...plan.supports, ...(plan.planner ? [plan.planner] : [])].map((s) => s.id);
  const entryOf = (plan: PhasePlan | undefined): string[] => (plan ? (firstOf(plan).length ? firstOf(plan) : [plan.lead.id]) : [checksCriteria ? CRITERIA_NODE : END]);
  // One node checks the inputs before the first phase fans out, so a caller that forgot one gets
  // a single INPUT_MISSING rather than one from every parallel support.
  graph.addNode(INPUTS_NODE, (state: RunStateValue) => {
    requireInputs(mission, state.inputs);
    return {};
  });
  graph.addEdge(START, INPUTS_NODE);
  // With gates, the criteria are assigned to phases before the first one starts.
  const start = gated ? ASSIGN_NODE : INPUTS_NODE;
  if (gated) graph.addEdge(INPUTS_NODE, ASSIGN_NODE);
  plans.forEach((plan, i) => {
    if (i === 0) for (const id of entryOf(plan)) graph.addEdge(start, id);
    if (firstOf(plan).length) graph.addEdge(firstOf(plan), plan.lead.id);
    const next = entryOf(plans[i + 1]);
    const phase = plan.phase.index;
    // A gate stands between the lead and what follows: a redo goes back to the lead.
    const afterLead = gated ? gateNodeId(phase) : plan.lead.id;
    if (gated) {
      const onward = plan.review ? [plan.review.id] : next;
      graph.addEdge(plan.lead.id, afterLead);
      graph.addConditionalEdges(afterLead, (state: RunStateValue) => (state.gates?.phases[phase]?.status === "redo" ? [plan.lead.id] : onward), [plan.lead.id, ...onward]);
      if (plan.review) graph.addConditionalEdges(plan.review.id, (state: RunStateValue) => (state.reviews[phase]?.action === "reject" ? [plan.lead.id] : next), [plan.lead.id, ...next]);
      return;
    }
    if (plan.review) {
      graph.addEdge(plan.lead.id, plan.review.id);
      graph.addConditionalEdges(plan.review.id, (state: RunStateValue) => (state.reviews[phase]?.action === "reject" ? [plan.lead.id] : next), [plan.lead.id, ...next]);
    } else {
      for (const id of next) graph.addEdge(plan.lead.id, id);
    }
  });
  if (plans.length === 0) graph.addEdge(start, checksCriteria ? CRITERIA_NODE : END);
  if (checksCriteria) graph.addEdge(CRITERIA_NODE, END);
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
