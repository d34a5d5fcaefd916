/**
 * `npm run bench:insight`: the figures at city scale. On a fresh bench stack (sqld + the Worker in Miniflare,
 * scripts/lib/bench-stack.ts) with the full-size unit tree (5,916 villages, 39,410 grids) it
 *
 *   1. inserts BENCH_INSIGHT_CASES projected cases (default 300,000; the real city has 3.16 M) spread over 7
 *      years across the grids, seeded (BENCH_SEED), with a mix of types and severities and their events
 *      (reported; 95 % accepted; 93 % resolved at grid/village/town/county; 92 % closed; 10 % overdue);
 *   2. builds the roll-ups from those events (`rebuildRollups`, what `npm run stats:rebuild` runs) and
 *      prints the time;
 *   3. prints p50/p99 of `GET /v1/units/{id}/figures/cases` for the city, one county and one town, and of
 *      `GET /v1/units/{id}/league`, for a month and for a year, against a plain `SELECT count(*)` over the
 *      cases of the same period (city, straight to sqld) in the same run;
 *   4. prints the time to publish every bulletin of one week and month (150 towns and counties plus the
 *      city), run in Node against the same sqld (the cron's code, not through workerd).
 *
 * Loopback only, bounded in count and time; stops everything it started.
 */
import { rebuildRollups } from "../../src/db/repos/figures";
import { publishDueBulletins } from "../../src/services/bulletins";
import { insertBenchUser, insertFullCityTree, percentile, withBenchStack } from "../lib/bench-stack";

const CASES = Number(process.env.BENCH_INSIGHT_CASES ?? 300_000);
const SEED = Number(process.env.BENCH_SEED ?? 321);
const RUNS = 30;
const TYPES = [
  "dispute",
  "safety_hazard",
  "public_security",
  "livelihood",
  "assistance",
  "proxy_service",
  "emergency",
  "environment",
  "other",
];
const TYPE_WEIGHTS = [0.25, 0.15, 0.08, 0.2, 0.08, 0.12, 0.02, 0.07, 0.03];
const END = Date.parse("2026-11-30T16:00:00Z");
const START = END - 7 * 365 * 86_400_000;

/** A small seeded generator (mulberry32), so a run is reproducible from its seed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ms = (t0: number) => performance.now() - t0;
const fmt = (x: number) => x.toFixed(1);

await withBenchStack({ name: "insight", echoErrors: true }, async (stack) => {
  const db = stack.db;
  let t0 = performance.now();
  const tree = await insertFullCityTree(db);
  console.log(`tree: ${tree.total} units in ${fmt(ms(t0) / 1000)} s`);
  const units = await db.execute(
    "SELECT id, path, level, parent_id FROM units WHERE level IN ('county','town','village')",
  );
  const idOfLevel = new Map<string, string[]>();
  for (const r of units.rows)
    idOfLevel.set(String(r.level), [...(idOfLevel.get(String(r.level)) ?? []), String(r.id)]);
  const rnd = seeded(SEED);
  const pickType = () => {
    let x = rnd();
    for (let i = 0; i < TYPES.length; i++) {
      x -= TYPE_WEIGHTS[i]!;
      if (x < 0) return TYPES[i]!;
    }
    return "other";
  };
  const ancestorOfLevel = (path: string, depth: number) => path.split("/").filter(Boolean)[depth]!;

  // 1. Cases and events, inserted in batches straight into the projection's tables.
  t0 = performance.now();
  let events = 0;
  const CHUNK = 2000;
  for (let done = 0; done < CASES; done += CHUNK) {
    const statements: Array<{ sql: string; args: Array<string | number | null> }> = [];
    const caseRows: string[] = [];
    const caseArgs: Array<string | number | null> = [];
    const eventRows: string[] = [];
    const eventArgs: Array<string | number | null> = [];
    for (let i = done; i < Math.min(CASES, done + CHUNK); i++) {
      const grid = tree.grids[Math.floor(rnd() * tree.grids.length)]!;
      const gridId = grid.path.split("/").filter(Boolean).at(-1)!;
      const created = START + Math.floor(rnd() * (END - START));
      const id = crypto.randomUUID();
      const type = pickType();
      const severity = rnd() < 0.8 ? "normal" : rnd() < 0.8 ? "urgent" : "critical";
      const evs: Array<[string, number, string | null, string]> = [["reported", created, null, "{}"]];
      let state = "reported";
      let at = created;
      const overdue = rnd() < 0.1;
      let level = "grid";
      if (rnd() < 0.95) {
        at += Math.floor(rnd() * 8 * 3600_000);
        const x = rnd();
        level = x < 0.55 ? "grid" : x < 0.9 ? "village" : x < 0.97 ? "town" : "county";
        const depth = {
          grid: grid.path.split("/").filter(Boolean).length - 1,
          village: 3,
          town: 2,
          county: 1,
        }[level]!;
        const actorUnit = level === "grid" ? gridId : ancestorOfLevel(grid.path, depth);
        evs.push(["accepted", at, actorUnit, "{}"]);
        state = "accepted";
        if (overdue) {
          at += 3 * 86_400_000;
          evs.push(["overdue", at, null, "{}"]);
        }
        if (rnd() < 0.98) {
          at += Math.floor(rnd() * 5 * 86_400_000);
          evs.push(["resolved", at, actorUnit, "{}"]);
          state = "resolved";
          if (rnd() < 0.99) {
            at += Math.floor(rnd() * 2 * 86_400_000);
            const s = rnd() < 0.9 ? "satisfied" : rnd() < 0.7 ? "basically_satisfied" : "dissatisfied";
            evs.push(["return_visited", at, actorUnit, JSON.stringify({ satisfaction: s })]);
            if (s !== "dissatisfied") {
              at += 3600_000;
              evs.push(["closed", at, actorUnit, "{}"]);
              state = "closed";
            } else state = "reopened";
          }
        }
      }
      const lat = 32.2 + rnd() * 1.2;
      const lng = 108.0 + rnd() * 2.2;
      caseRows.push("(?,?,?,?,?,?,?,?,?,?,?,?,'事件','',?,?,'u',1,1,?,?,?,?,'{}',?,?,?,0)");
      caseArgs.push(
        id,
        gridId,
        grid.path,
        ancestorOfLevel(grid.path, 3),
        gridId,
        grid.path,
        level,
        null,
        null,
        type,
        severity,
        state,
        lat,
        lng,
        new Date(created).toISOString(),
        new Date(at).toISOString(),
        state === "closed" ? new Date(at).toISOString() : null,
        new Date(at).toISOString(),
        state === "closed" || state === "resolved" ? new Date(at).toISOString() : null,
        state === "closed" || state === "resolved" ? level : null,
        overdue ? 1 : 0,
      );
      evs.forEach(([t, when, actor, payload], k) => {
        eventRows.push("(?,?,?,?,?,?,?,?)");
        eventArgs.push(
          id,
          k + 1,
          t,
          actor ? "bench" : null,
          actor ? "center_staff" : null,
          actor,
          new Date(when).toISOString(),
          payload,
        );
      });
      events += evs.length;
    }
    for (let k = 0; k < caseRows.length; k += 1000) {
      statements.push({
        sql: `INSERT INTO cases (id, owning_unit_id, owning_unit_path, village_id, responsible_unit_id, responsible_unit_path,
              responsible_level, responsible_department, coordinator_unit_id, type, severity, state, title, description,
              lat, lng, reporter_id, version, seq, created_at, updated_at, closed_at, projected_at, doc, resolved_at,
              resolved_level, overdue, escalation_count) VALUES ${caseRows.slice(k, k + 1000).join(",")}`,
        args: caseArgs.slice(k * 21, (k + 1000) * 21),
      });
    }
    for (let k = 0; k < eventRows.length; k += 1000) {
      statements.push({
        sql: `INSERT INTO case_events (case_id, seq, type, actor_id, actor_role, actor_unit_id, at, payload)
              VALUES ${eventRows.slice(k, k + 1000).join(",")}`,
        args: eventArgs.slice(k * 8, (k + 1000) * 8),
      });
    }
    await db.batch(statements, "write");
  }
  console.log(`generated ${CASES} cases and ${events} events in ${fmt(ms(t0) / 1000)} s (seed ${SEED})`);

  // 2. Roll-ups from the events.
  t0 = performance.now();
  const built = await rebuildRollups({ $client: db } as never);
  const rollupRows = Number((await db.execute("SELECT count(*) AS n FROM case_rollups")).rows[0]!.n);
  console.log(`roll-ups: ${rollupRows} rows from ${built.events} events in ${fmt(ms(t0) / 1000)} s`);

  // 3. Figures endpoints.
  const userId = await insertBenchUser(db, { id: tree.cityId, path: tree.cityPath });
  const token = await stack.tokenFor({
    userId,
    role: "center_staff",
    unitId: tree.cityId,
    unitPath: tree.cityPath,
    unitLevel: "city",
  });
  const county = idOfLevel.get("county")![0]!;
  const town = idOfLevel.get("town")![0]!;
  const periods = { month: ["2026-10-01", "2026-10-31"], year: ["2025-12-01", "2026-11-30"] } as const;
  const time = async (path: string) => {
    const samples: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const s = performance.now();
      const res = await stack.dispatch(path, { headers: { authorization: `Bearer ${token}` } });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
      samples.push(ms(s));
    }
    return samples;
  };
  for (const [name, [from, to]] of Object.entries(periods)) {
    const base: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const s = performance.now();
      await db.execute({
        sql: "SELECT count(*) FROM cases WHERE created_at >= ? AND created_at < ?",
        args: [
          new Date(Date.parse(`${from}T00:00:00+08:00`)).toISOString(),
          new Date(Date.parse(`${to}T00:00:00+08:00`) + 86_400_000).toISOString(),
        ],
      });
      base.push(ms(s));
    }
    console.log(
      `${name}: plain SELECT count(*) over the period's cases p50 ${fmt(percentile(base, 50))} ms p99 ${fmt(percentile(base, 99))} ms`,
    );
    for (const [label, id] of [
      ["city", tree.cityId],
      ["county", county],
      ["town", town],
    ] as const) {
      const s = await time(
        `/v1/units/${id}/figures/cases?from=${from}&to=${to}&granularity=${name === "year" ? "month" : "day"}`,
      );
      console.log(
        `${name}: figures/cases ${label} p50 ${fmt(percentile(s, 50))} ms p99 ${fmt(percentile(s, 99))} ms (${fmt(percentile(s, 50) / percentile(base, 50))}× the count)`,
      );
    }
    const l = await time(`/v1/units/${tree.cityId}/league?from=${from}&to=${to}`);
    console.log(
      `${name}: league city (10 counties) p50 ${fmt(percentile(l, 50))} ms p99 ${fmt(percentile(l, 99))} ms`,
    );
  }

  // 4. Bulletins of one week and month for every centre.
  t0 = performance.now();
  const env = {
    LIBSQL_URL: stack.sqldUrl,
    LIBSQL_AUTH_TOKEN: "",
    WEBHOOKS: { sendBatch: async () => undefined },
  } as unknown as Cloudflare.Env;
  const published = await publishDueBulletins(env, Date.parse("2026-12-07T02:00:00Z"));
  console.log(
    `bulletins: ${published} published (week and month of ${idOfLevel.get("county")!.length + idOfLevel.get("town")!.length + 1} centres) in ${fmt(ms(t0) / 1000)} s`,
  );
  if (stack.runtimeErrors.count)
    console.log(`worker errors: ${stack.runtimeErrors.count} ${stack.runtimeErrors.samples.join(" | ")}`);
});
