import { basename, dirname } from "node:path";
import { diagnostic, type Diagnostic } from "../errors.js";
import { markdownHazard, parseMarkdown, sourceOf, type Block, type Heading } from "./markdown.js";
import { isPromptTemplate, parsePromptTemplate } from "./prompt-template.js";
import type { Mission, MissionInput, Phase } from "./schemas/mission.js";
import { normalizeText, repairDiagnostics, slugify } from "./text.js";

export interface MissionParse {
  mission?: Mission;
  diagnostics: Diagnostic[];
}

/** `sales-marketing-alignment.mission.md` -> `sales-marketing-alignment`; fabric's `x/system.md` -> `x`. */
export function missionIdFromPath(file: string): string {
  const name = basename(file).replace(/(\.mission|\.prompt)?\.(md|markdown)$/i, "");
  const folder = basename(dirname(file));
  return name.toLowerCase() === "system" && folder && folder !== "." ? folder : name;
}

// `### Phase 2: Title (45-75 minutes) - IMMEDIATE ACTION` and `### Step 3: Title`. A number
// followed by a word ("Phase 1 Resources") or no number ("Phased Migration") is not a phase.
const PHASE_HEADING = /^(?:phase|step)\s+(\d+)\s*(?:[:.\-–—]\s*(.*)|$)/i;
const DURATION = /\(([^()]*\d[^()]*)\)/;
// `**Lead**: @x`, `**Mission Type:** y`, `**Lead Agent**: z | **Thinking Mode**: ...`
const LABEL_LINE = /^\s*\*\*([^*]+?):?\*\*\s*:?\s*(.*)$/;

function parsePhaseHeading(text: string): { title: string; duration: string | null; qualifier: string | null } {
  const match = DURATION.exec(text);
  if (!match) return { title: text.trim(), duration: null, qualifier: null };
  const after = text.slice(match.index + match[0].length).replace(/^[\s\-–—*]+|[\s*]+$/g, "");
  return { title: text.slice(0, match.index).trim(), duration: match[1]!.trim(), qualifier: after || null };
}

/** Agent names out of `@a, @b`, `` `a` ``, or `a | **Thinking Mode**: ...`. */
export function agentRefs(value: string): string[] {
  const firstCell = value.split("|")[0] ?? "";
  return firstCell
    .split(/,|\band\b/)
    .map((part) => /@?`?([A-Za-z0-9][\w.-]*)`?/.exec(part.replace(/\*\*/g, "").trim())?.[1])
    .filter((name): name is string => !!name && !/^(none|n\/a|tbd)$/i.test(name));
}

function labelLines(source: string): Array<{ label: string; value: string }> {
  return source
    .split("\n")
    .map((line) => LABEL_LINE.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ label: m[1]!.trim().toLowerCase(), value: m[2]!.trim() }));
}

type PhaseField = "lead" | "support" | "objective" | "deliverables" | "steps" | "duration";

// What each label of a phase means; unknown labels are kept in `notes`. A Map, so labels such as
// "constructor" never find an Object property.
const PHASE_LABELS = new Map<string, PhaseField>(Object.entries({
  lead: "lead",
  "lead agent": "lead",
  "lead agents": "lead",
  agent: "lead",
  support: "support",
  "support agents": "support",
  "supporting agents": "support",
  objective: "objective",
  task: "objective",
  goal: "objective",
  deliverables: "deliverables",
  deliverable: "deliverables",
  "expected output": "deliverables",
  "expected outputs": "deliverables",
  "expected outcomes": "deliverables",
  outputs: "deliverables",
  output: "deliverables",
  tasks: "steps",
  steps: "steps",
  actions: "steps",
  duration: "duration",
} satisfies Record<string, PhaseField>));

const NUMBERED = /^\s*\d+[.)]\s+(.+)$/;

function newPhase(heading: Heading, match: RegExpExecArray): Phase {
  const parts = parsePhaseHeading(match[2] ?? "");
  return {
    index: 0,
    title: parts.title || heading.title.trim(),
    duration: parts.duration,
    qualifier: parts.qualifier,
    lead: null,
    support: [],
    objective: "",
    task: "",
    steps: [],
    deliverables: [],
    guidance: {},
    notes: {},
    line: heading.line,
  };
}

/** Applies `**Label**: value` lines to a phase; returns the label still waiting for its list. */
function applyLabels(phase: Phase, labels: Array<{ label: string; value: string }>): string | null {
  let waiting: string | null = null;
  for (const { label, value } of labels) {
    const field = PHASE_LABELS.get(label);
    waiting = value ? null : label;
    if (field === "lead") {
      const [lead, ...more] = agentRefs(value);
      if (lead && !phase.lead) phase.lead = lead;
      phase.support.push(...more);
    } else if (field === "support") phase.support.push(...agentRefs(value));
    else if (field === "objective") phase.objective ||= value;
    else if (field === "duration") phase.duration ??= value;
    else if (field === "deliverables" && value) phase.deliverables.push(value);
    else if (field === "steps" && value) phase.steps.push(value);
    else if (!field && value) phase.notes[label] = value;
  }
  return waiting;
}

/**
 * A label line right under a list, with no blank line between, is part of the last item in
 * markdown ("- Create plan\n**Deliverable**: MVP spec"); it is split back off here.
 */
function splitTrailingLabels(items: string[]): { items: string[]; labels: Array<{ label: string; value: string }> } {
  const last = items.at(-1);
  const lines = last?.split("\n") ?? [];
  const at = lines.findIndex((line, i) => i > 0 && LABEL_LINE.test(line));
  if (at === -1) return { items, labels: [] };
  return { items: [...items.slice(0, -1), lines.slice(0, at).join(" ")], labels: labelLines(lines.slice(at).join("\n")) };
}

/** Applies one block of a phase's body; returns the label still waiting for its list. */
function applyToPhase(phase: Phase, node: Block, text: string, pending: string | null): string | null {
  if (node.type === "paragraph") {
    const labels = labelLines(sourceOf(node, text));
    if (labels.length === 0 && pending === null && !phase.objective) {
      phase.notes.text = [phase.notes.text, sourceOf(node, text)].filter(Boolean).join("\n\n");
    }
    return applyLabels(phase, labels);
  }
  if (node.type === "list") {
    const { items, labels } = splitTrailingLabels(node.items);
    const field = pending ? PHASE_LABELS.get(pending) : "steps";
    if (field === "deliverables") phase.deliverables.push(...items);
    else if (field === "steps" || (!pending && node.ordered)) phase.steps.push(...items);
    else if (pending) phase.notes[pending] = items.join("\n");
    return labels.length ? applyLabels(phase, labels) : null;
  }
  if (node.type === "code") {
    const lines = node.value.split("\n");
    const numbered = lines.map((l) => NUMBERED.exec(l)?.[1]?.trim()).filter((s): s is string => !!s);
    const instruction = lines.find((l) => /^\s*@[\w-]+/.test(l));
    if (instruction && !phase.task) phase.task = instruction.trim();
    if (numbered.length > 0 && phase.steps.length === 0) phase.steps.push(...numbered);
    else if (!instruction) phase.notes.code = [phase.notes.code, node.value].filter(Boolean).join("\n\n");
    return pending;
  }
  return pending;
}

const METADATA_KEYS = new Map<string, "type" | "duration" | "difficulty" | "valueImpact">(Object.entries({
  "mission type": "type",
  type: "type",
  duration: "duration",
  "estimated duration": "duration",
  difficulty: "difficulty",
  complexity: "difficulty",
  "value impact": "valueImpact",
  "expected impact": "valueImpact",
} as const));

const INPUT_ITEM = /^(?:\*\*(.+?)\*\*|([^(:\-–—]+?))\s*(?:\(([^)]*)\))?\s*(?:[-–—:]\s*(.*))?$/s;

export function parseInputItem(item: string): MissionInput | undefined {
  const m = INPUT_ITEM.exec(item.trim());
  const title = (m?.[1] ?? m?.[2] ?? "").replace(/\*\*/g, "").replace(/:$/, "").trim();
  if (!m || !title) return undefined;
  const flag = (m[3] ?? "").toLowerCase();
  return {
    id: slugify(title),
    title,
    required: !flag.includes("optional"),
    description: (m[4] ?? "").trim(),
  };
}

function sectionKind(title: string): "objective" | "inputs" | "agents" | "criteria" | "duration" | "phases" | "other" {
  const t = title.toLowerCase().replace(/[^a-z ]/g, "").trim();
  if (/^(mission )?objective$/.test(t)) return "objective";
  if (/^required inputs?$|^inputs$/.test(t)) return "inputs";
  if (/^required agents$|^agents required$|^squad$/.test(t)) return "agents";
  if (/^success criteria$/.test(t)) return "criteria";
  if (t === "duration") return "duration";
  if (/phases|agent flow|^mission sequence/.test(t)) return "phases";
  return "other";
}

function cleanTitle(title: string): string {
  return title.replace(/^(mission( sequence)?|operation)\s*:\s*/i, "").trim();
}

function tooComplex(hazard: { line: number; message: string }, file: string): Diagnostic {
  return diagnostic("MARKDOWN_TOO_COMPLEX", `markdown not parsed: ${hazard.message}`, {
    file,
    line: hazard.line,
    hint: "flatten the nesting, put blank lines between long paragraphs, or split the file",
  });
}

/**
 * Parses a mission file: canonical BOS-AI missions, their variants, and prompt templates.
 * Pure: `file` names the mission and its diagnostics; nothing is read from disk.
 */
export function parseMission(raw: string, file: string): MissionParse {
  const { text, repairs } = normalizeText(raw);
  const diagnostics = repairDiagnostics(repairs, file);
  const id = missionIdFromPath(file);
  const hazard = markdownHazard(text);
  if (hazard) return { diagnostics: [...diagnostics, tooComplex(hazard, file)] };
  const tree = parseMarkdown(text);
  if (isPromptTemplate(tree, file)) {
    const parsed = parsePromptTemplate(tree, text, file, id);
    return { ...(parsed.mission && { mission: parsed.mission }), diagnostics: [...diagnostics, ...parsed.diagnostics] };
  }

  const mission: Mission = {
    id,
    kind: "mission",
    title: "",
    file,
    metadata: { type: null, duration: null, difficulty: null, valueImpact: null, extra: {} },
    objective: "",
    inputs: [],
    phases: [],
    successCriteria: [],
    requiredAgents: [],
    context: [],
    agents: [],
  };
  let section: { kind: ReturnType<typeof sectionKind>; title: string; parts: string[] } | null = null;
  let phase: Phase | null = null;
  let phaseDepth = 0;
  let pending: string | null = null;
  let missionLead: string | null = null;
  let inHeader = true;

  const closeSection = () => {
    if (section?.kind === "other" && section.parts.length > 0) {
      mission.context.push({ title: section.title, text: section.parts.join("\n\n").trim() });
    }
  };

  for (const node of tree.children) {
    if (node.type === "heading") {
      const title = node.title.trim();
      const match = PHASE_HEADING.exec(title);
      if (match && node.depth >= 2) {
        phase = newPhase(node, match);
        inHeader = false;
        phaseDepth = node.depth;
        pending = null;
        mission.phases.push(phase);
        continue;
      }
      if (phase && node.depth <= phaseDepth) phase = null;
      if (phase) {
        // A sub-heading inside a phase: its text and lists still belong to the phase.
        pending = null;
        continue;
      }
      if (node.depth === 1 && !mission.title) {
        mission.title = cleanTitle(title);
        continue;
      }
      if (node.depth <= 2) {
        closeSection();
        section = { kind: sectionKind(title), title, parts: [] };
        if (section.kind !== "other") inHeader = false;
      } else if (section?.kind === "other") {
        section.parts.push(sourceOf(node, text));
      }
      continue;
    }
    if (phase) {
      pending = applyToPhase(phase, node, text, pending);
      continue;
    }
    const source = sourceOf(node, text);
    if (!section || section.kind === "other" || section.kind === "phases") {
      let consumed = false;
      // `**Label:** value` lines are metadata only in the header: before phases and known sections.
      if (node.type === "paragraph" && inHeader) {
        for (const { label, value } of labelLines(source)) {
          const key = METADATA_KEYS.get(label);
          if (key && mission.metadata[key] === null) mission.metadata[key] = value;
          else if (label === "objective" && !mission.objective) mission.objective = value;
          else mission.metadata.extra[label] = value;
          consumed = true;
        }
      }
      if (!consumed && section?.kind === "other") section.parts.push(source);
      continue;
    }
    switch (section.kind) {
      case "objective":
        mission.objective = [mission.objective, source].filter(Boolean).join("\n\n");
        break;
      case "duration":
        mission.metadata.duration ??= source.trim();
        break;
      case "inputs":
        if (node.type === "list") {
          for (const input of node.items.map(parseInputItem)) {
            // A title with no letters or digits (an emoji) still needs an id users can type.
            if (input) mission.inputs.push({ ...input, id: input.id || `input-${mission.inputs.length + 1}` });
          }
        }
        break;
      case "agents":
        if (node.type === "list") {
          for (const item of node.items) {
            const [name] = agentRefs(item);
            if (!name) continue;
            if (!missionLead && /\((lead|primary)/i.test(item)) missionLead = name;
            mission.requiredAgents.push(name);
          }
        }
        break;
      case "criteria":
        if (node.type === "list") mission.successCriteria.push(...node.items);
        break;
    }
  }
  closeSection();

  mission.title ||= id;
  finishPhases(mission, missionLead);
  return { mission, diagnostics: [...diagnostics, ...structuralDiagnostics(mission)] };
}

/** Numbers phases and fills leads from `## Required Agents` when phases name none. */
function finishPhases(mission: Mission, missionLead: string | null): void {
  const lead = missionLead ?? mission.requiredAgents[0] ?? null;
  mission.phases.forEach((phase, i) => {
    phase.index = i + 1;
    if (!phase.lead && lead) {
      phase.lead = lead;
      if (phase.support.length === 0) phase.support = mission.requiredAgents.filter((a) => a !== lead);
    }
    phase.support = [...new Set(phase.support.filter((s) => s !== phase.lead))];
    phase.deliverables = [...new Set(phase.deliverables)];
  });
}

/** Problems a mission has on its own, before anyone checks its agents exist. */
export function structuralDiagnostics(mission: Mission): Diagnostic[] {
  const file = mission.file;
  const out: Diagnostic[] = [];
  if (mission.phases.length === 0) {
    out.push(
      diagnostic("MISSION_NO_PHASES", `mission "${mission.id}" has no phases`, {
        file,
        line: 1,
        hint: "add sections headed `### Phase 1: Title (duration)` with **Lead**: @agent and **Deliverables**:",
      }),
    );
  }
  for (const phase of mission.phases) {
    if (!phase.lead) {
      out.push(
        diagnostic("MISSION_PHASE_NO_LEAD", `phase ${phase.index} "${phase.title}" names no lead agent`, {
          file,
          line: phase.line,
          hint: "add a line `**Lead**: @agent-name` under the phase heading",
        }),
      );
    }
    if (phase.deliverables.length === 0) {
      out.push(
        diagnostic(
          "MISSION_NO_DELIVERABLES",
          `phase ${phase.index} "${phase.title}" lists no deliverables; the runner will produce one named "${phase.title}"`,
          { file, line: phase.line, hint: "add `**Deliverables**:` followed by a bullet per deliverable" },
        ),
      );
    }
  }
  if (mission.kind === "mission" && mission.successCriteria.length === 0 && mission.phases.length > 0) {
    out.push(
      diagnostic("MISSION_NO_SUCCESS_CRITERIA", `mission "${mission.id}" has no success criteria`, {
        file,
        line: 1,
        hint: "add `## Success Criteria` with one `- [ ] criterion` per line",
      }),
    );
  }
  return out;
}
