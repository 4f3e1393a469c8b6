// Preload (`node --import ./bench/trace-imports.js ...`) that records which module files a process
// loads (coord's, its bundle's chunks, node_modules), one URL a line, in the file named by TRACE_FILE.
import { appendFileSync } from "node:fs";
import Module, { register } from "node:module";
import { isAbsolute } from "node:path";
import { pathToFileURL } from "node:url";

register("./trace-hooks.js", import.meta.url);

// Node 20's resolve hooks see `import` but not `require()`, so CommonJS modules are taken from
// the CommonJS cache when the process ends.
process.on("exit", () => {
  const required = Object.keys(Module._cache).filter((path) => isAbsolute(path));
  if (required.length) appendFileSync(process.env.TRACE_FILE, required.map((path) => `${pathToFileURL(path).href}\n`).join(""));
});
