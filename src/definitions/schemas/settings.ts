import * as z from "zod";

/** USD per million tokens. */
export const PriceSchema = z.strictObject({
  input: z.number().nonnegative().describe("USD per million input tokens."),
  output: z.number().nonnegative().describe("USD per million output tokens."),
  cachedInput: z.number().nonnegative().optional().describe("USD per million input tokens read from the provider's prompt cache (default: input)."),
  cacheWrite: z.number().nonnegative().optional().describe("USD per million input tokens written to the prompt cache (default: input)."),
});

/** One MCP server, as Claude Code's `.mcp.json` writes it. */
export const McpServerSchema = z.object({
  type: z.enum(["stdio", "http", "sse"]).optional(),
  command: z.string().optional(),
  args: z.array(z.string()).optional(),
  env: z.record(z.string(), z.string()).optional(),
  url: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
});

const positiveInt = () => z.number().int().positive();

/**
 * Everything a run can be configured with, and the only definition of it. The CLI, slash
 * commands, MCP, HTTP and the library all resolve one of these (see `resolveSettings`) and pass
 * it down; its defaults are the library's defaults. `coord.config.json` is this object with
 * every field optional, and `schemas/settings.schema.json` is generated from it.
 */
export const SettingsSchema = z.strictObject({
  $schema: z.string().optional().describe("Path or URL of this file's JSON Schema, for editors."),
  models: z
    .strictObject({
      default: z.string().min(1).optional().describe("The run's model for agents that name none: provider:model or offline (COORD_MODEL)."),
      override: z.string().min(1).optional().describe("A model for every agent, over their own `model:` (--model)."),
      baseUrl: z.url().optional().describe("An OpenAI-compatible server for openai: models (--base-url, COORD_BASE_URL)."),
      timeoutMs: positiveInt().default(120_000).describe("Per model call, in milliseconds (--timeout takes seconds)."),
      judge: z.string().min(1).optional().describe("The model that checks the success criteria: provider:model or offline (--judge-model; default: the run's model)."),
      contextTokens: positiveInt()
        .optional()
        .describe("The context window of the run's models, in tokens, over coord's table of known windows (--context-tokens); requests stay within it."),
      retries: z.number().int().min(0).max(20).default(4).describe("Retries of a call refused with 429, 5xx or a network error."),
      maxInflight: positiveInt()
        .default(8)
        .describe("Model calls at once to one provider (one server or API), shared by every step and run in the process; a 429 holds all of them until its Retry-After."),
      prices: z.record(z.string(), PriceSchema).default({}).describe("USD per million tokens by model spec, added to or overriding the built-in table."),
      record: z.string().optional().describe("Save every model request and answer to this file (--record)."),
      replay: z.string().optional().describe("Answer every model request from this recording, offline (--replay)."),
    })
    .prefault({}),
  budget: z
    .strictObject({
      maxTokens: positiveInt().optional().describe("Pause the run once it has used this many tokens (--max-tokens)."),
      maxCostUsd: z.number().positive().optional().describe("Pause the run once it has cost this much, in USD (--max-cost)."),
    })
    .prefault({}),
  concurrency: positiveInt().optional().describe("At most this many agent steps at once (default: every support of a phase)."),
  approve: z.boolean().default(false).describe("Pause for approval after every phase (--approve)."),
  criteria: z
    .strictObject({
      gate: z.boolean().default(false).describe("Check each success criterion right after the phase that should meet it, and send that phase back when it does not (--gate)."),
      maxRedos: z.number().int().min(0).max(5).default(1).describe("How often a gate sends a phase's lead back before the run pauses for a person (--max-redos)."),
    })
    .prefault({}),
  deliverables: z
    .enum(["parallel", "one-call"])
    .default("parallel")
    .describe("How a lead writes a phase's deliverables: parallel (a short plan, then one call per deliverable at once) or one-call (all in one generation) (--deliverables)."),
  hooks: z
    .strictObject({
      enabled: z.boolean().default(true).describe("Run agent and project hooks (--no-hooks turns them off; remote callers never run them)."),
      timeoutMs: positiveInt().default(60_000).describe("Stop a hook after this long, in milliseconds (--hook-timeout takes seconds)."),
    })
    .prefault({}),
  mcpServers: z.record(z.string(), McpServerSchema).default({}).describe("MCP servers agents may use as tools, besides the project's .mcp.json."),
  remote: z
    .strictObject({
      allowFileInputs: z.boolean().default(false).describe("Let chat, HTTP and MCP callers pass key=@file inputs (inside the project only)."),
      slackApprovers: z.array(z.string()).default([]).describe("Slack user ids who may approve or reject any run (COORD_SLACK_APPROVERS)."),
      slackResponseHosts: z
        .array(z.string())
        .default(["hooks.slack.com"])
        .describe("Hosts Slack replies may be posted to (COORD_SLACK_RESPONSE_HOSTS adds to hooks.slack.com)."),
    })
    .prefault({}),
  home: z.string().default(".coord").describe("Where coord keeps checkpoints and run specs, relative to the project (COORD_HOME)."),
  database: z
    .string()
    .min(1)
    .optional()
    .describe("Where runs live: unset for SQLite under home (one machine); postgres://USER:PASSWORD@HOST/DB[?schema=NAME] for a team (COORD_DATABASE_URL, --db)."),
  workers: z
    .strictObject({
      leaseMs: positiveInt()
        .default(30_000)
        .describe("How long a worker's hold on a run lasts unrenewed: a worker killed mid-run is replaced after this (--lease-seconds, COORD_LEASE_SECONDS)."),
    })
    .prefault({}),
});

/** Resolved settings: every default filled in. */
export type Settings = z.infer<typeof SettingsSchema>;
/** Settings as a caller or a file gives them: every field optional. */
export type SettingsInput = z.input<typeof SettingsSchema>;
