// Module resolve hook (runs on Node's loader thread): appends every resolved file URL (coord's own
// modules, its bundle's chunks and node_modules) to the file named by TRACE_FILE. Registered by
// bench/trace-imports.js.
import { appendFileSync } from "node:fs";

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  if (result.url.startsWith("file:")) appendFileSync(process.env.TRACE_FILE, `${result.url}\n`);
  return result;
}
