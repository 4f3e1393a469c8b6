import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

/**
 * The system's Chromium (Debian's `chromium`, which `.ci/run` installs when it is missing): no
 * browser is ever downloaded. COORD_CHROMIUM names another binary.
 */
export function chromiumPath(): string {
  const path = process.env.COORD_CHROMIUM ?? ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
  if (!path) throw new Error("no Chromium found: install Debian's chromium (apt-get install chromium) or set COORD_CHROMIUM");
  return path;
}

/**
 * Headless Chromium driven by Playwright. The flags keep it off the network it cannot reach
 * (background services, updates, sync) and let it run as root in a container.
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  });
}
