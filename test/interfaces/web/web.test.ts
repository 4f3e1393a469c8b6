/**
 * coord's web page in a real browser: Playwright drives the system's Chromium against real
 * `coord serve` processes (bin/coord.js) in throwaway projects. Screenshots go to
 * test-results/screenshots/, which CI keeps.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "../../helpers/browser.js";
import { BIN, REPO, cliEnv } from "../../helpers/cli.js";
import { startFakeOpenAI, type FakeOpenAI } from "../../helpers/openai-server.js";
import { postgresSchemaUrl } from "../../helpers/postgres.js";
import { GROWTH_INPUTS, GROWTH_PLAN, runProject } from "../../helpers/project.js";

const SHOTS = join(REPO, "test-results", "screenshots");
// Pages send a Content-Security-Policy without inline scripts: the test pages bypass it to inject axe.
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const WAIT = 90_000;
const AGENTS = { analyst: {}, researcher: {}, seller: {}, planner: {} };

interface Served {
  url: string;
  child: ChildProcessWithoutNullStreams;
  stderr: () => string;
}

const servers: Served[] = [];
let browser: Browser;
let fake: FakeOpenAI | undefined;

function project(): string {
  return runProject({ mission: GROWTH_PLAN, agents: AGENTS, inputs: GROWTH_INPUTS });
}

/** `coord serve --port 0` as users start it; resolves with its address once it listens. */
async function serve(cwd: string, args: string[] = [], env: Record<string, string | undefined> = {}): Promise<Served> {
  const child = spawn(process.execPath, [BIN, "serve", "--port", "0", ...args], { cwd, env: cliEnv(env) });
  let out = "";
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`coord serve did not start: ${err}`)), 60_000);
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const found = /coord listening on (http:\/\/\S+)/.exec(out);
      if (found) {
        clearTimeout(timer);
        // A server bound to every address is reached, as users would, on this machine's own.
        resolve(found[1]!.replace("0.0.0.0", "127.0.0.1"));
      }
    });
    child.on("exit", (code) => reject(new Error(`coord serve exited (${code}): ${err}`)));
  });
  const served = { url, child, stderr: () => err };
  servers.push(served);
  return served;
}

async function stopServers(): Promise<void> {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          if (s.child.exitCode !== null) return resolve();
          const force = setTimeout(() => s.child.kill("SIGKILL"), 5000);
          s.child.once("exit", () => (clearTimeout(force), resolve()));
          s.child.kill("SIGTERM");
        }),
    ),
  );
}

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Fills the start form for the Growth Plan and submits it; resolves on the new run's page, with its id. */
async function startFromForm(page: Page, base: string, approve: boolean): Promise<string> {
  await page.goto(`${base}/`);
  await page.getByRole("region", { name: "Missions you can start" }).getByRole("link", { name: "Growth Plan" }).click();
  await page.getByLabel("Market Brief (required)").fill(GROWTH_INPUTS["market-brief"]);
  await page.getByLabel("Sales Notes (required)").fill(GROWTH_INPUTS["sales-notes"]);
  if (approve) await page.getByLabel("Pause for approval after each phase").check();
  await page.getByRole("button", { name: "Start run" }).click();
  await page.waitForURL(/\/runs\/test-mission-/, { timeout: WAIT });
  return new URL(page.url()).pathname.split("/").pop()!;
}

/** Serious and critical accessibility violations axe-core finds on the page. */
async function axeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: AXE });
  const result = (await page.evaluate("axe.run()")) as { violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> };
  return result.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

const completed = (page: Page) => page.locator('#live[data-status="completed"]').waitFor({ timeout: WAIT });
const status = (page: Page) => page.locator("#live").getAttribute("data-status");

beforeAll(async () => {
  browser = await launchBrowser();
}, 60_000);

afterEach(async () => {
  await stopServers();
  await fake?.close();
  fake = undefined;
}, 30_000);

afterAll(async () => {
  await browser?.close();
});

describe("coord serve's web page", () => {
  it(
    "starts a run from the form and watches it fill in live to completion; deliverables render as markdown; no serious axe violations",
    async () => {
      // Calls slow enough that the run is seen running for seconds, even on a busy machine.
      fake = await startFakeOpenAI({ delayMs: 1_200 });
      const server = await serve(project(), [], { OPENAI_API_KEY: "sk-test", COORD_BASE_URL: fake.url, COORD_MODEL: "openai:gpt-4o-mini" });
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
      try {
        const runId = await startFromForm(page, server.url, false);
        // The page opened at once and fills in by server-sent events while the run goes.
        await page.locator('#live[data-status="running"] .timeline li').first().waitFor({ timeout: WAIT });
        await shot(page, "run-running");
        await completed(page);
        expect(await status(page)).toBe("completed");
        await expect(page.locator("#live").getByText("Onboarding plan").first().isVisible()).resolves.toBe(true);
        // A deliverable, opened: rendered markdown, not its source text.
        await page.locator("#live details.deliverable summary", { hasText: "Churn analysis" }).first().click();
        const opened = page.locator("#live details.deliverable[open]").first();
        await opened.locator(".md").waitFor({ state: "visible" });
        expect(await opened.locator(".md").innerHTML()).not.toContain("<script");
        expect(await page.locator("#live .timeline li").count()).toBeGreaterThanOrEqual(4);
        // The mission graph, drawn by the bundled Mermaid.
        await page.locator('body[data-graph="drawn"]').waitFor({ timeout: WAIT });
        expect(await page.locator("pre.mermaid svg").count()).toBe(1);
        await shot(page, "run-finished");
        expect(await axeViolations(page)).toEqual([]);
        // The runs list: the run, who started it and where, its tokens.
        await page.goto(`${server.url}/`);
        const row = page.locator(`tr[data-run="${runId}"]`);
        await expect(row.textContent()).resolves.toMatch(/Growth Plan[\s\S]*completed[\s\S]*web/);
        await shot(page, "runs-list");
        expect(await axeViolations(page)).toEqual([]);
        // The filters narrow the list.
        await page.selectOption("#f-status", "failed");
        await page.locator("#runs tr[data-run]").first().waitFor({ state: "detached", timeout: WAIT });
        // Phone width: the page still fits, and still passes.
        await page.setViewportSize({ width: 390, height: 800 });
        await page.goto(`${server.url}/runs/${runId}`);
        expect(await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")).toBe(true);
        expect(await axeViolations(page)).toEqual([]);
        // Nothing of the server's paths or keys reaches the page.
        const htmlText = await page.content();
        expect(htmlText).not.toContain("sk-test");
        expect(htmlText).not.toContain("/tmp/");
      } finally {
        await page.close();
      }
    },
    240_000,
  );

  it(
    "approves a paused run and rejects another with a note, through the common decision path (surface web)",
    async () => {
      const server = await serve(project());
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
      try {
        const first = await startFromForm(page, server.url, true);
        await page.getByRole("button", { name: "Approve" }).waitFor({ timeout: WAIT });
        expect(await status(page)).toBe("paused (awaiting approval)");
        await expect(page.getByRole("region", { name: /Waiting for your approval/ }).textContent()).resolves.toContain("Churn analysis");
        await shot(page, "run-paused");
        expect(await axeViolations(page)).toEqual([]);
        await page.getByLabel("Note", { exact: true }).fill("Looks right");
        await page.getByRole("button", { name: "Approve" }).click();
        // Phase 2 pauses next; the trail shows the decision, taken on the web.
        await page.getByText("Phase 1: approved by web").waitFor({ timeout: WAIT });

        const second = await startFromForm(page, server.url, true);
        await page.getByRole("button", { name: "Reject" }).waitFor({ timeout: WAIT });
        await page.getByLabel("Note", { exact: true }).fill("Quote the churn numbers");
        await page.getByRole("button", { name: "Reject" }).click();
        await page.getByText("Phase 1: rejected by web").waitFor({ timeout: WAIT });
        await expect(page.locator("#live").textContent()).resolves.toContain("Quote the churn numbers");

        // The same record every surface reads: the API says who decided, and where.
        const api = async (id: string) => (await (await fetch(`${server.url}/api/runs/${id}`)).json()) as { approvals: Array<{ action: string; note?: string; by: { surface: string } }> };
        expect((await api(first)).approvals[0]).toMatchObject({ action: "approve", note: "Looks right", by: { surface: "web" } });
        expect((await api(second)).approvals[0]).toMatchObject({ action: "reject", note: "Quote the churn numbers", by: { surface: "web" } });

        // A second decision on the same pause is refused: the first decision wins.
        await page.goto(`${server.url}/runs/${first}`);
        await page.getByRole("button", { name: "Approve" }).waitFor({ timeout: WAIT });
        const csrf = await page.locator('input[name="csrf"]').first().inputValue();
        const [one, two] = await Promise.all([
          page.request.post(`${server.url}/runs/${first}/decide`, { form: { csrf, action: "approve" }, maxRedirects: 0 }),
          page.request.post(`${server.url}/runs/${first}/decide`, { form: { csrf, action: "reject", note: "too late" }, maxRedirects: 0 }),
        ]);
        expect([one.status(), two.status()].sort()).toEqual([303, 409]);
        // A form without the page's CSRF token does nothing.
        const forged = await page.request.post(`${server.url}/runs/${second}/decide`, { form: { action: "approve" }, maxRedirects: 0 });
        expect(forged.status()).toBe(403);
        expect(await forged.text()).toContain("security token");
      } finally {
        await page.close();
      }
    },
    240_000,
  );

  it(
    "a page on a second coord serve sees a run worked on by the first (one Postgres database)",
    async () => {
      fake = await startFakeOpenAI({ delayMs: 300 });
      const env = { COORD_DATABASE_URL: postgresSchemaUrl(), OPENAI_API_KEY: "sk-test", COORD_BASE_URL: fake.url, COORD_MODEL: "openai:gpt-4o-mini" };
      // The worker: its own project folder. The page: another, with no worker of its own.
      const worker = await serve(project(), [], env);
      const front = await serve(project(), ["--workers", "0"], env);
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
      try {
        const runId = await startFromForm(page, front.url, false);
        await completed(page);
        expect(await page.locator("#live .timeline li").count()).toBeGreaterThanOrEqual(4);
        expect(worker.stderr()).toContain(`run ${runId}: taken`);
        expect(front.stderr()).not.toContain(`run ${runId}: taken`);
        await page.goto(`${front.url}/`);
        await expect(page.locator(`tr[data-run="${runId}"]`).textContent()).resolves.toContain("completed");
      } finally {
        await page.close();
      }
    },
    240_000,
  );

  it(
    "on a non-loopback address, asks for a sign-in with COORD_API_TOKEN and keeps the session in an HTTP-only cookie",
    async () => {
      const token = "web-test-token-0123456789";
      const server = await serve(project(), ["--host", "0.0.0.0"], { COORD_API_TOKEN: token });
      const context = await browser.newContext({ bypassCSP: true });
      const page = await context.newPage();
      try {
        await page.goto(`${server.url}/`);
        await page.waitForURL(/\/sign-in/);
        expect(await axeViolations(page)).toEqual([]);
        await page.getByLabel("Token").fill("not-the-token");
        await page.getByRole("button", { name: "Sign in" }).click();
        await page.getByText("That token is not this server's.").waitFor();
        await page.getByLabel("Token").fill(token);
        await page.getByRole("button", { name: "Sign in" }).click();
        await page.getByRole("heading", { name: "Runs" }).waitFor();
        const session = (await context.cookies()).find((c) => c.name === "coord_session");
        expect(session?.httpOnly).toBe(true);
        expect(session?.value).not.toContain(token);
        // Signed in, a run starts from the form as on loopback.
        await startFromForm(page, server.url, true);
        await page.getByRole("button", { name: "Approve" }).waitFor({ timeout: WAIT });
        // Without the session: back to the sign-in; the API still wants its bearer token.
        const stranger = await browser.newContext();
        const other = await stranger.newPage();
        await other.goto(`${server.url}/start`);
        expect(new URL(other.url()).pathname).toBe("/sign-in");
        const anonymous = await other.request.post(`${server.url}/runs`, { form: { mission: "test-mission" }, maxRedirects: 0 });
        expect(anonymous.status()).toBe(401);
        await stranger.close();
        expect((await fetch(`${server.url}/api/runs/x`)).status).toBe(401);
        // Signing out ends the session.
        await page.getByRole("button", { name: "Sign out" }).click();
        await page.waitForURL(/\/sign-in/);
      } finally {
        await context.close();
      }
    },
    240_000,
  );
});
