import { readFileSync } from "node:fs";
import { join } from "node:path";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";
import { loadMissions } from "../../definitions/mission-catalog.js";
import type { Mission } from "../../definitions/schemas/mission.js";
import type { RunOutcome } from "../../runtime/run.js";
import { getRun, resumeRun, runMission } from "../../runtime/run.js";
import { mcpErrorText } from "../error-voice.js";
import { handleSlash } from "../slash/handle.js";
import { remoteRecord, remoteRunSettings, requireMissionId, type SurfaceContext } from "../surface.js";

export type McpOptions = SurfaceContext;

type ToolAnswer = { content: Array<{ type: "text"; text: string }>; isError?: boolean };

function text(body: string, isError = false): ToolAnswer {
  return { content: [{ type: "text", text: body }], ...(isError && { isError: true }) };
}

/** A tool's failure as text the calling model can act on, never a protocol error. */
async function answer(cwd: string, work: () => Promise<string>): Promise<ToolAnswer> {
  try {
    return text(await work());
  } catch (error) {
    return text(mcpErrorText(error, cwd), true);
  }
}

/** What a run tool returns: the run's status line and its report. */
function runAnswer(outcome: RunOutcome): string {
  const { record } = outcome;
  const head = `run ${record.runId}: ${record.status}${record.reason ? ` (${record.reason})` : ""}${record.error ? ` — ${record.error}` : ""}`;
  return `${head}\n\n${readFileSync(join(record.runDir, "report.md"), "utf8")}`;
}

/** A mission's inputs as prompt arguments: strings, optional where the mission says. */
function promptArgs(mission: Mission): Record<string, z.ZodString | z.ZodOptional<z.ZodString>> {
  return Object.fromEntries(mission.inputs.map((input) => [input.id, (input.required ? z.string() : z.string().optional()).describe(input.description || input.title)]));
}

function promptText(mission: Mission, args: Record<string, string | undefined>): string {
  const given = Object.entries(args).filter(([, v]) => v);
  return [
    `Run the coord mission "${mission.title}" (id \`${mission.id}\`) with the run_mission tool, then summarise its deliverables for me.`,
    mission.objective ? `\nObjective: ${mission.objective}` : "",
    `\nPhases: ${mission.phases.map((p) => `${p.index}. ${p.title} (lead ${p.lead})`).join("; ")}`,
    `\nInputs for run_mission:\n${JSON.stringify(Object.fromEntries(given), null, 2)}`,
  ].join("\n");
}

/**
 * coord as an MCP server: each mission is a prompt (MCP clients show prompts as slash commands,
 * with the mission's inputs as arguments), and runs are tools. Runs started here run no hooks.
 */
export function createMcpServer(options: McpOptions): McpServer {
  const server = new McpServer({ name: "coord", version: "0.1.0" });
  const catalog = loadMissions({ ...options.load, cwd: options.cwd });
  for (const mission of catalog.missions) {
    server.registerPrompt(
      mission.id,
      { title: mission.title, description: `${mission.title}: ${mission.phases.length} phase(s). ${mission.objective}`.slice(0, 500), argsSchema: promptArgs(mission) },
      (args) => ({ messages: [{ role: "user" as const, content: { type: "text" as const, text: promptText(mission, args as Record<string, string | undefined>) } }] }),
    );
  }
  const runSettings = remoteRunSettings(options.settings);
  const { cwd, env } = options;
  server.registerTool("list_missions", { description: "List the missions coord can run, with their inputs.", inputSchema: {} }, async () =>
    answer(cwd, async () =>
      JSON.stringify(
        catalog.missions.map((m) => ({ id: m.id, title: m.title, phases: m.phases.length, inputs: m.inputs.map(({ id, required, description }) => ({ id, required, description })) })),
        null,
        2,
      ),
    ),
  );
  server.registerTool(
    "run_mission",
    {
      description: "Run a coord mission and return its report. inputs maps each input id to its text.",
      inputSchema: { mission: z.string().describe("Mission id, from list_missions"), inputs: z.record(z.string(), z.string()).optional().describe("Input id -> text") },
    },
    async ({ mission, inputs }) =>
      answer(cwd, async () => {
        requireMissionId(mission);
        return runAnswer(await runMission({ ...options.load, cwd, mission, inputValues: inputs ?? {}, settings: runSettings, env }));
      }),
  );
  server.registerTool("get_run", { description: "The run record (status, phases, deliverables, usage) of a run.", inputSchema: { runId: z.string() } }, async ({ runId }) =>
    answer(cwd, async () => JSON.stringify(remoteRecord(getRun(runId, { cwd, settings: options.settings }), cwd), null, 2)),
  );
  server.registerTool(
    "approve_run",
    { description: "Approve the phase a run paused on and continue it; returns the report.", inputSchema: { runId: z.string(), note: z.string().optional() } },
    async ({ runId, note }) => answer(cwd, async () => runAnswer(await resumeRun(runId, { cwd, settings: options.settings, env, decision: { action: "approve", ...(note && { note }) } }))),
  );
  server.registerTool(
    "slash",
    {
      description:
        "Run one /coord command as chat users type it and get the chat reply: `help`, `list`, `MISSION [--approve] key=value key=\"quoted value\"`, `status RUN_ID`, `approve RUN_ID [note]`, `reject RUN_ID note`. Pass the user's text verbatim.",
      inputSchema: { text: z.string().describe('The command text, with or without its leading /coord, e.g. /coord launch goal="grow ARR"') },
    },
    // The same handler as every chat surface, untrusted: no hooks, no file reads unless allowed.
    async ({ text: command }) => {
      const reply = await handleSlash(command, { ...options, trusted: false });
      return text(reply.text, !reply.ok);
    },
  );
  return server;
}

/** `coord mcp`: serves over stdio until the client closes the connection. */
export async function serveMcp(options: McpOptions, report: (line: string) => void = () => {}): Promise<number> {
  const server = createMcpServer(options);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once("end", () => resolve());
  });
  await server.connect(transport);
  // The transport closes itself on a message over its size limit; say so, rather than end as if
  // the client had hung up.
  let fatal: Error | undefined;
  const protocolOnError = transport.onerror;
  transport.onerror = (error) => {
    if (/exceeded maximum size/.test(error.message)) fatal = error;
    protocolOnError?.(error);
  };
  await closed;
  await server.close();
  if (!fatal) return 0;
  report(`coord mcp: a message from the client was too large (${fatal.message}); the connection is closed`);
  return 1;
}
