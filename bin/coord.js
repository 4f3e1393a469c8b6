#!/usr/bin/env node
// Thin launcher: the command is built by `npm install` (via `prepare`) and bundled on its own into
// dist/cli/ (scripts/build.mjs). With --verbose, stack traces name the source files
// where the source maps are (a checkout; the package ships none) and the bundle's otherwise.
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

if (process.argv.includes("--verbose")) process.setSourceMapsEnabled(true);
const { main } = await import("../dist/cli/main.js").catch((error) => {
  // A checkout run before `npm install` built it, or a build cut short: one line that says which
  // file is missing, not Node's stack trace.
  const missing = error?.code === "ERR_MODULE_NOT_FOUND" && error.url?.startsWith("file:") && fileURLToPath(error.url);
  const root = fileURLToPath(new URL("..", import.meta.url));
  if (!missing || !missing.startsWith(join(root, "dist"))) throw error;
  process.stderr.write(`coord: coord is not built, or not wholly: ${relative(root, missing)} is missing (fix: run \`npm install\`, or \`npm run build\`, in coord's folder)\n`);
  process.exit(2);
});

// A reader that stops early (`coord runs list | head`) closes the pipe: that is not an error, and
// the command still finishes its work (`coord run ... | head -1` completes the run, rather than
// leaving it "running" with no process behind it); what it prints after goes nowhere.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error) => {
    if (error.code === "EPIPE" || error.code === "ERR_STREAM_DESTROYED") return stream.destroy();
    throw error;
  });
}

process.exitCode = await main(process.argv.slice(2));
