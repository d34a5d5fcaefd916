/**
 * `npm run check:docs`: proves that `/docs` renders the API reference with no network. It starts a fresh
 * local stack (scripts/check/stack.ts: sqld + `wrangler dev`, static assets from public/ served as under
 * `npm run dev`), opens `/docs` in Debian's headless Chromium (`/usr/bin/chromium`, or CHROMIUM_PATH) through
 * puppeteer-core with every request to a host other than 127.0.0.1/localhost aborted, waits until every tag
 * of `/openapi.json` is listed (tags start collapsed), then opens each tag and asserts that it shows each of
 * that tag's operations (`.opblock`): at least MIN_OPERATIONS, and every operation of the document. It saves
 * screenshots (the first screen and the whole page) to a temp dir and prints their paths. Exits 0 on success,
 * 1 on failure; everything it started is stopped within the time limit.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launchChromium, offlinePage, requireChromium } from "./browser";
import { withDevStack } from "./stack";

const MIN_OPERATIONS = 50;

function fail(message: string): never {
  throw new Error(message);
}

async function checkDocs(url: string): Promise<void> {
  const spec = (await (await fetch(`${url}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { tags?: string[] }>>;
  };
  const methods = new Set(["get", "put", "post", "delete", "patch", "head", "options", "trace"]);
  const operations = Object.values(spec.paths).flatMap((item) =>
    Object.entries(item).filter(([k]) => methods.has(k)),
  );
  const documented = operations.length;
  /** Operations per tag, in the order Swagger UI lists the tags. */
  const perTag = new Map<string, number>();
  for (const [, op] of operations) {
    const tag = op.tags?.[0] ?? "default";
    perTag.set(tag, (perTag.get(tag) ?? 0) + 1);
  }

  const browser = await launchChromium();
  try {
    const { page, blocked, pageErrors } = await offlinePage(browser, { width: 1280, height: 900 });
    const response = await page.goto(`${url}/docs`, { waitUntil: "load", timeout: 30_000 });
    if (!response?.ok()) fail(`GET /docs answered ${response?.status()}`);
    // Tags start collapsed (public/docs/init.js): every tag must be listed, and opening each tag must show
    // all of its operations. Tags are opened a few at a time and closed again, as a reader would.
    await page
      .waitForFunction(
        (n: number) => (globalThis as any).document.querySelectorAll(".opblock-tag").length >= n,
        { timeout: 30_000 },
        perTag.size,
      )
      .catch(() => undefined);
    const listedTags: string[] = await page.evaluate(() =>
      [...(globalThis as any).document.querySelectorAll(".opblock-tag")].map(
        (t: any) => t.getAttribute("data-tag") ?? "",
      ),
    );
    const missingTags = [...perTag.keys()].filter((t) => !listedTags.includes(t));
    let rendered = 0;
    const short: string[] = [];
    for (const [tag, count] of perTag) {
      if (missingTags.includes(tag)) continue;
      const selector = `.opblock-tag[data-tag="${tag}"]`;
      await page.click(selector);
      const shown: number = await page
        .waitForFunction(
          (sel: string, n: number) => {
            const section = (globalThis as any).document.querySelector(sel)?.parentElement;
            const found = section ? section.querySelectorAll(".opblock").length : 0;
            return found >= n ? found : false;
          },
          { timeout: 15_000 },
          selector,
          count,
        )
        .then((h) => h.jsonValue() as Promise<number>)
        .catch(() => 0);
      rendered += shown;
      if (shown < count) short.push(`${tag} ${shown}/${count}`);
      await page.click(selector);
    }
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
      `check:docs: title "${title.trim()}"; ${listedTags.length} tags listed; opening each showed ${rendered} operations of ${documented} in /openapi.json`,
    );
    if (blocked.length)
      console.log(`check:docs: blocked ${blocked.length} requests off loopback: ${blocked.join(", ")}`);
    if (pageErrors.length) fail(`page errors: ${pageErrors.join("; ")}`);
    if (missingTags.length) fail(`tags not listed: ${missingTags.join(", ")}`);
    if (short.length) fail(`tags that did not show all their operations when opened: ${short.join("; ")}`);
    if (rendered < MIN_OPERATIONS)
      fail(`only ${rendered} operations rendered (want at least ${MIN_OPERATIONS})`);
    if (rendered < documented) fail(`${rendered} operations rendered, but /openapi.json has ${documented}`);
  } finally {
    await browser.close();
  }
}

requireChromium("check:docs");
try {
  await withDevStack({ name: "docs", limitMs: 240_000 }, async (stack) => checkDocs(stack.url));
  console.log("check:docs: ok");
  process.exit(0);
} catch (error) {
  console.error(`check:docs: FAILED: ${(error as Error).message}`);
  process.exit(1);
}
