import * as z from "zod";
import type { Mission } from "../definitions/schemas/mission.js";

/** The zod schema of a mission's inputs: one string per input, optional where the mission says so. */
export function missionInputSchema(mission: Mission) {
  return z.object(
    Object.fromEntries(
      mission.inputs.map((input) => {
        const field = z.string().describe(input.description || input.title);
        return [input.id, input.required ? field : field.optional()];
      }),
    ),
  );
}

/**
 * What a mission's graph is invoked with: its inputs by id, and files given as extra context.
 * Servers that read a graph's input schema (LangGraph Studio, an Agent Server) show the
 * mission's own fields. Every input is optional here, and its description says which are
 * required: the graph's first node names all the missing ones at once (INPUT_MISSING), which a
 * schema check would pre-empt with a validation error about the first.
 */
export function missionGraphInputSchema(mission: Mission) {
  const inputs = Object.fromEntries(
    mission.inputs.map((input) => [input.id, z.string().optional().describe(`${input.description || input.title}${input.required ? " (required)" : ""}`)]),
  );
  return z.object({
    inputs: z.object(inputs).catchall(z.string()).describe(`The inputs of the "${mission.title}" mission, by id`),
    extra: z
      .array(z.object({ name: z.string(), text: z.string() }))
      .optional()
      .describe("Files given as extra context, each with its name and text"),
  });
}
