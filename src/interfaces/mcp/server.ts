import { existsSync, readFileSync } from "node:fs";
import { criteriaSummary } from "../../runtime/verdicts.js";
import { join } from "node:path";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import * as z from "zod";
import { loadMissions } from "../../definitions/mission-catalog.js";
import type { Mission } from "../../definitions/schemas/mission.js";
import { awaitsDecision, type RunRecord } from "../../runtime/record.js";
import type { CallToolResult, ServerNotification } from "@modelcontextprotocol/sdk/types.js";
import type { CreateTaskRequestHandlerExtra } from "@modelcontextprotocol/sdk/experimental/tasks";
import { InFlightRuns, stepsOf, type Progress } from "../in-flight.js";
import { checkRunId } from "../../runtime/store.js";
import { withStore } from "../../runtime/store/open-store.js";
import { requireNotWithWorker } from "../../service/busy.js";
import { actor, stampDecision } from "../../runtime/state.js";
import { getRun, resumeRun, runMission } from "../../runtime/run.js";
import { mcpErrorText } from "../error-voice.js";
import { handleSlash, recordReply } from "../slash/handle.js";
import { remoteRecord, remoteRunSettings, requireMissionId, type SurfaceContext } from "../surface.js";
import { RunTaskStore } from "./tasks.js";

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

/** Who started a run or decided on it, in run.json: MCP clients do not say who their user is. */
const MCP_CALLER = actor("mcp");

/** How long a run tool waits for the run before answering with where it stands. */
const DEFAULT_WAIT_SECONDS = 20;
/** How often a client should poll a run_mission task (tasks/get), in milliseconds. */
const TASK_POLL_MS = 1000;
/** How long a run_mission task waits on its run at a time, in seconds. */
const TASK_FOLLOW_SECONDS = 300;

type ToolExtra = { _meta?: { progressToken?: string | number }; sendNotification: (notification: ServerNotification) => Promise<void> };

/** What a run tool returns once the run has stopped: its status line and its report. */
function recordAnswer(record: RunRecord): string {
  const criteria = criteriaSummary(record.criteria);
  const head = `run ${record.runId}: ${record.status}${record.reason ? ` (${record.reason})` : ""}${record.error ? ` — ${record.error}` : ""}${criteria ? `; ${criteria}` : ""}`;
  // A run carried on by a worker on another machine has its report there: the record tells enough.
  const report = join(record.runDir, "report.md");
  return `${head}\n\n${existsSync(report) ? readFileSync(report, "utf8") : recordReply(record, "/")}`;
}

function firstLine(answer: ToolAnswer): string {
  return answer.content[0]!.text.split("\n")[0]!;
}

/** What a run tool returns while the run goes on: where it stands and how to wait again. */
function stillRunning(record: RunRecord, progress: { stepsDone: number; totalSteps: number } | undefined): string {
  const phase = record.phases.find((p) => p.status === "running") ?? record.phases.find((p) => p.status === "pending");
  const steps = progress ? `, ${progress.stepsDone} of ${progress.totalSteps} agent steps done` : "";
  const where = phase ? ` (phase ${phase.index} of ${record.phases.length}: ${phase.title}${steps})` : "";
  return `run ${record.runId}: running${where}. It carries on; call wait_run with {"runId": "${record.runId}"} to wait for it, or get_run for its record.`;
}

/** Progress notifications for a caller that sent a progressToken: one per finished agent step. */
function progressSender(extra: ToolExtra): ((progress: Progress) => void) | undefined {
  const token = extra._meta?.progressToken;
  if (token === undefined) return undefined;
  return (progress) =>
    void extra
      .sendNotification({ method: "notifications/progress", params: { progressToken: token, progress: progress.progress, total: progress.totalSteps, message: progress.message } })
      .catch(() => {});
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
  // MCP tasks (experimental in the SDK): a client that asks gets run_mission as a task it polls.
  const tasks = new RunTaskStore();
  const server = new McpServer({ name: "coord", version: "0.1.0" }, { capabilities: { tasks: { list: {}, requests: { tools: { call: {} } } } }, taskStore: tasks });
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
  const flights = new InFlightRuns();
  const stepsOfMission = (id: string) => {
    const found = catalog.missions.find((m) => m.id === id);
    return found ? stepsOf(found) : 0;
  };
  const stepsOfRun = async (runId: string) => flights.progressOf(runId)?.totalSteps ?? stepsOfMission((await getRun(runId, { cwd, settings: options.settings })).mission);
  /** Waits on a run: its record once it has stopped (finished, paused, failed), or as it stands. */
  const waitRecord = async (runId: string, seconds: number, onProgress?: (progress: Progress) => void): Promise<{ stopped: boolean; record: RunRecord }> => {
    const outcome = await flights.wait(runId, seconds, onProgress);
    if (outcome) return { stopped: true, record: outcome.record };
    const record = await getRun(runId, { cwd, settings: options.settings });
    return { stopped: record.status !== "running", record };
  };
  /** Waits on a run for the caller, then answers with its report, or with where it stands. */
  const waitAnswer = async (runId: string, seconds: number, extra: ToolExtra): Promise<string> => {
    const { stopped, record } = await waitRecord(runId, seconds, progressSender(extra));
    return stopped ? recordAnswer(record) : stillRunning(record, flights.progressOf(runId));
  };
  /** Where a run that goes on stands, as run_mission says it. */
  const whereRun = async (runId: string) => stillRunning(await getRun(runId, { cwd, settings: options.settings }), flights.progressOf(runId));
  const wait = z.number().min(0).max(3600).default(DEFAULT_WAIT_SECONDS).describe("Seconds to wait for the run to finish or pause before answering with where it stands; it carries on either way.");

  const startRun = (mission: string, inputs: Record<string, string> | undefined): Promise<string> => {
    requireMissionId(mission);
    return flights.start(stepsOfMission(mission), (onEvent) => runMission({ ...options.load, cwd, mission, inputValues: inputs ?? {}, settings: runSettings, env, onEvent, startedBy: MCP_CALLER }));
  };

  /**
   * A run_mission task's work: follows the run it started until the run stops, telling the task
   * (and a caller that sent a progressToken) of each finished step, then stores what run_mission
   * answers. A pause ends the task too: the decision is approve_run's or reject_run's, by run id.
   */
  const followTask = async (runId: string, taskId: string, extra: CreateTaskRequestHandlerExtra): Promise<void> => {
    const sendProgress = progressSender(extra);
    let updates = Promise.resolve();
    const onProgress = (progress: Progress) => {
      sendProgress?.(progress);
      updates = updates.then(async () => extra.taskStore.updateTaskStatus(taskId, "working", await whereRun(runId))).catch(() => {});
    };
    let status: "completed" | "failed";
    let result: ToolAnswer;
    let message: string;
    try {
      let stopped = false;
      let record: RunRecord | undefined;
      while (!stopped) {
        ({ stopped, record } = await waitRecord(runId, TASK_FOLLOW_SECONDS, onProgress));
        // Still "running" on record, yet no longer driven by this process: nothing will end it here.
        if (!stopped && !flights.progressOf(runId)) break;
      }
      if (!stopped || !record) {
        status = "failed";
        result = text(`run ${runId}: ${record?.status ?? "unknown"}, and no longer driven by this server; call get_run for its record.`, true);
      } else {
        status = record.status === "failed" ? "failed" : "completed";
        result = text(recordAnswer(record));
      }
      message = firstLine(result);
      if (record && awaitsDecision(record)) message += `. It waits for a decision: call approve_run or reject_run with {"runId": "${runId}"}.`;
      // A budget is raised by whoever runs the server, never by a remote caller.
      else if (record?.status === "paused") message += ". It stopped at its budget: the server's operator can resume it with a higher one.";
    } catch (error) {
      status = "failed";
      result = text(mcpErrorText(error, cwd), true);
      message = firstLine(result);
    }
    await updates;
    tasks.describe(taskId, message);
    await extra.taskStore.storeTaskResult(taskId, status, result).catch(() => {});
  };

  server.experimental.tasks.registerToolTask(
    "run_mission",
    {
      description: `Start a coord mission. Returns its report if it finishes or pauses within wait_seconds (default ${DEFAULT_WAIT_SECONDS}), otherwise its run id and progress while it carries on: call wait_run to wait again. inputs maps each input id to its text. Called as an MCP task, it returns the task at once and the task ends, with the same answer, when the run finishes or pauses (wait_seconds does not apply); its status message names the run id.`,
      inputSchema: { mission: z.string().describe("Mission id, from list_missions"), inputs: z.record(z.string(), z.string()).optional().describe("Input id -> text"), wait_seconds: wait },
      execution: { taskSupport: "optional" },
    },
    {
      createTask: async ({ mission, inputs, wait_seconds }, extra) => {
        const task = await extra.taskStore.createTask({ ttl: extra.taskRequestedTtl, pollInterval: TASK_POLL_MS });
        if (tasks.isStandIn(task.taskId)) {
          // The caller did not ask for a task: the SDK polls this one for it, and it answers as ever.
          const answered = await answer(cwd, async () => waitAnswer(await startRun(mission, inputs), wait_seconds, extra));
          await tasks.storeTaskResult(task.taskId, "completed", answered);
          return { task: (await tasks.getTask(task.taskId))! };
        }
        let runId: string;
        try {
          runId = await startRun(mission, inputs);
        } catch (error) {
          // The run did not start (a missing input, an unknown mission): the task fails with the reason.
          const failure = text(mcpErrorText(error, cwd), true);
          tasks.describe(task.taskId, firstLine(failure));
          await tasks.storeTaskResult(task.taskId, "failed", failure);
          return { task: (await tasks.getTask(task.taskId))! };
        }
        tasks.describe(task.taskId, await whereRun(runId).catch(() => `run ${runId}: running`));
        void followTask(runId, task.taskId, extra);
        return { task: (await tasks.getTask(task.taskId))! };
      },
      getTask: async (_args, extra) => extra.taskStore.getTask(extra.taskId),
      getTaskResult: async (_args, extra) => (await extra.taskStore.getTaskResult(extra.taskId)) as CallToolResult,
    },
  );
  server.registerTool(
    "wait_run",
    { description: "Wait up to wait_seconds for a run to finish or pause; returns its report, or where it stands.", inputSchema: { runId: z.string(), wait_seconds: wait } },
    async ({ runId, wait_seconds }, extra) => answer(cwd, () => waitAnswer(runId, wait_seconds, extra)),
  );
  server.registerTool("get_run", { description: "The run record (status, phases, deliverables, usage) of a run.", inputSchema: { runId: z.string() } }, async ({ runId }) =>
    answer(cwd, async () => JSON.stringify(remoteRecord(await getRun(runId, { cwd, settings: options.settings }), cwd), null, 2)),
  );
  for (const action of ["approve", "reject"] as const) {
    server.registerTool(
      `${action}_run`,
      {
        description:
          action === "approve"
            ? "Approve the phase a run paused on and continue it; answers like wait_run."
            : "Have the lead redo the phase a run paused on, with your note saying what to change; answers like wait_run.",
        inputSchema: { runId: z.string(), note: action === "approve" ? z.string().optional() : z.string().min(1), wait_seconds: wait },
      },
      async ({ runId, note, wait_seconds }, extra) =>
        answer(cwd, async () => {
          const decision = stampDecision(action === "approve" ? { action, ...(note && { note }), by: MCP_CALLER } : { action, note: note ?? "", by: MCP_CALLER });
          checkRunId(runId);
          await withStore(cwd, options.settings, (store) => requireNotWithWorker(store, runId));
          flights.resume(runId, await stepsOfRun(runId), (onEvent) => resumeRun(runId, { cwd, settings: options.settings, env, decision, onEvent }));
          return waitAnswer(runId, wait_seconds, extra);
        }),
    );
  }
  server.registerTool(
    "slash",
    {
      description:
        "Run one /coord command as chat users type it and get the chat reply: `help`, `list`, `MISSION [--approve] key=value key=\"quoted value\"`, `status RUN_ID`, `approve RUN_ID [note]`, `reject RUN_ID note`. Pass the user's text verbatim.",
      inputSchema: { text: z.string().describe('The command text, with or without its leading /coord, e.g. /coord launch goal="grow ARR"') },
    },
    // The same handler as every chat surface, untrusted: no hooks, no file reads unless allowed.
    async ({ text: command }) => {
      const reply = await handleSlash(command, { ...options, trusted: false, user: MCP_CALLER });
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
