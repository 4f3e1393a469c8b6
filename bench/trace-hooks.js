// Module resolve hook (runs on Node's loader thread): appends every resolved URL under
// node_modules to the file named by TRACE_FILE. Registered by bench/trace-imports.js.
import { appendFileSync } from "node:fs";

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  if (result.url.includes("/node_modules/")) appendFileSync(process.env.TRACE_FILE, `${result.url}\n`);
  return result;
}
