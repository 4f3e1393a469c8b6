import { html, raw } from "hono/html";
import type { Mission } from "../../definitions/schemas/mission.js";
import { actorLabel, type RunRecord } from "../../runtime/record.js";
import type { RunView, Step } from "./data.js";
import { markdownHtml } from "./markdown.js";

// Every value goes through hono's `html`, which escapes it; only sanitised markdown is `raw`.
type Html = ReturnType<typeof html>;

export interface Layout {
  title: string;
  csrf: string;
  /** Signed in with the token (a sign-out button is shown). */
  session: boolean;
  /** The run page loads Mermaid for its graph. */
  graph?: boolean;
}

export function page(layout: Layout, body: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${layout.title} · coord</title>
<link rel="stylesheet" href="/assets/style.css">
<script src="/assets/htmx.min.js" defer></script>
${layout.graph ? html`<script src="/assets/mermaid.min.js" defer></script>` : ""}
<script src="/assets/app.js" defer></script>
</head>
<body>
<a class="skip" href="#content">Skip to content</a>
<header class="top">
  <a class="home" href="/">coord</a>
  <nav aria-label="Main"><a href="/">Runs</a><a href="/start">Start a run</a></nav>
  ${layout.session ? html`<form method="post" action="/sign-out"><input type="hidden" name="csrf" value="${layout.csrf}"><button type="submit" class="secondary">Sign out</button></form>` : ""}
</header>
<main id="content">
${body}
</main>
<div id="announce" class="skip" role="status" aria-live="polite"></div>
</body>
</html>`;
}

const time = (iso: string | null | undefined) => (iso ? html`<time datetime="${iso}">${iso.replace("T", " ").replace(/\.\d+Z$/, "Z")}</time>` : "");

export function duration(record: RunRecord, now = Date.now()): string {
  const end = record.finishedAt ? Date.parse(record.finishedAt) : record.status === "running" ? now : null;
  if (end === null) return "";
  const s = Math.max(0, Math.round((end - Date.parse(record.startedAt)) / 1000));
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

const usd = (n: number | null | undefined) => (n === null || n === undefined ? "n/a" : `$${n.toFixed(4)}`);
const tokens = (n: number) => n.toLocaleString("en-US");
const statusText = (r: RunRecord) => (r.status === "paused" && r.reason ? `paused (${r.reason === "approval" ? "awaiting approval" : r.reason})` : r.status);
const status = (r: RunRecord) => html`<span class="status status-${r.status}">${statusText(r)}</span>`;

export const STATUSES = ["queued", "running", "paused", "completed", "failed"] as const;

export function runsPage(records: RunRecord[], missions: Mission[], filter: { status?: string; mission?: string }): Html {
  const shown = records.filter((r) => (!filter.status || r.status === filter.status) && (!filter.mission || r.mission === filter.mission));
  const missionIds = [...new Set([...missions.map((m) => m.id), ...records.map((r) => r.mission)])].sort();
  return html`<h1>Runs</h1>
<form class="filters" method="get" action="/" hx-get="/" hx-trigger="change" hx-target="#runs" hx-select="#runs" hx-swap="outerHTML" hx-push-url="true">
  <div><label for="f-status">Status</label>
  <select id="f-status" name="status"><option value="">any</option>${STATUSES.map((s) => html`<option value="${s}" ${filter.status === s ? "selected" : ""}>${s}</option>`)}</select></div>
  <div><label for="f-mission">Mission</label>
  <select id="f-mission" name="mission"><option value="">any</option>${missionIds.map((m) => html`<option value="${m}" ${filter.mission === m ? "selected" : ""}>${m}</option>`)}</select></div>
  <button type="submit">Filter</button>
</form>
<div id="runs" class="table-wrap" role="region" aria-label="Runs" tabindex="0">
${
  shown.length
    ? html`<table>
<caption class="skip">Runs, newest first</caption>
<thead><tr><th scope="col">Mission</th><th scope="col">Status</th><th scope="col">Started by</th><th scope="col">Started</th><th scope="col">Duration</th><th scope="col" class="num">Tokens</th><th scope="col" class="num">Cost</th></tr></thead>
<tbody>${shown.map(
        (r) => html`<tr data-run="${r.runId}"><td><a href="/runs/${r.runId}">${r.title}</a><br><span class="muted">${r.runId}</span></td><td>${status(r)}</td><td>${r.startedBy ? actorLabel(r.startedBy) : "unknown"}</td><td>${time(r.startedAt)}</td><td>${duration(r)}</td><td class="num">${tokens(r.usage.totalTokens)}</td><td class="num">${usd(r.usage.costUsd)}</td></tr>`,
      )}</tbody>
</table>`
      : html`<p>No runs${filter.status || filter.mission ? " match these filters" : " yet"}.</p>`
}
</div>
<section aria-labelledby="missions-h"><h2 id="missions-h">Missions you can start</h2>
${missions.length ? html`<ul>${missions.map((m) => html`<li><a href="/start?mission=${encodeURIComponent(m.id)}">${m.title}</a> <span class="muted">(${m.id}, ${m.phases.length} phase${m.phases.length === 1 ? "" : "s"})</span></li>`)}</ul>` : html`<p>No missions found in this project.</p>`}</section>`;
}

export function startPage(missions: Mission[], chosen: Mission | undefined, csrf: string, error?: { message: string; hint?: string | undefined }, values: Record<string, string> = {}): Html {
  return html`<h1>Start a run</h1>
${error ? html`<div class="panel error" role="alert"><p><strong>Could not start the run:</strong> ${error.message}</p>${error.hint ? html`<p>${error.hint}</p>` : ""}</div>` : ""}
<form method="get" action="/start" class="filters">
  <div><label for="pick">Mission</label>
  <select id="pick" name="mission">${missions.map((m) => html`<option value="${m.id}" ${chosen?.id === m.id ? "selected" : ""}>${m.title} (${m.id})</option>`)}</select></div>
  <button type="submit">Choose</button>
</form>
${
  chosen
    ? html`<form method="post" action="/runs" enctype="multipart/form-data" class="panel">
  <input type="hidden" name="csrf" value="${csrf}">
  <input type="hidden" name="mission" value="${chosen.id}">
  <h2>${chosen.title}</h2>
  ${chosen.objective ? html`<p>${chosen.objective}</p>` : ""}
  ${chosen.inputs.map(
    (input) => html`<div class="field">
    <label for="in-${input.id}">${input.title || input.id}${input.required ? " (required)" : ""}</label>
    <p id="in-${input.id}-desc" class="muted">${input.description || "Text, or drop a file here."}</p>
    <textarea id="in-${input.id}" name="input:${input.id}" data-drop aria-describedby="in-${input.id}-desc" ${input.required ? "required" : ""}>${values[input.id] ?? ""}</textarea>
    <label for="in-${input.id}-file" class="muted">Or choose a file for ${input.title || input.id}</label>
    <input type="file" id="in-${input.id}-file" accept=".md,.markdown,.txt,.csv,.json,.yaml,.yml,text/*">
  </div>`,
  )}
  <div class="field"><input type="checkbox" id="approve" name="approve" value="on" ${values.__approve ? "checked" : ""}> <label for="approve" style="display:inline">Pause for approval after each phase</label></div>
  <button type="submit">Start run</button>
</form>`
    : html`<p>Choose a mission to see its inputs.</p>`
}`;
}

function timeline(view: RunView): Html {
  const { steps } = view;
  if (!steps.length) return html`<p class="muted">No step has started yet.</p>`;
  const t0 = Date.parse(steps[0]!.start);
  const now = Date.now();
  const endOf = (s: Step) => (s.end ? Date.parse(s.end) : now);
  const t1 = Math.max(...steps.map(endOf), t0 + 1);
  const pct = (t: number) => ((100 * (t - t0)) / (t1 - t0)).toFixed(2);
  return html`<ol class="timeline" aria-label="Steps over time">${steps.map((s) => {
    const left = pct(Date.parse(s.start));
    const width = Math.max(0.8, Number(pct(endOf(s))) - Number(left)).toFixed(2);
    const secs = ((endOf(s) - Date.parse(s.start)) / 1000).toFixed(1);
    return html`<li><span>${s.role === "judge" ? "Success criteria" : `Phase ${s.phase}`} · ${s.agent} <span class="muted">(${s.role}${s.end ? `, ${tokens(s.tokens)} tokens` : ", working"})</span></span>
<span class="track" role="img" aria-label="${s.end ? `took ${secs} s` : `working for ${secs} s`}"><span class="bar${s.end ? "" : " live"}" style="left:${left}%;width:${width}%"></span></span></li>`;
  })}</ol>`;
}

function deliverables(view: RunView, phaseIndex: number, open: boolean): Html {
  const phase = view.record.phases.find((p) => p.index === phaseIndex)!;
  const written = view.state.deliverables[phaseIndex] ?? {};
  const notes = Object.entries(view.state.notes[phaseIndex] ?? {});
  return html`${phase.deliverables.map(
    (d) => html`<details class="deliverable" ${open ? "open" : ""}><summary>${d.title}</summary><div class="md">${raw(markdownHtml(written[d.title] ?? ""))}</div></details>`,
  )}
${notes.length ? html`<details><summary>Support notes behind them (${notes.length})</summary>${notes.map(([agent, text]) => html`<section class="deliverable"><h4>Notes by ${agent}</h4><div class="md">${raw(markdownHtml(String(text)))}</div></section>`)}</details>` : ""}`;
}

function pausePanel(view: RunView, csrf: string): Html {
  const { record } = view;
  const phase = record.phases.find((p) => p.status === "awaiting-approval");
  if (record.status !== "paused" || (record.reason !== "approval" && record.reason !== "criteria") || !phase) return html``;
  return html`<section class="panel pause" aria-labelledby="pause-h">
<h2 id="pause-h">Waiting for your approval: phase ${phase.index}, ${phase.title}</h2>
${deliverables(view, phase.index, true)}
<form method="post" action="/runs/${record.runId}/decide">
  <input type="hidden" name="csrf" value="${csrf}">
  <label for="note">Note</label>
  <textarea id="note" name="note" aria-describedby="note-help"></textarea>
  <p id="note-help" class="muted">Optional when approving; a rejection needs one, saying what to change.</p>
  <div class="actions"><button type="submit" name="action" value="approve">Approve</button><button type="submit" name="action" value="reject" class="secondary">Reject</button></div>
</form>
</section>`;
}

function usageByAgent(record: RunRecord): Html {
  const rows = new Map<string, { agent: string; role: string; input: number; output: number; total: number; cost: number | null }>();
  for (const c of [...record.phases.flatMap((p) => p.calls), ...(record.criteriaCalls ?? [])]) {
    const key = `${c.agent}/${c.role}`;
    const row = rows.get(key) ?? { agent: c.agent, role: c.role, input: 0, output: 0, total: 0, cost: 0 };
    row.input += c.usage.inputTokens;
    row.output += c.usage.outputTokens;
    row.total += c.usage.totalTokens;
    row.cost = row.cost === null || c.costUsd === null ? null : row.cost + c.costUsd;
    rows.set(key, row);
  }
  if (!rows.size) return html`<p class="muted">No model calls yet.</p>`;
  return html`<div class="table-wrap" role="region" aria-label="Usage by agent" tabindex="0"><table><thead><tr><th scope="col">Agent</th><th scope="col">Role</th><th scope="col" class="num">Input</th><th scope="col" class="num">Output</th><th scope="col" class="num">Total</th><th scope="col" class="num">Cost</th></tr></thead>
<tbody>${[...rows.values()].map((r) => html`<tr><td>${r.agent}</td><td>${r.role}</td><td class="num">${tokens(r.input)}</td><td class="num">${tokens(r.output)}</td><td class="num">${tokens(r.total)}</td><td class="num">${usd(r.cost)}</td></tr>`)}
<tr><th scope="row">Total</th><td></td><td class="num">${tokens(record.usage.inputTokens)}</td><td class="num">${tokens(record.usage.outputTokens)}</td><td class="num">${tokens(record.usage.totalTokens)}</td><td class="num">${usd(record.usage.costUsd)}</td></tr></tbody></table></div>`;
}

const VERDICT = { met: "met", partly: "partly met", not_met: "not met" } as const;

/** The part of a run's page that changes while it runs: fetched again on every server-sent event. */
export function liveRun(view: RunView, csrf: string): Html {
  const { record } = view;
  const done = record.status === "completed" || record.status === "failed";
  return html`<div id="live" data-version="${view.version}" data-status="${statusText(record)}" data-done="${done ? "true" : "false"}" data-events="/runs/${record.runId}/events" data-fragment="/runs/${record.runId}/live">
<dl class="facts">
  <dt>Status</dt><dd>${status(record)}</dd>
  <dt>Started</dt><dd>${time(record.startedAt)} by ${record.startedBy ? actorLabel(record.startedBy) : "unknown"}</dd>
  ${record.finishedAt ? html`<dt>Finished</dt><dd>${time(record.finishedAt)}</dd>` : ""}
  <dt>Duration</dt><dd>${duration(record)}</dd>
  <dt>Model</dt><dd>${record.model}</dd>
  <dt>Tokens</dt><dd>${tokens(record.usage.totalTokens)} (${usd(record.usage.costUsd)})</dd>
</dl>
${record.error ? html`<div class="panel error" role="alert"><strong>Failed:</strong> ${record.error}</div>` : ""}
${pausePanel(view, csrf)}
<h2>Timeline</h2>
${timeline(view)}
<h2>Phases and deliverables</h2>
${record.phases.map(
  (p) => html`<section class="panel" aria-labelledby="phase-${p.index}">
<h3 id="phase-${p.index}">Phase ${p.index}: ${p.title} <span class="status status-${p.status}">${p.status}</span></h3>
<p class="muted">Lead ${p.lead ?? "-"}${p.support.length ? ` · support ${p.support.join(", ")}` : ""}</p>
${p.deliverables.length ? deliverables(view, p.index, false) : html`<p class="muted">Nothing delivered yet.</p>`}
</section>`,
)}
<h2>Success criteria</h2>
${
  record.criteria?.length
    ? html`<ul>${record.criteria.map(
        (c) => html`<li><strong>${VERDICT[c.verdict]}</strong>: ${c.text}${c.evidence.length ? html`<ul>${c.evidence.map((e) => html`<li>Phase ${e.phase}, ${e.deliverable}: <q>${e.quote.replace(/\s+/g, " ").trim()}</q></li>`)}</ul>` : ""}${c.missing ? html`<p>Missing: ${c.missing}</p>` : ""}</li>`,
      )}</ul><p class="muted">Checked by ${record.criteriaJudge === "offline" ? "coord's offline check (term overlap, not an LLM)" : record.criteriaJudge}.</p>`
    : html`<p class="muted">${view.spec.mission.successCriteria.length ? "Not checked yet: they are checked once the last phase is done." : "This mission has none."}</p>`
}
<h2>Usage and cost by agent</h2>
${usageByAgent(record)}
<h2>Approvals</h2>
${record.approvals.length ? html`<ol>${record.approvals.map((a) => html`<li>Phase ${a.phase}: ${a.action === "approve" ? "approved" : "rejected"} by ${actorLabel(a.by)} at ${time(a.at)}${a.note ? html` — <q>${a.note}</q>` : ""}</li>`)}</ol>` : html`<p class="muted">No decisions yet.</p>`}
</div>`;
}

export function runPage(view: RunView, csrf: string, flash?: string): Html {
  return html`<h1>${view.record.title} <span class="muted">${view.record.runId}</span></h1>
${flash ? html`<p class="panel" role="status">${flash}</p>` : ""}
${liveRun(view, csrf)}
<h2 id="graph-h">Mission graph</h2>
<figure aria-labelledby="graph-h"><pre class="mermaid">${view.graph}</pre></figure>`;
}

export function errorPage(status: number, message: string, hint?: string): Html {
  return html`<h1>${status === 404 ? "Not found" : "Something went wrong"}</h1><div class="panel error" role="alert"><p>${message}</p>${hint ? html`<p>${hint}</p>` : ""}</div><p><a href="/">Back to the runs</a></p>`;
}

export function signInPage(csrf: string, next: string, failed: boolean): Html {
  return html`<h1>Sign in</h1>
${failed ? html`<div class="panel error" role="alert">That token is not this server's.</div>` : ""}
<form method="post" action="/sign-in" class="panel">
  <input type="hidden" name="csrf" value="${csrf}">
  <input type="hidden" name="next" value="${next}">
  <div class="field"><label for="token">Token</label><p id="token-help" class="muted">The server's COORD_API_TOKEN.</p>
  <input id="token" name="token" type="password" autocomplete="current-password" required aria-describedby="token-help"></div>
  <button type="submit">Sign in</button>
</form>`;
}
