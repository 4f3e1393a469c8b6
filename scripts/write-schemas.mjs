// Regenerates schemas/*.schema.json from the zod schemas (run after `npm run build`).
import { writeFileSync } from "node:fs";
import { JSON_SCHEMAS } from "../dist/definitions/json-schema.js";

for (const [file, generate] of Object.entries(JSON_SCHEMAS)) {
  writeFileSync(new URL(`../schemas/${file}`, import.meta.url), `${JSON.stringify(generate(), null, 2)}\n`);
  console.log(`wrote schemas/${file}`);
}
