import { basename } from "node:path";
import { diagnostic, type Diagnostic } from "../errors.js";
import { sourceOf, type Block, type Heading, type Root } from "./markdown.js";
import type { Agent } from "./schemas/agent.js";
import type { Mission, MissionInput } from "./schemas/mission.js";
import { slugify } from "./text.js";

const ROLE = /^(role|identity and purpose|identity)$/i;
const OUTPUT = /^output format$/i;
const OUTPUT_FALLBACK = /^output instructions$/i;
// `[WEBSITE PERSONALIZATION CAPABILITIES]`: upper case, digits and a little punctuation. Markdown
// links and task boxes never match because they hold lower-case letters or nothing.
const PLACEHOLDER = /\[([A-Z0-9][A-Z0-9 /&,'’.()+_-]*[A-Z0-9)])\]/g;

interface Section {
  title: string;
  heading: Heading;
  nodes: Block[];
}

function h1Sections(tree: Root): Section[] {
  const sections: Section[] = [];
  for (const node of tree.children) {
    if (node.type === "heading" && node.depth === 1) sections.push({ title: node.title.trim(), heading: node, nodes: [] });
    else sections.at(-1)?.nodes.push(node);
  }
  return sections;
}

/** A prompt template: a `.prompt.md` file, or `# ROLE`-style sections with an output format. */
export function isPromptTemplate(tree: Root, file: string): boolean {
  if (/\.prompt\.md$/i.test(file)) return true;
  const titles = h1Sections(tree).map((s) => s.title);
  return titles.some((t) => ROLE.test(t)) && titles.some((t) => OUTPUT.test(t) || OUTPUT_FALLBACK.test(t));
}

function sectionText(section: Section, text: string): string {
  return section.nodes.map((n) => sourceOf(n, text)).join("\n\n").trim();
}

function humanize(id: string): string {
  return id.replace(/[-_]+/g, " ").replace(/\b\w/g, (c) => c.toUpperCase());
}

// A placeholder's description is the label just in front of it: from the previous placeholder on
// its line, and at most this many characters. Each used to carry the whole line before it, so
// 2,000 placeholders on one 39 KB line made 38 MB of descriptions; now their total is at most
// the file's length.
const MAX_LABEL = 200;

/** The label in front of a placeholder (`- Website and landing pages: [X]`), without bullets and bold. */
function labelBefore(line: string, from: number, at: number): string {
  const start = Math.max(from, at - MAX_LABEL);
  // A label cut short starts at its next whole word.
  const label = start > from ? line.slice(start, at).replace(/^\S*\s+/, "") : line.slice(start, at);
  return label.replace(/^[\s\-*]+|[\s:*]+$/g, "").replace(/\*\*/g, "");
}

/** Every unique placeholder, with the label text in front of it on its line as description. */
export function placeholders(text: string): MissionInput[] {
  const seen = new Map<string, MissionInput>();
  for (const line of text.split("\n")) {
    let labelStart = 0;
    for (const match of line.matchAll(PLACEHOLDER)) {
      const from = labelStart;
      labelStart = match.index + match[0].length;
      const title = match[1]!;
      if ((title.match(/[A-Z]/g) ?? []).length < 2) continue;
      const id = slugify(title);
      if (seen.has(id)) continue;
      seen.set(id, { id, title, required: false, description: labelBefore(line, from, match.index) });
    }
  }
  return [...seen.values()];
}

/** Each `##` of the output format is a deliverable; its body is the guidance for writing it. */
function deliverablesOf(output: Section, text: string): Array<{ title: string; guidance: string }> {
  const out: Array<{ title: string; guidance: string; parts: string[] }> = [];
  for (const node of output.nodes) {
    if (node.type === "heading" && node.depth === 2) out.push({ title: node.title.trim(), guidance: "", parts: [] });
    else out.at(-1)?.parts.push(sourceOf(node, text));
  }
  if (out.length === 0) return [{ title: "Output", guidance: sectionText(output, text) }];
  return out.map(({ title, parts }) => ({ title, guidance: parts.join("\n\n").trim() }));
}

export function parsePromptTemplate(
  tree: Root,
  text: string,
  file: string,
  id: string,
): { mission?: Mission; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const sections = h1Sections(tree);
  // `# OUTPUT FORMAT` names the deliverables; fabric-style `# OUTPUT INSTRUCTIONS` stands in for it.
  let outputAt = sections.findIndex((s) => OUTPUT.test(s.title));
  if (outputAt === -1) outputAt = sections.findIndex((s) => OUTPUT_FALLBACK.test(s.title));
  if (outputAt === -1) {
    diagnostics.push(
      diagnostic("TEMPLATE_NO_OUTPUT_FORMAT", `prompt template "${id}" has no # OUTPUT FORMAT section`, {
        file,
        line: 1,
        hint: "add `# OUTPUT FORMAT` with one `## Section` per deliverable",
      }),
    );
    return { diagnostics };
  }
  const output = sections[outputAt]!;
  const before = sections.slice(0, outputAt);
  const role = before.find((s) => ROLE.test(s.title));
  if (!role) {
    diagnostics.push(
      diagnostic("TEMPLATE_NO_ROLE", `prompt template "${id}" has no # ROLE section; the lead has a generic role`, {
        file,
        line: 1,
        hint: "add `# ROLE` with one paragraph: You are ...",
      }),
    );
  }
  const roleText = role ? sectionText(role, text) : `You are an expert who completes the "${humanize(id)}" brief.`;
  const briefSections = before.filter((s) => s !== role);
  const briefEnd = output.heading.start;
  const task = briefSections.find((s) => /^task$/i.test(s.title));
  const deliverables = deliverablesOf(output, text);
  const agent: Agent = {
    name: id,
    type: "prompt-template",
    description: roleText.split(/(?<=[.!?])\s/)[0]!.slice(0, 300),
    capabilities: [],
    priority: "medium",
    color: null,
    model: null,
    tools: [],
    hooks: {},
    body: roleText,
    file,
    line: role ? role.heading.line : 1,
    extra: {},
  };
  const title = humanize(id.replace(/\.prompt$/, "") || basename(file));
  const mission: Mission = {
    id,
    kind: "template",
    title,
    file,
    metadata: { type: "Prompt template", duration: null, difficulty: null, valueImpact: null, extra: {} },
    objective: task ? sectionText(task, text) : "",
    inputs: placeholders(text.slice(0, briefEnd)),
    phases: [
      {
        index: 1,
        title,
        duration: null,
        qualifier: null,
        lead: id,
        support: [],
        objective: task ? sectionText(task, text) : "",
        task: "",
        steps: [],
        deliverables: deliverables.map((d) => d.title),
        guidance: Object.fromEntries(deliverables.map((d) => [d.title, d.guidance])),
        notes: {},
        line: output.heading.line,
      },
    ],
    successCriteria: [],
    requiredAgents: [id],
    context: briefSections.map((s) => ({ title: s.title, text: sectionText(s, text) })),
    agents: [agent],
  };
  return { mission, diagnostics };
}
