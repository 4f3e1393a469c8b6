#!/usr/bin/env node
// Thin launcher: the CLI lives in the compiled library (built by `npm install` via `prepare`),
// bundled into dist/cli/ (scripts/build.mjs). Stack traces (--verbose) name the source files.
if (process.argv.includes("--verbose")) process.setSourceMapsEnabled(true);
const { main } = await import("../dist/cli/main.js");

// A reader that stops early (`coord runs list | head`) closes the pipe: that is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
}

process.exitCode = await main(process.argv.slice(2));
