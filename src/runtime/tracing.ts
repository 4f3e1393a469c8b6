// OpenTelemetry traces of a run, over OTLP/HTTP (JSON), following the GenAI semantic conventions
// as of semconv 1.37.0 (experimental): https://opentelemetry.io/docs/specs/semconv/gen-ai/
//
// This module is imported only when the run's environment names an OTLP endpoint (see
// `tracingWanted`, which lives in execute.ts so that checking it loads nothing): a run without
// the variables loads no OpenTelemetry module at all.
import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import type { Serialized } from "@langchain/core/load/serializable";
import type { BaseMessage } from "@langchain/core/messages";
import type { LLMResult } from "@langchain/core/outputs";
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace, type Attributes, type Context, type Span, type Tracer } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { messageText } from "../models/message-text.js";
import { fromUsageMetadata, type Usage, type UsageMetadata } from "../models/usage.js";
import type { Env, RunEvent } from "./events.js";
import type { HookResult } from "./hook-process.js";
import type { HookSpan } from "./hooks.js";
import type { RunSpec } from "./store.js";

/** The semantic conventions version coord's spans follow. */
export const SEMCONV_VERSION = "1.37.0";
const SCHEMA_URL = `https://opentelemetry.io/schemas/${SEMCONV_VERSION}`;

/** Where a run's trace is: kept in its spec, so a resume on any process continues it. */
export interface TraceRef {
  traceId: string;
  /** The span of the run's first segment: later segments are its children. */
  spanId: string;
}

/** How a run segment stopped, for its span's status. */
export interface TraceStop {
  status: "completed" | "paused" | "failed";
  reason?: string;
  phase?: number;
  error?: string;
}

export interface RunTraceOptions {
  /** The model spec (`provider:model`) an agent's calls use; the judge's for "judge". */
  modelOf(agent: string): string | undefined;
  /** A call's cost in USD, when the model has a price. */
  cost(model: string, usage: Usage): number | undefined;
  /** Whether this segment starts the run (else it continues a paused or stopped one). */
  isNew: boolean;
  /** The decision a resume carries, if any: an event on the segment's span. */
  decision?: { action?: string; by?: { kind?: string; id?: string } | string };
}

/** The OTLP traces URL the environment names, if any. */
export function tracesUrl(env: Env): string | undefined {
  const signal = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (signal) return signal;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  return base ? `${base.replace(/\/+$/, "")}/v1/traces` : undefined;
}

/** `key=value,key2=value2` (values URL-encoded), as OTEL_EXPORTER_OTLP_HEADERS and OTEL_RESOURCE_ATTRIBUTES are written. */
function keyValues(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (text ?? "").split(",")) {
    const at = pair.indexOf("=");
    if (at <= 0) continue;
    try {
      out[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      out[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
    }
  }
  return out;
}

/** `provider` and `model` of a model spec: `openai:gpt-4o-mini`, or `offline`. */
export function providerOf(spec: string | undefined): { provider?: string; model?: string } {
  if (!spec) return {};
  if (spec === "offline") return { provider: "coord.offline", model: "offline" };
  const at = spec.indexOf(":");
  return at < 0 ? { model: spec } : { provider: spec.slice(0, at), model: spec.slice(at + 1) };
}

const stepKey = (phase: unknown, agent: unknown, role: unknown) => `${String(phase)}/${String(agent)}/${String(role)}`;

interface Open {
  span: Span;
  context: Context;
  phase: number;
}

/**
 * One run segment's trace: a LangChain callback handler (model and tool calls become `chat` and
 * `execute_tool` spans) fed the run's events (steps become `invoke_agent` spans, phases their
 * own), with a span per hook and the segment's `invoke_workflow` span around it all.
 */
export class RunTrace extends BaseCallbackHandler {
  name = "coord-otel";
  /** Spans open before the call they stand for returns, in order. */
  override awaitHandlers = true;

  readonly ref: TraceRef;
  private readonly tracer: Tracer;
  private readonly root: Span;
  private readonly rootContext: Context;
  private readonly phases = new Map<number, Open>();
  private readonly steps = new Map<string, Open>();
  private readonly calls = new Map<string, { span: Span; step?: Open; model?: string }>();
  private readonly attrs: Attributes;
  private readonly capture: boolean;
  /** Pre-1.37 backends read `gen_ai.system`: sent too, unless the user opted in to the latest conventions only. */
  private readonly legacy: boolean;
  private lastPhase = 0;
  private costUsd = 0;

  constructor(
    private readonly provider: BasicTracerProvider,
    private readonly spec: RunSpec,
    env: Env,
    private readonly options: RunTraceOptions,
  ) {
    super();
    this.tracer = provider.getTracer("coord", undefined, { schemaUrl: SCHEMA_URL });
    this.capture = (env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT ?? "").trim().toLowerCase() === "true";
    this.legacy = !(env.OTEL_SEMCONV_STABILITY_OPT_IN ?? "").split(",").map((s) => s.trim()).includes("gen_ai_latest_experimental");
    this.attrs = { "coord.mission": spec.mission.id, "coord.run_id": spec.runId };
    const parent = spec.trace ? trace.setSpanContext(ROOT_CONTEXT, { traceId: spec.trace.traceId, spanId: spec.trace.spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true }) : ROOT_CONTEXT;
    this.root = this.tracer.startSpan(
      `invoke_workflow ${spec.mission.id}`,
      { kind: SpanKind.INTERNAL, attributes: { "gen_ai.operation.name": "invoke_workflow", ...this.attrs, "coord.resumed": !options.isNew } },
      parent,
    );
    this.rootContext = trace.setSpan(ROOT_CONTEXT, this.root);
    const own = this.root.spanContext();
    this.ref = spec.trace ?? { traceId: own.traceId, spanId: own.spanId };
    if (options.decision?.action) {
      const by = options.decision.by;
      this.root.addEvent("coord.approval", { "coord.decision": options.decision.action, ...(by && { "coord.decided_by": typeof by === "string" ? by : [by.kind, by.id].filter(Boolean).join(":") }) });
    }
  }

  /** The run's events: steps open and close `invoke_agent` spans, warnings become span events. */
  event(event: RunEvent): void {
    try {
      if (event.type === "step") {
        const key = stepKey(event.phase, event.agent, event.role);
        if (event.state === "start") {
          this.steps.get(key)?.span.end();
          this.steps.set(key, this.openStep(event.phase, event.agent, event.role));
        } else {
          this.steps.get(key)?.span.end();
          this.steps.delete(key);
        }
      } else if (event.type === "phase") {
        this.lastPhase = event.phase;
        this.phases.get(event.phase)?.span.setAttributes({ "coord.phase_title": event.title, "coord.deliverables": event.deliverables });
      } else if (event.type === "warning") {
        this.root.addEvent("coord.warning", { message: event.message, ...(event.code && { "coord.code": event.code }) });
      }
    } catch {
      // Tracing never fails a run.
    }
  }

  /** A hook's span, under its step, its phase (post-phase) or the run. */
  async hook(hook: HookSpan, run: () => Promise<HookResult>): Promise<HookResult> {
    const phase = hook.phase ?? (hook.name === "post-phase" ? this.lastPhase : undefined);
    const parent = hook.agent !== undefined && hook.phase !== undefined ? this.stepOf(hook.phase, hook.agent, hook.role ?? "lead") : phase ? this.phaseOf(phase) : undefined;
    const span = this.tracer.startSpan(
      `hook ${hook.name}`,
      {
        kind: SpanKind.INTERNAL,
        attributes: {
          ...this.attrs,
          "coord.hook": hook.name,
          ...(phase !== undefined && { "coord.phase": phase }),
          ...(hook.agent && { "gen_ai.agent.name": hook.agent }),
          ...(hook.role && { "coord.role": hook.role }),
        },
      },
      parent?.context ?? this.rootContext,
    );
    try {
      const result = await run();
      if (result.code !== null && result.code !== undefined) span.setAttribute("process.exit.code", result.code);
      const why = result.timedOut ? "timeout" : result.signal ? String(result.signal) : result.code === 0 ? undefined : `exit ${result.code}`;
      if (why) span.setStatus({ code: SpanStatusCode.ERROR, message: why }).setAttribute("error.type", why);
      return result;
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message }).setAttribute("error.type", (error as Error).name || "Error");
      throw error;
    } finally {
      span.end();
    }
  }

  override handleChatModelStart(_llm: Serialized, messages: BaseMessage[][], runId: string, _parent?: string, _extra?: Record<string, unknown>, _tags?: string[], metadata?: Record<string, unknown>): void {
    const step = this.stepFromMetadata(metadata);
    const agent = metadata?.coord_agent as string | undefined;
    const modelSpec = agent ? this.options.modelOf(agent) : undefined;
    const { provider, model } = providerOf(modelSpec);
    const span = this.tracer.startSpan(
      `chat${model ? ` ${model}` : ""}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          "gen_ai.operation.name": "chat",
          ...(provider && { "gen_ai.provider.name": provider, ...(this.legacy && { "gen_ai.system": provider }) }),
          ...(model && { "gen_ai.request.model": model }),
          ...this.where(metadata),
          ...(typeof metadata?.coord_call === "string" && { "coord.call": metadata.coord_call }),
          ...(this.capture && { "gen_ai.input.messages": JSON.stringify((messages[0] ?? []).map(messageOf)) }),
        },
      },
      step?.context ?? this.rootContext,
    );
    this.calls.set(runId, { span, ...(step && { step }), ...(modelSpec && { model: modelSpec }) });
  }

  override handleLLMEnd(output: LLMResult, runId: string): void {
    const call = this.calls.get(runId);
    if (!call) return;
    this.calls.delete(runId);
    const generation = output.generations?.[0]?.[0] as { text?: string; message?: BaseMessage & { usage_metadata?: UsageMetadata } } | undefined;
    const message = generation?.message;
    const legacyUsage = (output.llmOutput as { tokenUsage?: { promptTokens?: number; completionTokens?: number } } | undefined)?.tokenUsage;
    const usage = message?.usage_metadata
      ? fromUsageMetadata(message.usage_metadata)
      : legacyUsage
        ? { inputTokens: legacyUsage.promptTokens ?? 0, outputTokens: legacyUsage.completionTokens ?? 0, totalTokens: (legacyUsage.promptTokens ?? 0) + (legacyUsage.completionTokens ?? 0) }
        : undefined;
    const responseModel = (message?.response_metadata as { model_name?: string; model?: string } | undefined)?.model_name ?? (message?.response_metadata as { model?: string } | undefined)?.model;
    const { span } = call;
    if (responseModel) span.setAttribute("gen_ai.response.model", responseModel);
    const id = (message as { id?: string } | undefined)?.id;
    if (id) span.setAttribute("gen_ai.response.id", id);
    if (usage) {
      span.setAttributes({ "gen_ai.usage.input_tokens": usage.inputTokens, "gen_ai.usage.output_tokens": usage.outputTokens });
      const cost = call.model ? this.options.cost(call.model, usage) : undefined;
      if (cost !== undefined) {
        span.setAttribute("coord.cost_usd", cost);
        this.costUsd += cost;
        if (call.step) addCost(call.step.span, cost);
      }
    }
    if (this.capture && (message || generation?.text !== undefined)) {
      span.setAttribute("gen_ai.output.messages", JSON.stringify([message ? messageOf(message) : { role: "assistant", parts: [{ type: "text", content: generation?.text ?? "" }] }]));
    }
    span.end();
  }

  override handleLLMError(error: Error, runId: string): void {
    const call = this.calls.get(runId);
    if (!call) return;
    this.calls.delete(runId);
    failSpan(call.span, error);
    call.span.end();
  }

  override handleToolStart(_tool: Serialized, input: string, runId: string, _parent?: string, _tags?: string[], metadata?: Record<string, unknown>, runName?: string, toolCallId?: string): void {
    const step = this.stepFromMetadata(metadata);
    const name = runName ?? "tool";
    const span = this.tracer.startSpan(
      `execute_tool ${name}`,
      {
        kind: SpanKind.INTERNAL,
        attributes: {
          "gen_ai.operation.name": "execute_tool",
          "gen_ai.tool.name": name,
          "gen_ai.tool.type": "function",
          ...(toolCallId && { "gen_ai.tool.call.id": toolCallId }),
          ...this.where(metadata),
          ...(this.capture && { "gen_ai.tool.call.arguments": input }),
        },
      },
      step?.context ?? this.rootContext,
    );
    this.calls.set(runId, { span, ...(step && { step }) });
  }

  override handleToolEnd(output: unknown, runId: string): void {
    const call = this.calls.get(runId);
    if (!call) return;
    this.calls.delete(runId);
    if (this.capture) call.span.setAttribute("gen_ai.tool.call.result", textOf(output));
    call.span.end();
  }

  override handleToolError(error: Error, runId: string): void {
    const call = this.calls.get(runId);
    if (!call) return;
    this.calls.delete(runId);
    failSpan(call.span, error);
    call.span.end();
  }

  /** Ends every span of the segment with how it stopped, and sends them. */
  async end(stop: TraceStop): Promise<void> {
    try {
      const failed = stop.status === "failed";
      for (const { span } of this.calls.values()) {
        if (failed) span.setStatus({ code: SpanStatusCode.ERROR, message: "the run stopped" });
        span.end();
      }
      for (const { span } of this.steps.values()) {
        if (failed) span.setStatus({ code: SpanStatusCode.ERROR, message: stop.error ?? "the run failed" });
        span.end();
      }
      for (const { span } of this.phases.values()) span.end();
      this.calls.clear();
      this.steps.clear();
      this.phases.clear();
      if (stop.status === "paused") this.root.addEvent("coord.paused", { "coord.pause_reason": stop.reason ?? "unknown", ...(stop.phase !== undefined && { "coord.phase": stop.phase }), ...(stop.error && { message: stop.error }) });
      this.root.setAttributes({ "coord.status": stop.status, ...(this.costUsd > 0 && { "coord.cost_usd": this.costUsd }) });
      if (failed) this.root.setStatus({ code: SpanStatusCode.ERROR, message: stop.error ?? "failed" }).setAttribute("error.type", "coord.run_failed");
      this.root.end();
    } finally {
      await this.provider.shutdown().catch(() => undefined);
    }
  }

  private where(metadata: Record<string, unknown> | undefined): Attributes {
    return {
      ...this.attrs,
      ...(metadata?.coord_phase !== undefined && { "coord.phase": Number(metadata.coord_phase) }),
      ...(typeof metadata?.coord_role === "string" && { "coord.role": metadata.coord_role }),
      ...(typeof metadata?.coord_agent === "string" && { "gen_ai.agent.name": metadata.coord_agent }),
    };
  }

  private stepFromMetadata(metadata: Record<string, unknown> | undefined): Open | undefined {
    if (!metadata || metadata.coord_agent === undefined) return undefined;
    return this.stepOf(Number(metadata.coord_phase ?? 0), String(metadata.coord_agent), String(metadata.coord_role ?? "lead"));
  }

  /** A step's span: the one its start event opened, else one opened now (a lead's plan, the judge). */
  private stepOf(phase: number, agent: string, role: string): Open {
    const key = stepKey(phase, agent, role);
    const open = this.steps.get(key);
    if (open) return open;
    const made = this.openStep(phase, agent, role);
    this.steps.set(key, made);
    return made;
  }

  private openStep(phase: number, agent: string, role: string): Open {
    const { provider, model } = providerOf(this.options.modelOf(agent));
    const parent = phase > 0 ? this.phaseOf(phase).context : this.rootContext;
    const span = this.tracer.startSpan(
      `invoke_agent ${agent}`,
      {
        kind: SpanKind.INTERNAL,
        attributes: {
          "gen_ai.operation.name": "invoke_agent",
          "gen_ai.agent.name": agent,
          ...(provider && { "gen_ai.provider.name": provider, ...(this.legacy && { "gen_ai.system": provider }) }),
          ...(model && { "gen_ai.request.model": model }),
          ...this.attrs,
          "coord.phase": phase,
          "coord.role": role,
        },
      },
      parent,
    );
    return { span, context: trace.setSpan(ROOT_CONTEXT, span), phase };
  }

  /** A phase's span, opened by its first step; a phase opening ends the ones before it. */
  private phaseOf(phase: number): Open {
    const open = this.phases.get(phase);
    if (open) return open;
    for (const [index, earlier] of this.phases) {
      if (index >= phase) continue;
      for (const [key, step] of this.steps) {
        if (step.phase !== index) continue;
        step.span.end();
        this.steps.delete(key);
      }
      earlier.span.end();
      this.phases.delete(index);
    }
    const title = this.spec.mission.phases.find((p) => p.index === phase)?.title;
    const span = this.tracer.startSpan(`phase ${phase}`, { kind: SpanKind.INTERNAL, attributes: { ...this.attrs, "coord.phase": phase, ...(title && { "coord.phase_title": title }) } }, this.rootContext);
    const made = { span, context: trace.setSpan(ROOT_CONTEXT, span), phase };
    this.phases.set(phase, made);
    return made;
  }
}

function addCost(span: Span, cost: number): void {
  const current = (span as unknown as { attributes?: Attributes }).attributes?.["coord.cost_usd"];
  span.setAttribute("coord.cost_usd", (typeof current === "number" ? current : 0) + cost);
}

function failSpan(span: Span, error: Error): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message }).setAttribute("error.type", (error as { code?: string }).code ?? (error.name || "Error"));
}

function textOf(value: unknown): string {
  if (typeof value === "string") return value;
  const content = (value as { content?: unknown } | null)?.content;
  if (typeof content === "string") return content;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

const ROLES: Record<string, string> = { human: "user", ai: "assistant", system: "system", tool: "tool" };

/** A message as the conventions' `gen_ai.input.messages` / `gen_ai.output.messages` hold it. */
function messageOf(message: BaseMessage): { role: string; parts: Array<Record<string, unknown>> } {
  const type = typeof message.getType === "function" ? message.getType() : "ai";
  const parts: Array<Record<string, unknown>> = [];
  const text = messageText(message);
  if (text) parts.push(type === "tool" ? { type: "tool_call_response", id: (message as { tool_call_id?: string }).tool_call_id, response: text } : { type: "text", content: text });
  for (const call of (message as { tool_calls?: Array<{ id?: string; name: string; args: unknown }> }).tool_calls ?? []) parts.push({ type: "tool_call", id: call.id, name: call.name, arguments: call.args });
  return { role: ROLES[type] ?? type, parts };
}

/**
 * Starts a run segment's trace, from the environment the interface resolved: OTLP/HTTP (JSON) to
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT's /v1/traces, with
 * OTEL_EXPORTER_OTLP_HEADERS, as OTEL_SERVICE_NAME (default `coord`).
 */
export function startRunTrace(spec: RunSpec, env: Env, options: RunTraceOptions): RunTrace {
  const url = tracesUrl(env)!;
  const headers = { ...keyValues(env.OTEL_EXPORTER_OTLP_HEADERS), ...keyValues(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS) };
  const resource = resourceFromAttributes({
    ...keyValues(env.OTEL_RESOURCE_ATTRIBUTES),
    "service.name": env.OTEL_SERVICE_NAME?.trim() || "coord",
    "telemetry.sdk.language": "nodejs",
  });
  const exporter = new OTLPTraceExporter({ url, headers });
  const provider = new BasicTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] });
  return new RunTrace(provider, spec, env, options);
}
