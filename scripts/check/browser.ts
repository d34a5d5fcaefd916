import { existsSync } from "node:fs";
import puppeteer, { type Browser, type Page } from "puppeteer-core";

/** Debian's Chromium, or CHROMIUM_PATH. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Exits the check with a hint when there is no Chromium to drive. */
export function requireChromium(check: string): void {
  if (existsSync(CHROMIUM)) return;
  console.error(`${check}: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
  process.exit(1);
}

/**
 * Starts headless Chromium as the checks need it on this network: no background connections (they are
 * refused here, many at a time), no sandbox when running as root, `extraArgs` appended.
 */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      ...(process.getuid?.() === 0 ? ["--no-sandbox"] : []),
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
      ...extraArgs,
    ],
  });
}

/**
 * A new page whose every request off loopback is aborted as "internet disconnected", so a page that needs
 * the network fails here as it would on the city's closed network. `blocked` lists what was aborted and
 * `pageErrors` the page's uncaught errors.
 */
export async function offlinePage(
  browser: Browser,
  viewport: { width: number; height: number },
): Promise<{ page: Page; blocked: string[]; pageErrors: string[] }> {
  const page = await browser.newPage();
  await page.setViewport(viewport);
  const blocked: string[] = [];
  const pageErrors: string[] = [];
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  await page.setRequestInterception(true);
  page.on("request", (request) => {
    const target = new URL(request.url());
    if (target.protocol === "data:" || target.protocol === "blob:" || LOOPBACK.has(target.hostname)) {
      void request.continue();
    } else {
      blocked.push(request.url());
      void request.abort("internetdisconnected");
    }
  });
  return { page, blocked, pageErrors };
}
