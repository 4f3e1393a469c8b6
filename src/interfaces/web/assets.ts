import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Hono } from "hono";

const require = createRequire(import.meta.url);

/** The browser scripts coord serves itself (no CDN): resolved in node_modules once, read on first use. */
const VENDORED: Record<string, string> = {
  "htmx.min.js": "htmx.org/dist/htmx.min.js",
  "mermaid.min.js": "mermaid/dist/mermaid.min.js",
};

const STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #fff; --muted: #57606a; --line: #d0d7de; --accent: #0a58ca; --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --bar: #5b8def; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9ba5b0; --line: #30363d; --accent: #6cb6ff; --ok: #57ab5a; --warn: #d4a72c; --bad: #f47067; --bar: #539bf5; } }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header.top { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; padding: .6rem 1rem; border-bottom: 1px solid var(--line); }
header.top a.home { font-weight: 700; color: inherit; text-decoration: none; }
header.top nav { display: flex; gap: 1rem; flex-wrap: wrap; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible, summary:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
h1 { font-size: 1.5rem; margin: .5rem 0 1rem; } h2 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; } h3 { font-size: 1.05rem; }
.muted { color: var(--muted); }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.status { font-weight: 600; }
.status-completed { color: var(--ok); } .status-failed { color: var(--bad); } .status-paused, .status-awaiting-approval { color: var(--warn); } .status-running, .status-queued { color: var(--accent); }
form.filters { display: flex; flex-wrap: wrap; gap: .75rem; align-items: end; margin-bottom: 1rem; }
label { display: block; font-weight: 600; }
input, select, textarea, button { font: inherit; color: inherit; background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: .4rem .6rem; }
textarea { width: 100%; min-height: 6rem; }
textarea.dragging { outline: 3px dashed var(--accent); }
button { cursor: pointer; background: var(--accent); color: #fff; border-color: var(--accent); font-weight: 600; }
button.secondary { background: transparent; color: var(--bad); border-color: var(--bad); }
.field { margin: 0 0 1rem; } .field p { margin: .1rem 0 .3rem; }
.panel { border: 1px solid var(--line); border-radius: 8px; padding: .75rem 1rem; margin: 1rem 0; }
.panel.pause { border-color: var(--warn); border-width: 2px; }
.error { border-color: var(--bad); }
.deliverable { border-top: 1px solid var(--line); padding-top: .5rem; }
.deliverable .md { overflow-wrap: anywhere; }
.md pre { overflow-x: auto; padding: .5rem; border: 1px solid var(--line); border-radius: 6px; }
.timeline { list-style: none; padding: 0; margin: 0; }
.timeline li { display: grid; grid-template-columns: minmax(8rem, 14rem) 1fr; gap: .5rem; align-items: center; padding: .2rem 0; }
.track { position: relative; height: 1.1rem; background: color-mix(in srgb, var(--line) 40%, transparent); border-radius: 4px; }
.bar { position: absolute; top: 0; bottom: 0; min-width: 4px; background: var(--bar); border-radius: 4px; }
.bar.live { background: repeating-linear-gradient(45deg, var(--bar), var(--bar) 6px, transparent 6px, transparent 12px); }
.actions { display: flex; gap: .75rem; flex-wrap: wrap; margin-top: .5rem; }
.mermaid { overflow-x: auto; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; } dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; }
.skip { position: absolute; left: -999px; } .skip:focus { left: 1rem; top: .5rem; background: var(--bg); padding: .3rem; }
@media (max-width: 40rem) { .timeline li { grid-template-columns: 1fr; } main { padding: .6rem; } th, td { padding: .3rem .35rem; } }
`;

/**
 * The page's own script: times in the viewer's time zone, files dropped into input fields, live
 * updates (server-sent events say the run changed; the page fetches its live part again), and
 * the mission graph drawn by Mermaid once it has loaded.
 */
const APP = `
(function () {
  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (t) {
      var d = new Date(t.getAttribute("datetime"));
      if (!isNaN(d)) { t.textContent = d.toLocaleString(); t.title = t.getAttribute("datetime"); }
    });
  }
  function dropFiles(root) {
    root.querySelectorAll("textarea[data-drop]").forEach(function (area) {
      function take(file) { if (!file) return; file.text().then(function (text) { area.value = text; area.dispatchEvent(new Event("input")); }); }
      area.addEventListener("dragover", function (e) { e.preventDefault(); area.classList.add("dragging"); });
      area.addEventListener("dragleave", function () { area.classList.remove("dragging"); });
      area.addEventListener("drop", function (e) { e.preventDefault(); area.classList.remove("dragging"); take(e.dataTransfer && e.dataTransfer.files[0]); });
      var picker = document.getElementById(area.id + "-file");
      if (picker) picker.addEventListener("change", function () { take(picker.files[0]); });
    });
  }
  function live() {
    var part = document.getElementById("live");
    if (!part || !part.dataset.events || !window.EventSource) return;
    var source = new EventSource(part.dataset.events);
    var fetching = false;
    source.addEventListener("run", function (e) {
      var current = document.getElementById("live");
      if (!current || e.data === current.dataset.version || fetching) return;
      fetching = true;
      fetch(current.dataset.fragment, { headers: { "HX-Request": "true" } }).then(function (r) { return r.ok ? r.text() : null; }).then(function (text) {
        fetching = false;
        if (text === null) return;
        var box = document.createElement("div"); box.innerHTML = text;
        var next = box.querySelector("#live"); if (!next) return;
        var active = document.activeElement && document.activeElement.id;
        current.replaceWith(next);
        localTimes(next); dropFiles(next);
        if (active && document.getElementById(active)) document.getElementById(active).focus();
        var say = document.getElementById("announce"); if (say) say.textContent = "Run " + (next.dataset.status || "updated");
        if (next.dataset.done === "true") source.close();
      }, function () { fetching = false; });
    });
  }
  function graph() {
    if (!window.mermaid || !document.querySelector(".mermaid")) return;
    var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
    window.mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: dark ? "dark" : "default" });
    window.mermaid.run({ querySelector: ".mermaid" }).then(function () { document.body.dataset.graph = "drawn"; }, function () { document.body.dataset.graph = "failed"; });
  }
  document.addEventListener("DOMContentLoaded", function () { localTimes(document); dropFiles(document); live(); });
  window.addEventListener("load", graph);
  document.addEventListener("htmx:after:swap", function () { localTimes(document); });
  document.addEventListener("htmx:afterSwap", function () { localTimes(document); });
})();
`;

/** Routes for the stylesheet, the page script and the vendored scripts, cached for a day. */
export function assetRoutes(app: Hono): void {
  const cache = new Map<string, string>();
  const headers = (type: string) => ({ "content-type": `${type}; charset=utf-8`, "cache-control": "public, max-age=86400", "x-content-type-options": "nosniff" });
  app.get("/assets/style.css", (c) => c.body(STYLE, 200, headers("text/css")));
  app.get("/assets/app.js", (c) => c.body(APP, 200, headers("text/javascript")));
  for (const [name, module] of Object.entries(VENDORED)) {
    app.get(`/assets/${name}`, (c) => {
      let text = cache.get(name);
      if (text === undefined) cache.set(name, (text = readFileSync(require.resolve(module), "utf8")));
      return c.body(text, 200, headers("text/javascript"));
    });
  }
}
