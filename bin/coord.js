#!/usr/bin/env node
// Thin launcher: the CLI lives in the compiled library (built by `npm install` via `prepare`),
// bundled into dist/cli/ (scripts/build.mjs). Stack traces (--verbose) name the source files.
import { fileURLToPath } from "node:url";

if (process.argv.includes("--verbose")) process.setSourceMapsEnabled(true);
const BUILT = new URL("../dist/cli/main.js", import.meta.url);
const { main } = await import(BUILT.href).catch((error) => {
  // A checkout run before `npm install` built it: one line that says so, not Node's stack trace.
  if (error?.code !== "ERR_MODULE_NOT_FOUND" || !error.message.includes(fileURLToPath(BUILT))) throw error;
  process.stderr.write("coord: coord is not built: dist/cli/main.js is missing (fix: run `npm install`, or `npm run build`, in coord's folder)\n");
  process.exit(2);
});

// A reader that stops early (`coord runs list | head`) closes the pipe: that is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
}

process.exitCode = await main(process.argv.slice(2));
