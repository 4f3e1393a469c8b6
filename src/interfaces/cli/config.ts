import { existsSync } from "node:fs";
import { join } from "node:path";
import { config as loadDotenv } from "dotenv";
import { z } from "zod";
import { readJsonConfig } from "../../files.js";

/** coord.config.json: project settings that are not secrets (keys stay in the environment or .env). */
export const CoordConfigSchema = z.object({
  model: z.string().optional().describe("Default model for runs: provider:model or offline."),
  baseUrl: z.string().url().optional().describe("An OpenAI-compatible server for openai: models."),
  timeoutSeconds: z.number().positive().optional().describe("Per model call."),
  allowFileInputs: z.boolean().optional().describe("Let HTTP and MCP callers pass key=@file inputs (inside the project only)."),
  prices: z
    .record(z.string(), z.object({ input: z.number().nonnegative(), output: z.number().nonnegative() }))
    .optional()
    .describe("USD per million tokens by model spec, added to or overriding the built-in table."),
});
export type CoordConfig = z.infer<typeof CoordConfigSchema>;

/**
 * Loads `.env` (without overriding variables already set) and `coord.config.json` of the project.
 * Only the CLI does this: the library reads no environment unless given one.
 */
export function loadEnvironment(cwd: string): { allowFileInputs?: boolean; models: { prices?: CoordConfig["prices"]; timeoutMs?: number; model?: string; baseUrl?: string } } {
  const envFile = join(cwd, ".env");
  if (existsSync(envFile)) loadDotenv({ path: envFile, quiet: true });
  const c = readJsonConfig(join(cwd, "coord.config.json"), CoordConfigSchema, '{ "model": "openai:gpt-4o-mini" }');
  if (!c) return { models: {} };
  // The config's model and server are project defaults for every surface (run, resume, slash,
  // serve, mcp); the environment and .env still win, as they do for keys.
  if (c.model && !process.env.COORD_MODEL) process.env.COORD_MODEL = c.model;
  if (c.baseUrl && !process.env.COORD_BASE_URL) process.env.COORD_BASE_URL = c.baseUrl;
  return {
    ...(c.allowFileInputs && { allowFileInputs: true }),
    models: {
      ...(c.prices && { prices: c.prices }),
      ...(c.timeoutSeconds && { timeoutMs: c.timeoutSeconds * 1000 }),
      ...(c.model && { model: c.model }),
      ...(c.baseUrl && { baseUrl: c.baseUrl }),
    },
  };
}
