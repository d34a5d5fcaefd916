/**
 * `npm run bench:households`: the household registry at the city's full size.
 *
 * Starts its own stack (scripts/lib/bench-stack.ts: sqld in a temp dir, the Worker under Miniflare, loopback
 * only), inserts the full-size unit tree directly with SQL (5,916 villages, 16,572 level-2 and 22,838
 * level-3 grids), and then:
 *   1. imports 928,329 households through `POST /v1/households/import` in chunks and prints households/s;
 *   2. runs a plain `UPDATE` over every household of the city (same columns the reclassification writes, no
 *      computation), then `POST /v1/units/{city}/reclassify`, which must rewrite every row again, and prints
 *      both times and their ratio; then a second reclassification that finds nothing to change;
 *   3. makes a fifth of the yellow and red households overdue and prints the latency of
 *      `GET /v1/units/{city}/households/summary` (p50/p99, sequential) and of the first page of
 *      `GET /v1/visits/overdue?unitId={city}`.
 * Stops by itself and removes its temp and bundle dirs.
 *
 *   npm run bench:households
 *   BENCH_HOUSEHOLDS=100000 BENCH_CHUNK=10000 BENCH_RESIDENTS=all BENCH_GETS=200 npm run bench:households
 *
 * BENCH_HOUSEHOLDS defaults to the full 928,329; BENCH_RESIDENTS=red (default) gives only red households a
 * member (the one their class needs), `all` gives every household its head with an encrypted ID number.
 */
import { cpus } from "node:os";
import { FULL_HOUSEHOLDS, fullCityHouseholds, type HouseholdImportRow } from "../gen/full-households";
import { insertBenchUser, insertFullCityTree, percentile, withBenchStack } from "../lib/bench-stack";

const TOTAL = Number(process.env.BENCH_HOUSEHOLDS ?? FULL_HOUSEHOLDS.total);
const CHUNK = Number(process.env.BENCH_CHUNK ?? 10_000);
const RESIDENTS = process.env.BENCH_RESIDENTS === "all" ? "all" : "red";
const GETS = Number(process.env.BENCH_GETS ?? 200);

async function main() {
  await withBenchStack({ name: "households", echoErrors: true }, async (stack) => {
    const client = stack.db;
    const t0 = performance.now();
    const tree = await insertFullCityTree(client);
    console.log(
      `unit tree: ${JSON.stringify(tree.byLevel)} inserted in ${Math.round(performance.now() - t0)} ms`,
    );
    const userId = await insertBenchUser(client, { id: tree.cityId, path: tree.cityPath });

    const token = await stack.tokenFor({
      userId,
      username: "bench-city-centre",
      role: "center_staff",
      unitId: tree.cityId,
      unitPath: tree.cityPath,
      unitLevel: "city",
    });
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const api = async (path: string, init: RequestInit = {}) => {
      const res = await stack.dispatch(path, { ...init, headers });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    };
    await api(`/v1/units/${tree.cityId}/households/summary`);

    // 1. Import.
    console.log(`importing ${TOTAL} households in chunks of ${CHUNK} (residents: ${RESIDENTS})`);
    const expected = { green: 0, yellow: 0, red: 0 };
    let chunk: HouseholdImportRow[] = [];
    let imported = 0;
    let residents = 0;
    let importMs = 0;
    const send = async () => {
      const t = performance.now();
      const res = await api("/v1/households/import", {
        method: "POST",
        body: JSON.stringify({ rows: chunk }),
      });
      importMs += performance.now() - t;
      if (res.status !== 201)
        throw new Error(`import → ${res.status} ${JSON.stringify(res.body).slice(0, 800)}`);
      imported += res.body.imported;
      residents += res.body.residents;
      chunk = [];
      if ((imported / CHUNK) % 10 === 0 || imported === TOTAL) {
        console.log(
          `  ${imported} imported, ${Math.round(imported / (importMs / 1000))} households/s so far`,
        );
      }
    };
    // A smaller run fills the first grids at the city's density (about 23.6 households a grid), so villages
    // keep their full-size make-up.
    const grids =
      TOTAL >= FULL_HOUSEHOLDS.total
        ? tree.grids
        : tree.grids.slice(0, Math.max(1, Math.round((tree.grids.length * TOTAL) / FULL_HOUSEHOLDS.total)));
    for (const { row, kind } of fullCityHouseholds(grids, { total: TOTAL, residents: RESIDENTS })) {
      expected[kind]++;
      chunk.push(row);
      if (chunk.length === CHUNK) await send();
    }
    if (chunk.length) await send();
    const importS = importMs / 1000;

    // Households were classified against their village as far as it was imported; settle every class once.
    const settle = await api(`/v1/units/${tree.cityId}/reclassify`, { method: "POST" });
    console.log(`settling reclassification: ${JSON.stringify(settle.body)}`);

    // 2. Plain UPDATE vs reclassification over the same rows.
    const [lo, hi] = [tree.cityPath, `${tree.cityPath.slice(0, -1)}0`];
    let t = performance.now();
    const plain = await client.execute({
      sql: `UPDATE households SET computed_class = computed_class, class = class, class_reasons = '[]', class_since = class_since,
              next_visit_due = next_visit_due, classified_at = ?, version = version + 1
            WHERE unit_path >= ? AND unit_path < ?`,
      args: [new Date().toISOString(), lo, hi],
    });
    const plainMs = performance.now() - t;
    t = performance.now();
    const full = await api(`/v1/units/${tree.cityId}/reclassify`, { method: "POST" });
    const fullMs = performance.now() - t;
    t = performance.now();
    const noop = await api(`/v1/units/${tree.cityId}/reclassify`, { method: "POST" });
    const noopMs = performance.now() - t;

    // 3. Summary and overdue latency, with a fifth of the scheduled households overdue by 1–30 days.
    await client.execute(
      `UPDATE households SET next_visit_due = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || (1 + abs(random()) % 30) || ' days')
       WHERE next_visit_due IS NOT NULL AND abs(random()) % 5 = 0`,
    );
    const times: number[] = [];
    let summary: unknown;
    for (let i = 0; i < GETS; i++) {
      const s = performance.now();
      summary = (await api(`/v1/units/${tree.cityId}/households/summary`)).body;
      times.push(performance.now() - s);
    }
    const overdueTimes: number[] = [];
    for (let i = 0; i < Math.min(GETS, 50); i++) {
      const s = performance.now();
      await api(`/v1/visits/overdue?unitId=${tree.cityId}&limit=50`);
      overdueTimes.push(performance.now() - s);
    }

    const cpu = cpus()[0]?.model ?? "unknown";
    console.log("");
    console.log(`machine:                      ${cpus().length} × ${cpu}, node ${process.version}`);
    console.log(
      `households imported:          ${imported} (+ ${residents} residents) in ${importS.toFixed(1)} s`,
    );
    console.log(`import rate:                  ${Math.round(imported / importS)} households/s`);
    console.log(`generated kinds:              ${JSON.stringify(expected)}`);
    console.log(
      `classes after reclassify:     ${JSON.stringify(full.body.byClass)} (city: 774,040 / 105,962 / 48,327)`,
    );
    console.log(`plain UPDATE, same rows:      ${Math.round(plainMs)} ms (${plain.rowsAffected} rows)`);
    console.log(
      `reclassify, every row stale:  ${Math.round(fullMs)} ms (server ${full.body.ms} ms; ${full.body.updated} rewritten, ${full.body.changed} changed class)`,
    );
    console.log(`ratio reclassify / plain:     ${(fullMs / plainMs).toFixed(2)}`);
    console.log(`reclassify, nothing to do:    ${Math.round(noopMs)} ms (${noop.body.updated} rewritten)`);
    console.log(`summary:                      ${JSON.stringify(summary)}`);
    console.log(
      `GET …/households/summary:     p50 ${percentile(times, 50).toFixed(1)} ms, p99 ${percentile(times, 99).toFixed(1)} ms (${GETS} sequential)`,
    );
    console.log(
      `GET /v1/visits/overdue (city): p50 ${percentile(overdueTimes, 50).toFixed(1)} ms, p99 ${percentile(overdueTimes, 99).toFixed(1)} ms (${overdueTimes.length} sequential, 50 per page)`,
    );
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
