import * as z from "zod";
import { AgentSchema } from "./agent.js";

export const MissionInputSchema = z.object({
  id: z.string().describe("Slug of the input's name: `--input marketing-framework=@file.md`."),
  title: z.string(),
  required: z.boolean(),
  description: z.string(),
});
export type MissionInput = z.infer<typeof MissionInputSchema>;

export const PhaseSchema = z.object({
  index: z.number().int().positive().describe("1-based position of the phase."),
  title: z.string(),
  duration: z.string().nullable(),
  /** Qualifier after the duration, e.g. "IMMEDIATE ACTION" or "[Optional but Recommended]". */
  qualifier: z.string().nullable(),
  lead: z.string().nullable().describe("Agent name that writes the phase's deliverables."),
  support: z.array(z.string()).describe("Agent names that work in parallel before the lead."),
  objective: z.string(),
  /** The instruction line of the phase's command block (`@lead Analyze ...:`), when there is one. */
  task: z.string(),
  steps: z.array(z.string()),
  deliverables: z.array(z.string()),
  /** Per-deliverable instructions (the bracketed guidance of a prompt template's OUTPUT FORMAT). */
  guidance: z.record(z.string(), z.string()),
  /** Labelled blocks coord has no field for (Context Input, Success Criteria of the phase...). */
  notes: z.record(z.string(), z.string()),
  line: z.number().int(),
});
export type Phase = z.infer<typeof PhaseSchema>;

export const MissionMetadataSchema = z.object({
  type: z.string().nullable(),
  duration: z.string().nullable(),
  difficulty: z.string().nullable(),
  valueImpact: z.string().nullable(),
  /** Every other `**Label:** value` line of the header. */
  extra: z.record(z.string(), z.string()),
});

export const MissionSchema = z.object({
  id: z.string().describe("File name without .md, .mission.md or .prompt.md."),
  kind: z.enum(["mission", "template"]),
  title: z.string(),
  file: z.string(),
  metadata: MissionMetadataSchema,
  objective: z.string(),
  inputs: z.array(MissionInputSchema),
  phases: z.array(PhaseSchema),
  successCriteria: z.array(z.string()),
  /** Agents from a `## Required Agents` list, lead first when one is marked. */
  requiredAgents: z.array(z.string()),
  /** Sections coord does not interpret, handed to agents as mission context. */
  context: z.array(z.object({ title: z.string(), text: z.string() })),
  /** Agents the mission defines itself (a prompt template's ROLE). */
  agents: z.array(AgentSchema),
});
export type Mission = z.infer<typeof MissionSchema>;
