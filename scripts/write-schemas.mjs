// Regenerates schemas/*.schema.json from the zod schemas (run after `npm run build`).
import { writeFileSync } from "node:fs";
import { agentFrontmatterJsonSchema } from "../dist/definitions/json-schema.js";

writeFileSync(new URL("../schemas/agent.schema.json", import.meta.url), `${JSON.stringify(agentFrontmatterJsonSchema(), null, 2)}\n`);
console.log("wrote schemas/agent.schema.json");
