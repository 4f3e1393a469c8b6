import { Marked } from "marked";
import sanitizeHtml from "sanitize-html";

// One renderer of our own (no global options), GitHub-flavoured; raw HTML in a deliverable is
// kept only as far as the sanitiser allows.
const marked = new Marked({ gfm: true, async: false });

const ALLOWED: sanitizeHtml.IOptions = {
  // sanitize-html's defaults (text, lists, tables, code, links) without images: a page of coord
  // fetches nothing from elsewhere.
  allowedTags: sanitizeHtml.defaults.allowedTags.filter((tag) => tag !== "img"),
  allowedAttributes: { a: ["href", "title"], code: ["class"], th: ["align"], td: ["align"] },
  allowedSchemes: ["http", "https", "mailto"],
  transformTags: { a: sanitizeHtml.simpleTransform("a", { rel: "noopener noreferrer nofollow" }) },
};

/** A model's markdown as safe HTML: rendered by marked, then cleaned by sanitize-html. */
export function markdownHtml(text: string): string {
  return sanitizeHtml(marked.parse(text) as string, ALLOWED);
}
