/**
 * `npm run check:dashboard`: proves that the centres' dashboard (`/dashboard/`, static assets in
 * public/dashboard/ with Apache ECharts copied from the `echarts` package) works against the public API. It
 * starts a fresh local stack with the demo city and its demo cases reported through the API
 * (scripts/check/stack.ts), waits until the projection's roll-ups hold them, opens the page in Debian's
 * headless Chromium (`/usr/bin/chromium`, or CHROMIUM_PATH) through puppeteer-core with every request off
 * loopback aborted, logs in as `center-city`, asserts that each of the five charts (trend, types, resolution
 * levels, league, hot spots) is drawn with data, switches the unit and asserts the figures change. It saves a
 * screenshot to docs/dashboard.png (the README shows it). Exits 0 on success, 1 on failure; everything it
 * started is stopped within the time limit.
 */
import { fileURLToPath } from "node:url";
import { copyDashboardAssets } from "../docs-assets";
import { DEMO_PASSWORD } from "../seed/demo";
import { launchChromium, offlinePage, requireChromium } from "./browser";
import { withDevStack } from "./stack";

const SCREENSHOT = fileURLToPath(new URL("../../docs/dashboard.png", import.meta.url));
const CHARTS = ["trend", "types", "levels", "league", "hotspots"];

function fail(message: string): never {
  throw new Error(message);
}

/** Waits until the city's roll-ups count the demo cases (the projection is about a second behind). */
async function waitForFigures(url: string): Promise<void> {
  const login = await fetch(`${url}/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "center-city", password: DEMO_PASSWORD }),
  });
  const { accessToken } = (await login.json()) as { accessToken: string };
  const auth = { authorization: `Bearer ${accessToken}` };
  const me = (await (await fetch(`${url}/v1/me`, { headers: auth })).json()) as { unit: { id: string } };
  const today = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const res = await fetch(`${url}/v1/units/${me.unit.id}/figures/cases?from=${today}&to=${today}`, {
      headers: auth,
    });
    const body = (await res.json()) as { totals?: { reported: number; resolved: number } };
    if ((body.totals?.reported ?? 0) > 0 && (body.totals?.resolved ?? 0) > 0) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  fail("the demo cases never reached the roll-ups");
}

async function checkDashboard(url: string): Promise<void> {
  await waitForFigures(url);
  const browser = await launchChromium(["--lang=zh-CN"]);
  try {
    const { page, blocked, pageErrors } = await offlinePage(browser, { width: 1280, height: 1400 });
    const response = await page.goto(`${url}/dashboard/`, { waitUntil: "load", timeout: 30_000 });
    if (!response?.ok()) fail(`GET /dashboard/ answered ${response?.status()}`);
    await page.type("input[name=username]", "center-city");
    await page.type("input[name=password]", DEMO_PASSWORD);
    await page.click("#login-form button");
    await page.waitForFunction(() => (globalThis as any).document.body.dataset.loading === "false", {
      timeout: 30_000,
    });
    const points = async () =>
      page.evaluate((ids: string[]) => {
        const g = globalThis as any;
        return Object.fromEntries(
          ids.map((id) => {
            const chart = g.echarts.getInstanceByDom(g.document.getElementById(`chart-${id}`));
            const series = chart?.getOption()?.series ?? [];
            const values = series.flatMap((s: any) => s.data ?? []);
            const nonZero = values.filter((v: any) => {
              const n = typeof v === "number" ? v : Array.isArray(v) ? v[2] : v?.value;
              return typeof n === "number" && n > 0;
            });
            return [id, nonZero.length];
          }),
        );
      }, CHARTS);
    const drawn = await points();
    console.log(`check:dashboard: data points per chart ${JSON.stringify(drawn)}`);
    for (const id of CHARTS) if (!drawn[id]) fail(`chart ${id} has no data`);
    await new Promise((r) => setTimeout(r, 1200)); // ECharts' entry animation
    await page.screenshot({ path: SCREENSHOT });
    console.log(`check:dashboard: screenshot ${SCREENSHOT}`);

    const before = await page.evaluate(() => (globalThis as any).document.body.dataset.reported);
    const options: string[] = await page.evaluate(() =>
      [...(globalThis as any).document.querySelectorAll("#unit option")].map((o: any) => o.value),
    );
    let changed = false;
    for (const value of options.slice(1)) {
      await page.select("#unit", value);
      await page.waitForFunction(
        (v: string) => {
          const d = (globalThis as any).document.body.dataset;
          return d.unit === v && d.loading === "false";
        },
        { timeout: 30_000 },
        value,
      );
      const after = await page.evaluate(() => (globalThis as any).document.body.dataset.reported);
      if (after !== before) {
        console.log(
          `check:dashboard: switching the unit changed the reported count from ${before} to ${after}`,
        );
        changed = true;
        break;
      }
    }
    if (!changed) fail("switching the unit never changed the figures");
    if (blocked.length) fail(`requests off loopback: ${blocked.join(", ")}`);
    if (pageErrors.length) fail(`page errors: ${pageErrors.join("; ")}`);
  } finally {
    await browser.close();
  }
}

requireChromium("check:dashboard");
try {
  await copyDashboardAssets();
  await withDevStack({ name: "dashboard", seedCases: true, limitMs: 300_000 }, async (stack) =>
    checkDashboard(stack.url),
  );
  console.log("check:dashboard: ok");
  process.exit(0);
} catch (error) {
  console.error(`check:dashboard: FAILED: ${(error as Error).message}`);
  process.exit(1);
}
