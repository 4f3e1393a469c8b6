import type { Diagnostic } from "../../../errors.js";
import { AGENT_FILE_PATTERN, loadAgentFiles, loadAgents } from "../../../definitions/agent-registry.js";
import { expandPaths, type LoadOptions } from "../../../definitions/discover.js";
import type { Agent } from "../../../definitions/schemas/agent.js";
import { displayPath, printJson, reportDiagnostics, summarizeDiagnostics, table, truncate, type Io } from "../io.js";
import { withParseCache } from "../settings.js";

/** The JSON shape other tools read: stable field names, file relative to where coord runs. */
export function agentJson(agent: Agent, cwd: string, withBody = false) {
  // Fields by name: a body kept out of the parse cache is read from its file only when asked for.
  const { name, type, description, capabilities, priority, color, model, tools, hooks, line, extra } = agent;
  return { name, type, description, capabilities, priority, color, model, tools, hooks, file: displayPath(agent.file, cwd), line, extra, ...(withBody && { body: agent.body }) };
}

export function agentsList(io: Io, options: LoadOptions): number {
  const registry = loadAgents(withParseCache(io, options));
  if (io.json) printJson(io, registry.agents.map((a) => agentJson(a, io.cwd)));
  else {
    const rows = registry.agents.map((a) => [a.name, a.type, a.priority, truncate(a.description, 70), displayPath(a.file, io.cwd)]);
    io.out(table([["NAME", "TYPE", "PRIORITY", "DESCRIPTION", "FILE"], ...rows]));
    io.out(`\n${registry.agents.length} agents`);
  }
  summarizeDiagnostics(io, registry.diagnostics, "coord agents validate");
  return 0;
}

export function agentsShow(io: Io, name: string, options: LoadOptions): number {
  const registry = loadAgents(withParseCache(io, options));
  const agent = registry.require(name);
  reportDiagnostics(io, registry.diagnostics.filter((d) => d.file === agent.file));
  if (io.json) {
    printJson(io, agentJson(agent, io.cwd, true));
    return 0;
  }
  const hooks = Object.entries(agent.hooks);
  const fields: Array<[string, string]> = [
    ["name", agent.name],
    ["type", agent.type],
    ["priority", agent.priority],
    ["color", agent.color ?? "-"],
    ["model", agent.model ?? "(run default)"],
    ["description", agent.description],
    ["capabilities", agent.capabilities.join(", ") || "-"],
    ["tools", agent.tools.join(", ") || "-"],
    ["hooks", hooks.map(([event]) => event).join(", ") || "-"],
    ["file", `${displayPath(agent.file, io.cwd)}:${agent.line}`],
  ];
  const extra = Object.keys(agent.extra);
  if (extra.length) fields.push(["other fields", extra.join(", ")]);
  io.out(table(fields.map(([k, v]) => [`${k}:`, v])));
  io.out(`\n${agent.body}`);
  return 0;
}

export function agentsValidate(io: Io, paths: string[], options: LoadOptions): number {
  let diagnostics: Diagnostic[];
  let count: number;
  if (paths.length > 0) {
    const { files, diagnostics: pathProblems } = expandPaths(paths, AGENT_FILE_PATTERN, io.cwd);
    const registry = loadAgentFiles(files);
    diagnostics = [...pathProblems, ...registry.diagnostics];
    count = registry.agents.length;
  } else {
    const registry = loadAgents(withParseCache(io, options));
    diagnostics = registry.diagnostics;
    count = registry.agents.length;
  }
  return finishValidation(io, diagnostics, `${count} agents`);
}

/** Shared end of every validate command: all problems at once, exit 2 when any is an error. */
export function finishValidation(io: Io, diagnostics: Diagnostic[], subject: string): number {
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  if (io.json) printJson(io, { ok: errors === 0, errors, warnings: diagnostics.length - errors, diagnostics });
  else {
    reportDiagnostics(io, diagnostics);
    if (!io.quiet) io.err(`${subject}: ${errors} error${errors === 1 ? "" : "s"}, ${diagnostics.length - errors} warnings`);
  }
  return errors > 0 ? 2 : 0;
}
