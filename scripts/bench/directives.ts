/**
 * `npm run bench:directives`: one directive to every grid of the full-size city.
 *
 * Starts its own stack (scripts/lib/bench-stack.ts: sqld in a temp dir, the Worker under Miniflare with the
 * directives queue consumer, no wrangler dev proxy), inserts the full-size unit tree (10 counties, 140
 * towns, 5,916 villages = level-1 grids, 16,572 level-2 and 22,838 level-3 grids) directly with SQL, issues
 * one directive to `levels: ["village", "grid"]` as the city centre and prints:
 *   - the fan-out time (POST until `GET /v1/directives/{id}` counts every receipt) and receipts/s;
 *   - `GET /v1/directives/{id}` latency p50/p99 at 45,326 receipts (sequential, loopback only).
 *
 *   npm run bench:directives            # BENCH_GETS=300 to change the number of timed GETs
 *   BENCH_SCOPE=0.01 BENCH_GETS=30 npm run bench:directives   # a 1 % city (1 county) for a quick check
 *
 * BENCH_SCOPE (0 < scope ≤ 1, default 1) scales the tree: at least one county, villages and grids in the
 * city's proportions.
 */
import {
  insertBenchUser,
  insertFullCityTree,
  percentile,
  scaledCityShape,
  withBenchStack,
} from "../lib/bench-stack";

const GETS = Number(process.env.BENCH_GETS ?? 300);
const SCOPE = Number(process.env.BENCH_SCOPE ?? 1);

async function main() {
  const shape = scaledCityShape(SCOPE);
  await withBenchStack({ name: "directives", consumers: ["directives"], echoErrors: true }, async (stack) => {
    const t0 = performance.now();
    const tree = await insertFullCityTree(stack.db, shape);
    const userId = await insertBenchUser(stack.db, { id: tree.cityId, path: tree.cityPath });
    console.log(
      `unit tree: ${tree.total} units ${JSON.stringify(tree.byLevel)} inserted in ${Math.round(performance.now() - t0)} ms`,
    );

    const token = await stack.tokenFor({
      userId,
      username: "bench-city-centre",
      role: "center_staff",
      unitId: tree.cityId,
      unitPath: tree.cityPath,
      unitLevel: "city",
    });
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };

    // Warm the isolate and the libSQL client.
    await (await stack.dispatch(`/v1/directives?limit=1`, { headers })).text();

    const started = performance.now();
    const res = await stack.dispatch(`/v1/directives`, {
      method: "POST",
      headers,
      body: JSON.stringify({
        title: "汛期地质灾害隐患排查",
        body: "各网格于规定时间内完成辖区隐患点排查并上报结果。",
        priority: "urgent",
        dueAt: new Date(Date.now() + 7 * 86_400_000).toISOString(),
        levels: ["village", "grid"],
      }),
    });
    const issued = (await res.json()) as { id: string; targetCount: number };
    const postMs = performance.now() - started;
    if (res.status !== 201) throw new Error(`POST /v1/directives → ${res.status} ${JSON.stringify(issued)}`);
    console.log(`POST /v1/directives: 201 in ${Math.round(postMs)} ms, targetCount ${issued.targetCount}`);

    let total = 0;
    const deadline = Date.now() + 300_000;
    while (total < issued.targetCount) {
      if (Date.now() > deadline) throw new Error(`fan-out stalled at ${total}/${issued.targetCount}`);
      await new Promise((r) => setTimeout(r, 100));
      const detail = (await (await stack.dispatch(`/v1/directives/${issued.id}`, { headers })).json()) as {
        counts: { total: number };
      };
      total = detail.counts.total;
    }
    const fanoutS = (performance.now() - started) / 1000;

    const times: number[] = [];
    let last: unknown;
    for (let i = 0; i < GETS; i++) {
      const t = performance.now();
      const r = await stack.dispatch(`/v1/directives/${issued.id}`, { headers });
      last = await r.json();
      times.push(performance.now() - t);
    }
    // Baseline in the same run: a route with auth and one small libSQL read.
    const base1: number[] = [];
    for (let i = 0; i < GETS; i++) {
      const t = performance.now();
      await (await stack.dispatch(`/v1/directives?limit=1`, { headers })).text();
      base1.push(performance.now() - t);
    }
    console.log(`counts by level: ${JSON.stringify((last as { countsByLevel: unknown }).countsByLevel)}`);
    console.log("");
    console.log(`receipts:                     ${total}`);
    console.log(`fan-out time:                 ${fanoutS.toFixed(2)} s (POST to last receipt visible)`);
    console.log(`receipts per second:          ${Math.round(total / fanoutS)}`);
    console.log(
      `GET /v1/directives/{id}:      p50 ${percentile(times, 50).toFixed(1)} ms, p99 ${percentile(times, 99).toFixed(1)} ms (${GETS} sequential)`,
    );
    console.log(
      `baseline GET ?limit=1:        p50 ${percentile(base1, 50).toFixed(1)} ms, p99 ${percentile(base1, 99).toFixed(1)} ms`,
    );
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
