import { Command, CommanderError, Option } from "commander";
import { CoordError, isCoordError } from "../../errors.js";
import { packageVersion } from "../../package.js";
import type { LoadOptions } from "../../definitions/discover.js";
import { cliErrorLine } from "../error-voice.js";
import type { Io } from "./io.js";
import type { BudgetFlags, RunFlags } from "./commands/run.js";
import type { BatchFlags } from "./commands/batch.js";

interface GlobalOptions {
  agents: string[];
  missions: string[];
  json?: boolean;
  verbose?: boolean;
  quiet?: boolean;
  db?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

function ioFor(options: GlobalOptions, streams: CliStreams): Io {
  return {
    out: (text) => streams.stdout.write(`${text}\n`),
    err: (text) => streams.stderr.write(`${text}\n`),
    errStream: streams.stderr,
    // --db is COORD_DATABASE_URL for this command: over the environment and the config file.
    env: options.db ? { ...(streams.env ?? process.env), COORD_DATABASE_URL: options.db } : (streams.env ?? process.env),
    processEnv: streams.env === undefined,
    cwd: streams.cwd,
    json: !!options.json,
    quiet: !!options.quiet,
    verbose: !!options.verbose,
  };
}

function loadOptions(options: GlobalOptions, cwd: string): LoadOptions {
  return { agentDirs: options.agents, missionDirs: options.missions, cwd };
}

/** Everything a command line runs against: tests give their own, bin/coord.js gives the process's. */
export interface CliStreams {
  stdout: { write(text: string): unknown };
  stderr: { isTTY?: boolean; write(text: string): unknown };
  cwd: string;
  /** The environment (default: process.env); `.env` is read on top of it, never into it. */
  env?: Record<string, string | undefined>;
}

/**
 * Builds the program. Each action lazily imports its command module, so `coord agents list`
 * never loads the mission parser, and nothing here loads LangChain.
 */
export function buildProgram(streams: CliStreams, setExit: (code: number) => void): Command {
  const program = new Command("coord")
    .description("Run multi-agent missions written in markdown, offline by default.")
    .version(packageVersion(), "-V, --version")
    .option("--agents <dir>", "agent folder, searched before ./agents (repeatable)", collect, [])
    .option("--missions <dir>", "mission folder, searched before ./missions (repeatable)", collect, [])
    .option("--json", "print JSON on stdout")
    .option("--verbose", "print details and stack traces on stderr")
    .option("--db <url>", "where runs live: postgres://... shared by a team (or COORD_DATABASE_URL; default SQLite under .coord/)")
    .addOption(new Option("--quiet", "print no warnings").conflicts("verbose"))
    .showSuggestionAfterError()
    .configureOutput({
      writeOut: (s) => streams.stdout.write(s),
      writeErr: (s) => streams.stderr.write(s),
    })
    .exitOverride();

  const ctx = (command: Command) => {
    const options = command.optsWithGlobals<GlobalOptions>();
    return { io: ioFor(options, streams), load: loadOptions(options, streams.cwd) };
  };

  // Every action: commander's arguments, then its options, then the command; the command's own
  // module is imported inside `run`, so each command loads only what it needs.
  type Context = ReturnType<typeof ctx>;
  const act =
    <A extends unknown[], O>(run: (c: Context, args: A, opts: O) => Promise<number> | number) =>
    async (...received: unknown[]) => {
      const command = received.at(-1) as Command;
      const opts = received.at(-2) as O;
      setExit(await run(ctx(command), received.slice(0, -2) as A, opts));
    };

  const agents = program.command("agents").description("list, show and validate agent definitions");
  agents
    .command("list")
    .description("list every agent coord can see")
    .option("--json", "print JSON on stdout")
    .action(act(async ({ io, load }) => (await import("./commands/agents.js")).agentsList(io, load)));
  agents
    .command("show")
    .description("show one agent")
    .argument("<name>", "agent name")
    .option("--json", "print JSON on stdout")
    .action(act(async ({ io, load }, [name]: [string]) => (await import("./commands/agents.js")).agentsShow(io, name, load)));
  agents
    .command("validate")
    .description("check agent files and report every problem (default: all agent folders)")
    .argument("[paths...]", "agent files or folders")
    .option("--json", "print JSON on stdout")
    .action(act(async ({ io, load }, [paths]: [string[]]) => (await import("./commands/agents.js")).agentsValidate(io, paths, load)));

  const missions = program.command("missions").description("list, show and validate missions");
  missions
    .command("list")
    .description("list every mission coord can see")
    .option("--json", "print JSON on stdout")
    .action(act(async ({ io, load }) => (await import("./commands/missions.js")).missionsList(io, load)));
  missions
    .command("show")
    .description("show a mission, named by id or path")
    .argument("<mission>", "mission id or path")
    .option("--json", "print JSON on stdout")
    .option("--graph", "print the phase/agent flow as a Mermaid diagram")
    .action(act(async ({ io, load }, [ref]: [string], opts: { graph?: boolean }) => (await import("./commands/missions.js")).missionsShow(io, ref, { ...load, graph: !!opts.graph })));
  missions
    .command("validate")
    .description("check missions and the agents they name (default: all mission folders)")
    .argument("[paths...]", "mission files or folders")
    .option("--json", "print JSON on stdout")
    .action(act(async ({ io, load }, [paths]: [string[]]) => (await import("./commands/missions.js")).missionsValidate(io, paths, load)));

  program
    .command("run")
    .description("run a mission, phase by phase (offline unless a model is configured)")
    .argument("<mission>", "mission id or path")
    .option("--inputs <dir>", "folder with one file per input, named by input id; other files are extra context")
    .option("--input <id=value>", "an input as ID=VALUE or ID=@FILE (repeatable)", collect, [])
    .option("--out <dir>", "where run folders go", "runs")
    .option("--run-id <id>", "name the run (default: mission and time)")
    .option("--approve", "pause for approval after every phase")
    .option("--deliverables <mode>", "parallel (default: a short plan, then each deliverable by its own call at once) or one-call")
    .option("--context-tokens <n>", "the models' context window in tokens, over coord's table of known ones; requests stay within it")
    .option("--judge-model <provider:model>", "the model that checks the success criteria (default: the run's model)")
    .option("--gate", "check each success criterion right after the phase that should meet it; unmet, the phase is redone, then the run pauses")
    .option("--max-redos <n>", "how often a gate sends a phase back before pausing (default 1)")
    .option("--no-hooks", "do not run agent or project hooks")
    .option("--concurrency <n>", "at most N agents at once (default: all supports of a phase)")
    .option("--hook-timeout <seconds>", "stop a hook after this long (default 60)")
    .option("--model <provider:model>", "model for every agent (default: agent's model:, COORD_MODEL, offline)")
    .option("--base-url <url>", "an OpenAI-compatible server (or COORD_BASE_URL)")
    .option("--timeout <seconds>", "per model call (default 120)")
    .option("--max-tokens <n>", "pause the run once it has used this many tokens")
    .option("--max-cost <usd>", "pause the run once it has cost this much")
    .option("--record <file>", "save every model request and response")
    .option("--replay <file>", "answer every model request from a recording, offline")
    .option("--detach", "queue the run for a `coord worker` and print its id, instead of running it here")
    .option("--json", "print the run record on stdout")
    .action(
      act(async ({ io, load }, [mission]: [string], flags: RunFlags & { detach?: boolean }) =>
        flags.detach ? (await import("./commands/worker.js")).detach(io, mission, flags, load) : (await import("./commands/run.js")).run(io, mission, flags, load),
      ),
    );
  program
    .command("batch")
    .description("queue one run of MISSION per subfolder of --inputs-each DIR, work on them, and report them as a table")
    .argument("<mission>", "mission id or path")
    .requiredOption("--inputs-each <dir>", "a folder with one subfolder of inputs per run")
    .option("--max-parallel <n>", "runs at once (default 4)")
    .option("--input <id=value>", "an input for every run, as ID=VALUE or ID=@FILE (repeatable)", collect, [])
    .option("--approve", "pause every run for approval after each phase")
    .option("--model <provider:model>", "model for every agent")
    .option("--json", "print the run records on stdout")
    .action(act(async ({ io, load }, [mission]: [string], flags: BatchFlags) => (await import("./commands/batch.js")).batch(io, mission, flags, load)));
  program
    .command("worker")
    .description("work on queued runs (coord run --detach), under renewed leases, until SIGINT or SIGTERM")
    .option("--concurrency <n>", "runs at once (default 1)")
    .option("--lease-seconds <s>", "a run is taken over by another worker this long after its worker stops renewing (default 30, or COORD_LEASE_SECONDS)")
    .option("--allow-hooks", "run the agent and project hooks of runs that allow them (they are the project's shell commands)")
    .option("--poll-ms <ms>", "how often an idle worker looks for runs (default 100)")
    .action(act(async ({ io }, _args: [], flags: { concurrency?: string; leaseSeconds?: string; allowHooks?: boolean; pollMs?: string }) => (await import("./commands/worker.js")).worker(io, flags)));
  program
    .command("resume")
    .description("continue a run that crashed, failed or was stopped; finished steps are not redone")
    .argument("<run-id>")
    .option("--max-tokens <n>", "a higher token budget for a run paused on its budget")
    .option("--max-cost <usd>", "a higher cost budget for a run paused on its budget")
    .option("--json", "print the run record on stdout")
    .action(act(async ({ io }, [runId]: [string], flags: BudgetFlags) => (await import("./commands/run.js")).resume(io, runId, undefined, flags)));
  program
    .command("approve")
    .description("approve the phase a run paused on, and continue")
    .argument("<run-id>")
    .option("--note <text>", "a note kept with the approval")
    .option("--json", "print the run record on stdout")
    .action(act(async ({ io }, [runId]: [string], flags: { note?: string }) => (await import("./commands/run.js")).resume(io, runId, { action: "approve", ...(flags.note && { note: flags.note }) })));
  program
    .command("reject")
    .description("redo the paused phase's lead step with your feedback, then pause again")
    .argument("<run-id>")
    .requiredOption("--note <text>", "what to change")
    .option("--json", "print the run record on stdout")
    .action(act(async ({ io }, [runId]: [string], flags: { note: string }) => (await import("./commands/run.js")).resume(io, runId, { action: "reject", note: flags.note })));
  program
    .command("check")
    .description("judge a completed run's success criteria again (a stronger model, say), running no agent")
    .argument("<run-id>")
    .option("--judge-model <provider:model>", "the model that judges (default: the run's judge, else its model)")
    .option("--json", "print the run record on stdout")
    .action(act(async ({ io }, [runId]: [string], flags: { judgeModel?: string }) => (await import("./commands/run.js")).check(io, runId, flags)));
  program
    .command("models")
    .description("show the configured model, providers and which API keys are set (never their values)")
    .option("--json", "print JSON on stdout")
    .action(act(async ({ io, load }) => (await import("./commands/models.js")).modelsReport(io, load)));
  program
    .command("slash")
    .description('run one slash command, as a chat bot would: coord slash "/coord list"')
    .argument("<text>", "the command text, with or without /coord")
    .option("--json", "print the reply as JSON")
    .action(act(async ({ io, load }, [text]: [string]) => (await import("./commands/slash.js")).slash(io, text, load)));
  program
    .command("install")
    .description("install /coord into a chat tool: claude-code")
    .argument("<target>", "claude-code")
    .option("--force", "replace a different command file or coord entry in .mcp.json")
    .action(
      act(async ({ io }, [target]: [string], flags: { force?: boolean }) => {
        if (target !== "claude-code") throw new CoordError("USAGE", `coord cannot install into "${target}"`, { hint: "use: coord install claude-code" });
        return (await import("./commands/slash.js")).installClaudeCode(io, !!flags.force);
      }),
    );
  program
    .command("serve")
    .description("serve Slack slash commands and a JSON API for runs over HTTP")
    .option("--host <host>", "address to bind (other than loopback needs COORD_API_TOKEN)", "127.0.0.1")
    .option("--port <n>", "port (0 picks a free one)", "8787")
    .option("--workers <n>", "runs this server works on at once; 0 to only serve and leave runs to `coord worker` processes", "1")
    .action(act(async ({ io, load }, _args: [], flags: { host: string; port: string; workers: string }) => (await import("./commands/serve.js")).serve(io, flags, load)));
  program
    .command("langgraph")
    .description("serve the missions with LangGraph's own tools: init writes langgraph.json for `npx @langchain/langgraph-cli dev` and LangGraph Studio")
    .argument("<action>", "init")
    .option("--approve", "pause every thread after each phase for approve or reject")
    .option("--force", "replace a coord-graphs.mjs that coord did not write")
    .option("--json", "print what was written as JSON")
    .action(
      act(async ({ io, load }, [action]: [string], flags: { approve?: boolean; force?: boolean }) => {
        if (action !== "init") throw new CoordError("USAGE", `coord langgraph has no "${action}"`, { hint: "use: coord langgraph init" });
        return (await import("./commands/langgraph.js")).langgraphInit(io, load, flags);
      }),
    );
  program
    .command("mcp")
    .description("serve the Model Context Protocol over stdio: missions as prompts, runs as tools")
    .action(act(async ({ io, load }) => (await import("./commands/serve.js")).mcp(io, load)));
  const runs = program.command("runs").description("list, show, wait for, export and prune runs of this project");
  runs
    .command("list")
    .option("--json", "print JSON on stdout")
    .action(act(async ({ io }) => (await import("./commands/runs.js")).runsList(io)));
  runs
    .command("wait")
    .description("wait for a run to complete, pause or fail; exit as coord run would")
    .argument("<run-id>")
    .option("--timeout <seconds>", "give up after this long (exit 1)")
    .option("--json", "print the run record on stdout")
    .action(act(async ({ io }, [runId]: [string], flags: { timeout?: string }) => (await import("./commands/worker.js")).waitRun(io, runId, flags)));
  runs
    .command("show")
    .argument("<run-id>")
    .option("--json", "print JSON on stdout")
    .action(act(async ({ io }, [runId]: [string]) => (await import("./commands/runs.js")).runsShow(io, runId)));
  runs
    .command("export")
    .description("write a run's folder anew from its spec and last checkpoint, even after the folder was deleted")
    .argument("<run-id>")
    .option("--out <dir>", "where to write it (default: exports/RUN_ID); must be empty unless --force")
    .option("--force", "write into a folder that is not empty, replacing the files coord writes")
    .option("--json", "print the exported run.json on stdout")
    .action(act(async ({ io }, [runId]: [string], flags: { out?: string; force?: boolean }) => (await import("./commands/runs.js")).runsExport(io, runId, flags)));
  runs
    .command("stats")
    .description("runs by status, p50/p95 duration, tokens and cost by mission and by agent, cache savings, the slowest steps")
    .option("--mission <id>", "only this mission's runs")
    .option("--since <age>", "only runs started in the last 30d, 12h or 45m (minutes)")
    .option("--json", "print JSON on stdout")
    .action(act(async ({ io }, _args: [], flags: { mission?: string; since?: string }) => (await import("./commands/runs.js")).runsStats(io, flags)));
  runs
    .command("prune")
    .description("delete finished runs (completed or failed) older than --older-than: checkpoints, spec, queue entry, folder")
    .requiredOption("--older-than <age>", "finished longer ago than this: 30d, 12h or 45m (minutes)")
    .option("--dry-run", "list what would be removed; remove nothing")
    .option("--json", "print JSON on stdout")
    .action(act(async ({ io }, _args: [], flags: { olderThan: string; dryRun?: boolean }) => (await import("./commands/runs.js")).runsPrune(io, flags)));

  return program;
}

/** Runs one command line; returns the exit code. Only bin/coord.js exits the process. */
export async function main(argv: string[], streams: CliStreams = { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd() }): Promise<number> {
  let code = 0;
  const program = buildProgram(streams, (c) => (code = c));
  const verbose = argv.includes("--verbose");
  try {
    await program.parseAsync(argv, { from: "user" });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; every other commander error is a malformed command line.
      return error.exitCode === 0 || error.code === "commander.helpDisplayed" || error.code === "commander.version" ? 0 : 2;
    }
    streams.stderr.write(`${cliErrorLine(error, streams.cwd)}\n`);
    const stack = (error as Error)?.stack;
    if (isCoordError(error)) {
      if (verbose && stack) streams.stderr.write(`${stack}\n`);
      return error.exitCode;
    }
    // Not a CoordError: our bug. The line above asks for a report; the stack helps with it.
    if (stack) streams.stderr.write(verbose ? `${stack}\n` : "run again with --verbose for the stack trace to report\n");
    return 1;
  }
}
