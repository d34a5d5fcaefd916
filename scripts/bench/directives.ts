/**
 * `npm run bench:directives`: one directive to every grid of the full-size city.
 *
 * Starts its own sqld in a temp dir, migrates it, inserts the full-size unit tree (10 counties, 140 towns,
 * 5,916 villages = level-1 grids, 16,572 level-2 and 22,838 level-3 grids) directly with SQL, starts the
 * Worker with the Miniflare API (queues included, no wrangler dev proxy), issues one directive to
 * `levels: ["village", "grid"]` as the city centre and prints:
 *   - the fan-out time (POST until `GET /v1/directives/{id}` counts every receipt) and receipts/s;
 *   - `GET /v1/directives/{id}` latency p50/p99 at 45,326 receipts (sequential, loopback only).
 *
 *   npm run bench:directives            # BENCH_GETS=300 to change the number of timed GETs
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@libsql/client/web";
import { build } from "esbuild";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { signAccessToken } from "../../src/auth/tokens";
import { fullCityUnits } from "../gen/city-shape";
import { generateJwtPrivateJwk, generatePiiKey } from "../lib/dev-keys";
import { migrate } from "../lib/migrate";
import { startSqld } from "../lib/sqld";

const GETS = Number(process.env.BENCH_GETS ?? 300);
const ROOT = new URL("../../", import.meta.url).pathname;

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function insertTree(url: string) {
  const client = createClient({ url });
  const now = new Date().toISOString();
  const cityId = crypto.randomUUID();
  const cityCode = "610900";
  const byCode = new Map<string, { id: string; path: string; depth: number; gridLevel: number | null }>();
  byCode.set(cityCode, { id: cityId, path: `/${cityId}/`, depth: 0, gridLevel: null });
  const rows: unknown[][] = [[cityId, cityCode, "安康市", null, `/${cityId}/`, "city", null, 0]];
  for (const u of fullCityUnits(cityCode)) {
    const parent = byCode.get(u.parentCode)!;
    const id = crypto.randomUUID();
    const gridLevel = u.level === "village" ? 1 : u.level === "grid" ? (parent.gridLevel ?? 1) + 1 : null;
    const self = { id, path: `${parent.path}${id}/`, depth: parent.depth + 1, gridLevel };
    byCode.set(u.code, self);
    rows.push([id, u.code, u.name, parent.id, self.path, u.level, gridLevel, self.depth]);
  }
  for (let i = 0; i < rows.length; i += 5_000) {
    await client.execute({
      sql: `INSERT INTO units (id, code, name, parent_id, path, level, grid_level, depth, version, created_at, updated_at)
            SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, 1, ?, ?
            FROM json_each(?)`,
      args: [now, now, JSON.stringify(rows.slice(i, i + 5_000))],
    });
  }
  const userId = crypto.randomUUID();
  await client.execute({
    sql: `INSERT INTO users (id, username, display_name, role, unit_id, unit_path, password_hash, disabled, version, created_at, updated_at)
          VALUES (?, 'bench-city-centre', '市综治中心', 'center_staff', ?, ?, 'unused', 0, 1, ?, ?)`,
    args: [userId, cityId, `/${cityId}/`, now, now],
  });
  const counts = await client.execute("SELECT level, count(*) AS n FROM units GROUP BY level");
  client.close();
  return {
    cityId,
    userId,
    total: rows.length,
    byLevel: Object.fromEntries(counts.rows.map((r) => [String(r.level), Number(r.n)])),
  };
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), "grid321-bench-directives-"));
  const sqld = await startSqld({ dbPath: join(dir, "db") });
  let mf: Miniflare | undefined;
  try {
    const migrator = createClient({ url: sqld.url });
    await migrate(migrator);
    migrator.close();
    const t0 = performance.now();
    const tree = await insertTree(sqld.url);
    console.log(
      `unit tree: ${tree.total} units ${JSON.stringify(tree.byLevel)} inserted in ${Math.round(performance.now() - t0)} ms`,
    );

    const bundle = join(dir, "worker.js");
    await build({
      entryPoints: [join(ROOT, "src/index.ts")],
      bundle: true,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      conditions: ["workerd", "worker", "browser"],
      mainFields: ["module", "main"],
      external: ["cloudflare:*", "node:*"],
      outfile: bundle,
      logLevel: "error",
    });
    const vars = {
      ENVIRONMENT: "bench",
      LIBSQL_URL: sqld.url,
      LIBSQL_AUTH_TOKEN: "",
      JWT_PRIVATE_JWK: await generateJwtPrivateJwk(),
      PII_KEY: generatePiiKey(),
      JWT_ISSUER: "https://grid321.bench",
      JWT_AUDIENCE: "grid321-api",
      CORS_ORIGINS: "",
    };
    const queues = ["case-events", "escalations", "webhooks", "directives"];
    // The familiar v4 option shape, converted for Miniflare 5.
    mf = new Miniflare(
      convertV4MiniflareOptions({
        host: "127.0.0.1",
        workers: [
          {
            name: "grid321",
            modules: true,
            scriptPath: bundle,
            modulesRoot: dir,
            compatibilityDate: "2026-11-01",
            compatibilityFlags: ["nodejs_compat"],
            bindings: vars,
            durableObjects: { GRID_DESK: { className: "GridDesk", useSQLite: true } },
            r2Buckets: ["EVIDENCE"],
            queueProducers: Object.fromEntries(
              queues.flatMap((q) => {
                const binding = q.toUpperCase().replace(/-/g, "_");
                return [
                  [binding, { queueName: q }],
                  [`${binding}_DLQ`, { queueName: `${q}-dlq` }],
                ];
              }),
            ),
            queueConsumers: {
              directives: {
                maxBatchSize: 10,
                maxBatchTimeout: 1,
                maxRetries: 8,
                deadLetterQueue: "directives-dlq",
              },
            },
          },
        ],
      }),
    );
    await mf.ready;
    const token = await signAccessToken(vars as unknown as Cloudflare.Env, {
      userId: tree.userId,
      username: "bench-city-centre",
      role: "center_staff",
      unitId: tree.cityId,
      unitPath: `/${tree.cityId}/`,
      unitLevel: "city",
    });
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const base = "http://grid321.bench";

    // Warm the isolate and the libSQL client.
    await (await mf.dispatchFetch(`${base}/v1/directives?limit=1`, { headers })).text();

    const started = performance.now();
    const res = await mf.dispatchFetch(`${base}/v1/directives`, {
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
      const detail = (await (
        await mf.dispatchFetch(`${base}/v1/directives/${issued.id}`, { headers })
      ).json()) as {
        counts: { total: number };
      };
      total = detail.counts.total;
    }
    const fanoutS = (performance.now() - started) / 1000;

    const times: number[] = [];
    let last: unknown;
    for (let i = 0; i < GETS; i++) {
      const t = performance.now();
      const r = await mf.dispatchFetch(`${base}/v1/directives/${issued.id}`, { headers });
      last = await r.json();
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    // Baseline in the same run: a route with auth and one small libSQL read.
    const base1: number[] = [];
    for (let i = 0; i < GETS; i++) {
      const t = performance.now();
      await (await mf.dispatchFetch(`${base}/v1/directives?limit=1`, { headers })).text();
      base1.push(performance.now() - t);
    }
    base1.sort((a, b) => a - b);
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
  } finally {
    // A runtime that failed to start can throw on dispose; sqld must stop regardless.
    await mf?.dispose().catch(() => undefined);
    await sqld.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
