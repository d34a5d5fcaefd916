/**
 * `npm run seed:full-units`: generates Ankang's unit tree at full size (10 counties, 140 towns, 5,916
 * villages, 16,572 level-2 and 22,838 level-3 grids) under the demo city and imports it through
 * `POST /v1/units/import` in chunks, printing how long it took. Needs `npm run dev` running, on the same
 * `GRID321_PORT` (default 8787); it checks that grid321 answers there before importing anything.
 *
 *   GRID321_PORT=8787 GRID321_CHUNK=10000 npm run seed:full-units
 */
import { loginWithSecondFactor } from "../lib/demo-totp";
import { apiUrl } from "../lib/ports";
import { fullCityUnits } from "./city-shape";

const chunkSize = Number(process.env.GRID321_CHUNK ?? 10_000);
const password = process.env.GRID321_ADMIN_PASSWORD ?? "grid321-demo";

/** Fails unless the grid321 API answers at `base`, so the import never goes to another local service. */
async function assertGrid321(base: string): Promise<void> {
  let title: unknown;
  try {
    const res = await fetch(`${base}/openapi.json`, { signal: AbortSignal.timeout(5_000) });
    if (res.ok) {
      title = await res.json().then(
        (doc) => (doc as { info?: { title?: unknown } } | null)?.info?.title,
        () => undefined,
      );
    }
  } catch (error) {
    throw new Error(
      `nothing answers at ${base} (${(error as Error).cause ?? error}); start \`npm run dev\` first, ` +
        "with the same GRID321_PORT",
    );
  }
  if (title !== "grid321 API") {
    throw new Error(`${base} is not the grid321 API; set GRID321_PORT to the port \`npm run dev\` uses`);
  }
}

async function main() {
  if (process.env.GRID321_URL) console.warn("seed:full-units: GRID321_URL is not read; GRID321_PORT is");
  const base = apiUrl();
  await assertGrid321(base);
  // admin logs in with a second factor: the local demo secret, or GRID321_TOTP_SECRET.
  const { accessToken, user } = await loginWithSecondFactor(base, "admin", password);
  const city = (await (
    await fetch(`${base}/v1/units/${user.unitId}`, { headers: { authorization: `Bearer ${accessToken}` } })
  ).json()) as { code: string; name: string };
  const rows = [...fullCityUnits(city.code)];
  console.log(`importing ${rows.length} units under ${city.name} (${city.code}) in chunks of ${chunkSize}`);
  const started = performance.now();
  for (let i = 0; i < rows.length; i += chunkSize) {
    const chunk = rows.slice(i, i + chunkSize);
    const t0 = performance.now();
    const res = await fetch(`${base}/v1/units/import`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${accessToken}` },
      body: JSON.stringify({ rows: chunk }),
    });
    const body = await res.text();
    if (res.status !== 201) {
      console.error(`chunk at ${i} failed: ${res.status} ${body.slice(0, 600)}`);
      process.exit(1);
    }
    console.log(`  rows ${i}–${i + chunk.length - 1}: ${Math.round(performance.now() - t0)} ms ${body}`);
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `imported ${rows.length} units in ${seconds.toFixed(1)} s (${Math.round(rows.length / seconds)} units/s)`,
  );
}

main().catch((error: unknown) => {
  console.error(`seed:full-units: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
