/**
 * coord as a library: load agents and missions, compile a mission into a LangGraph graph (to run
 * it, or to embed it in another graph as a subgraph or a tool), and run it with checkpoints.
 * The CLI, slash commands, MCP and HTTP servers are thin layers over these functions.
 */

/** Definitions: the agent, mission and prompt-template formats and their loaders. */
export { parseAgent } from "./definitions/agent.js";
export { parseMission } from "./definitions/mission.js";
export { AgentRegistry, loadAgents, loadAgentFiles } from "./definitions/agent-registry.js";
export { MissionCatalog, loadMission, loadMissions } from "./definitions/mission-catalog.js";
export { validateMissionAgents } from "./definitions/validate.js";
export { planMission } from "./definitions/plan.js";
export { missionToMermaid } from "./definitions/mermaid.js";
export { AgentFrontmatterSchema, AgentSchema, type Agent } from "./definitions/schemas/agent.js";
export { MissionSchema, PhaseSchema, MissionInputSchema, type Mission, type Phase, type MissionInput } from "./definitions/schemas/mission.js";
export type { LoadOptions } from "./definitions/discover.js";
export { SettingsSchema, type Settings, type SettingsInput } from "./definitions/schemas/settings.js";
export { loadSettings, resolveSettings, type SettingsSources } from "./definitions/settings.js";

/** Runtime: the mission graph, runs with checkpoints, and a mission as a LangChain tool. */
export { compileMission, recursionLimitFor, type CompiledMission, type CompileOptions, type StepEffects, type StepInfo } from "./runtime/compile.js";
export {
  RunState as MissionState,
  type RunStateValue as MissionStateValue,
  type RunStateUpdate as MissionStateUpdate,
  type ReviewDecision,
  type CallRecord,
  type Usage,
} from "./runtime/state.js";
export { runMission, resumeRun, getRun, listRuns, type RunOptions, type ResumeOptions, type RunsOptions, type RunOutcome, type RunEvent } from "./runtime/run.js";
export type { Env } from "./runtime/events.js";
export { openStore, withStore } from "./runtime/store/open-store.js";
export { closePostgresPools } from "./runtime/store/postgres-store.js";
export type { RunStore, RunQueue, Lease } from "./runtime/store/run-store.js";
export type { RunRecord, RunStatus } from "./runtime/record.js";
export { missionTool, deliverablesMarkdown, type MissionToolOptions } from "./runtime/mission-tool.js";
export { missionInputSchema, missionGraphInputSchema } from "./runtime/input-schema.js";
export { missionGraph, type MissionGraphOptions } from "./runtime/mission-graph.js";

/** Service: statistics over a project's runs, as `coord runs stats` prints them; a project's LangGraph server files. */
export { initLanggraph, GRAPH_MODULE, type LanggraphInit, type LanggraphInitOptions } from "./service/langgraph-project.js";
export { runStats, readStepTimes, percentile, type RunStats, type StatsOptions, type StepTime, type MissionStats, type AgentStats, type UsageTotals, type DurationStats } from "./service/stats.js";

/** Models: the offline model and provider resolution. */
export { OfflineChatModel, OFFLINE_NOTICE } from "./models/offline.js";
export { createModel, type ModelSettings } from "./models/resolve.js";

/** Errors: one class with stable codes. */
export { CoordError, isCoordError, ERROR_CODES, formatDiagnostic, type Diagnostic, type ErrorCode } from "./errors.js";
