// The loaders in one place for library users; the CLI imports the two halves separately so that
// listing agents never loads the markdown parser that missions need.
export type { LoadOptions, SearchRoot } from "./discover.js";
export { expandPaths } from "./discover.js";
export { AGENT_FILE_PATTERN, AgentRegistry, agentSearchRoots, loadAgentFiles, loadAgents } from "./agent-registry.js";
export { MISSION_FILE_PATTERN, MissionCatalog, loadMission, loadMissionFile, loadMissions, missionSearchRoots } from "./mission-catalog.js";
