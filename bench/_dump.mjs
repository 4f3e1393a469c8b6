import { readFileSync, writeFileSync } from "node:fs";
import { execSync } from "node:child_process";
const { parseMission } = await import(process.argv[3]);
const files = execSync("find ../shared/corpus test/fixtures missions examples -name '*.md'", { encoding: "utf8" }).trim().split("\n").sort();
const out = {};
for (const f of files) { try { out[f] = parseMission(readFileSync(f, "utf8"), f); } catch (e) { out[f] = { error: String(e) }; } }
writeFileSync(process.argv[2], JSON.stringify(out, null, 1));
console.log(files.length);
