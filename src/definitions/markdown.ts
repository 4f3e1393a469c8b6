import { fromMarkdown } from "mdast-util-from-markdown";
import type { Heading, List, ListItem, Nodes, Root, RootContent } from "mdast";

export type { Heading, List, Root, RootContent };

export function parseMarkdown(text: string): Root {
  return fromMarkdown(text);
}

/** The exact source text of a node: keeps emphasis markers, which labels like **Lead**: rely on. */
export function sourceOf(node: Nodes, text: string): string {
  const start = node.position?.start.offset;
  const end = node.position?.end.offset;
  return start === undefined || end === undefined ? "" : text.slice(start, end);
}

export function lineOf(node: Nodes): number {
  return node.position?.start.line ?? 1;
}

/** Plain text of a node without markup: for headings and titles. */
export function plainText(node: Nodes): string {
  if ("value" in node && typeof node.value === "string") return node.value;
  if ("children" in node) return (node.children as Nodes[]).map(plainText).join("");
  return "";
}

/** The source text of each item of a list, without its bullet or a task checkbox. */
export function listItems(list: List, text: string): string[] {
  return list.children
    .map((item: ListItem) => item.children.map((child) => sourceOf(child, text)).join("\n"))
    .map((s) => s.replace(/^\[[ xX]\]\s*/, "").trim())
    .filter(Boolean);
}
