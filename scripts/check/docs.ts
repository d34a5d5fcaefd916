/**
 * `npm run check:docs`: proves that `/docs` renders the API reference with no network. It starts a fresh
 * local stack (scripts/check/stack.ts: sqld + `wrangler dev`, static assets from public/ served as under
 * `npm run dev`), opens `/docs` in Debian's headless Chromium (`/usr/bin/chromium`, or CHROMIUM_PATH) through
 * puppeteer-core with every request to a host other than 127.0.0.1/localhost aborted, waits for Swagger UI's
 * operation list and asserts that at least MIN_OPERATIONS operations (`.opblock`) are rendered, one per
 * operation of `/openapi.json`. It saves screenshots (the first screen and the whole page) to a temp dir and prints their paths. Exits 0 on success, 1 on failure;
 * everything it started is stopped within the time limit.
 */
import { existsSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer from "puppeteer-core";
import { withDevStack } from "./stack";

const MIN_OPERATIONS = 50;
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

function fail(message: string): never {
  throw new Error(message);
}

async function checkDocs(url: string): Promise<void> {
  const spec = (await (await fetch(`${url}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, unknown>>;
  };
  const methods = new Set(["get", "put", "post", "delete", "patch", "head", "options", "trace"]);
  const documented = Object.values(spec.paths).flatMap((item) =>
    Object.keys(item).filter((k) => methods.has(k)),
  ).length;

  const browser = await puppeteer.launch({
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
    ],
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    const blocked: string[] = [];
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(String(error)));
    await page.setRequestInterception(true);
    page.on("request", (request) => {
      const target = new URL(request.url());
      const local =
        target.protocol === "data:" || target.protocol === "blob:" || LOOPBACK.has(target.hostname);
      if (local) void request.continue();
      else {
        blocked.push(request.url());
        void request.abort("internetdisconnected");
      }
    });
    const response = await page.goto(`${url}/docs`, { waitUntil: "load", timeout: 30_000 });
    if (!response?.ok()) fail(`GET /docs answered ${response?.status()}`);
    await page
      .waitForFunction(
        (min: number) => (globalThis as any).document.querySelectorAll(".opblock").length >= min,
        { timeout: 30_000 },
        MIN_OPERATIONS,
      )
      .catch(() => undefined);
    const rendered: number = await page.evaluate(
      () => (globalThis as any).document.querySelectorAll(".opblock").length,
    );
    const title: string = await page.evaluate(
      () => (globalThis as any).document.querySelector(".info .title")?.textContent ?? "",
    );

    const dir = await mkdtemp(join(tmpdir(), "grid321-docs-"));
    const shot = join(dir, "docs.png");
    const full = join(dir, "docs-full.png");
    await page.screenshot({ path: shot });
    await page.screenshot({ path: full, fullPage: true });
    console.log(`check:docs: screenshots ${shot} (first screen) and ${full} (whole page)`);
    console.log(
      `check:docs: title "${title.trim()}"; ${rendered} operations rendered of ${documented} in /openapi.json`,
    );
    if (blocked.length)
      console.log(`check:docs: blocked ${blocked.length} requests off loopback: ${blocked.join(", ")}`);
    if (pageErrors.length) fail(`page errors: ${pageErrors.join("; ")}`);
    if (rendered < MIN_OPERATIONS)
      fail(`only ${rendered} operations rendered (want at least ${MIN_OPERATIONS})`);
    if (rendered < documented) fail(`${rendered} operations rendered, but /openapi.json has ${documented}`);
  } finally {
    await browser.close();
  }
}

if (!existsSync(CHROMIUM)) {
  console.error(`check:docs: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
  process.exit(1);
}
try {
  await withDevStack({ name: "docs", limitMs: 240_000 }, async (stack) => checkDocs(stack.url));
  console.log("check:docs: ok");
  process.exit(0);
} catch (error) {
  console.error(`check:docs: FAILED: ${(error as Error).message}`);
  process.exit(1);
}
