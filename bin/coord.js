#!/usr/bin/env node
// Thin launcher: the CLI lives in the compiled library (built by `npm install` via `prepare`).
import { main } from "../dist/interfaces/cli/main.js";

process.exitCode = await main(process.argv.slice(2));
