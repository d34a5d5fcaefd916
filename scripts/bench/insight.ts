/**
 * `npm run bench:insight`: the figures at city scale. On a fresh bench stack (sqld + the Worker in Miniflare,
 * scripts/lib/bench-stack.ts) with the full-size unit tree (5,916 villages, 39,410 grids) it
 *
 *   1. generates BENCH_INSIGHT_CASES projected cases (default 3,160,000, the real city's count) and their
 *      events over 7 years across the grids, with `INSERT … SELECT` over a recursive CTE, 50,000 cases a
 *      statement. Every choice comes from an integer hash of (BENCH_SEED, case number, stream) in SQL, so a
 *      run is reproducible from its seed: type and severity by fixed weights; 2 % rejected, 3 % left reported;
 *      of the accepted, 55 % at the grid, 35 % village, 7 % town (escalated first), 3 % county (escalated
 *      first), 10 % overdue, 98 % resolved, 99 % of those return-visited (90 % satisfied, 7 % basically, 3 %
 *      dissatisfied, which reopens the case), the others closed an hour after the visit;
 *   2. builds the roll-ups from those events with the set-based rebuild (`rebuildRollupsInSql`, the function
 *      `npm run stats:rebuild` runs) and prints the time;
 *   3. prints p50/p99 of `GET /v1/units/{id}/figures/cases` for the city, one county and one town, and of
 *      `GET /v1/units/{id}/league`, for a month and for a year, against a plain `SELECT count(*)` over the
 *      cases of the same period (city, straight to sqld) in the same run;
 *   4. prints the time to publish every bulletin of one week (towns, counties, the city), then of one month,
 *      run in Node against the same sqld (the cron's code, not through workerd).
 *
 * Steps 1 and 2 write the SQLite file sqld then serves, offline (`prepareDatabase` of the bench stack, through
 * `node:sqlite`), not through sqld: sqld writes every page a statement changes into its replication log too,
 * and at full size that log outgrew its compaction (1.35 GB a 50,000-case statement, 25 GB of disk, stalled at
 * 1.7 M cases). So the rebuild's time is SQLite's on the file, with sqld's journal mode, synchronous and cache
 * size, without sqld's log; the run then checks that sqld serves every row and that the Worker counts every
 * case. Steps 3 and 4 go through sqld as before.
 *
 * Loopback only, bounded in count and time; stops everything it started and removes the database. `uptime`
 * is printed at the start and the end (the machine is shared).
 */
import { execFileSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Client } from "@libsql/client/web";
import { rebuildRollupsInSql } from "../../src/db/repos/figures";
import { publishDueBulletins } from "../../src/services/bulletins";
import { insertBenchUser, insertFullCityTree, percentile, withBenchStack } from "../lib/bench-stack";
import type { SqliteFile } from "../lib/sqlite-file";

const CASES = Number(process.env.BENCH_INSIGHT_CASES ?? 3_160_000);
const SEED = Number(process.env.BENCH_SEED ?? 321);
const CHUNK = 50_000;
const RUNS = 30;
const TYPES: Array<[string, number]> = [
  ["dispute", 0.25],
  ["safety_hazard", 0.15],
  ["public_security", 0.08],
  ["livelihood", 0.2],
  ["assistance", 0.08],
  ["proxy_service", 0.12],
  ["emergency", 0.02],
  ["environment", 0.07],
  ["other", 0.03],
];
const END = Date.parse("2026-11-30T16:00:00Z");
const START = END - 7 * 365 * 86_400_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

const ms = (t0: number) => performance.now() - t0;
const fmt = (x: number) => x.toFixed(1);
const uptime = () => execFileSync("uptime", { encoding: "utf8" }).trim();
const chinaDay = (msUtc: number) => new Date(msUtc + 8 * HOUR).toISOString().slice(0, 10);

/** `a ^ (a >> s)` in SQLite, which has no XOR: `(a | b) - (a & b)`. */
const xorShift = (a: string, s: number) => `((${a} | (${a} >> ${s})) - (${a} & (${a} >> ${s})))`;
const U32 = 4294967296;
const STREAMS = 8;
/**
 * The CTEs `h0`…`h3` giving each case number `i` of `seq` eight 32-bit hashes `a0`…`a7` (a murmur-style
 * finalizer; the odd multipliers stay below 2^31 so every product fits SQLite's 64-bit integers).
 */
const hashCtes = () => {
  const cols = (f: (k: number) => string) =>
    Array.from({ length: STREAMS }, (_, k) => `${f(k)} AS a${k}`).join(", ");
  return `h0 AS MATERIALIZED (SELECT i, ${cols((k) => `((i * ${STREAMS} + ${k}) * 2654435761 + ${SEED} * 97531 + 12345) % ${U32}`)} FROM seq),
  h1 AS MATERIALIZED (SELECT i, ${cols((k) => `${xorShift(`a${k}`, 16)} * 2146121005 % ${U32}`)} FROM h0),
  h2 AS MATERIALIZED (SELECT i, ${cols((k) => `${xorShift(`a${k}`, 15)} * 739982445 % ${U32}`)} FROM h1),
  h3 AS MATERIALIZED (SELECT i, ${cols((k) => xorShift(`a${k}`, 16))} FROM h2)`;
};
/** Uniforms in [0, 1): `u(n)` for n in 0…15 are the low and high 16 bits of the eight hashes. */
const u = (n: number) =>
  n % 2 === 0 ? `((a${n >> 1} % 65536) / 65536.0)` : `((a${n >> 1} / 65536) / 65536.0)`;
const iso = (msExpr: string) => `strftime('%Y-%m-%dT%H:%M:%fZ', (${msExpr}) / 1000.0, 'unixepoch')`;

function typeSql(x: string): string {
  let acc = 0;
  const whens = TYPES.map(([t, w]) => {
    acc += w;
    return `WHEN ${x} < ${acc.toFixed(4)} THEN '${t}'`;
  });
  return `CASE ${whens.join(" ")} ELSE 'other' END`;
}

/**
 * One chunk's plan: per case its owner, facts and the instant (ms) of each of its events, null when it has
 * none. Case `i` is reported in its slot of the 7 years (cases are numbered in time order, so the indexes
 * grow at their ends), at a hashed grid.
 */
const PLAN_SQL = `INSERT INTO bench_plan
WITH RECURSIVE seq(i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < ?2),
  ${hashCtes()},
  p AS MATERIALIZED (
    SELECT i, (a0 % (SELECT count(*) FROM bench_grids)) AS g,
      ${START} + CAST((i + ${u(2)}) * ${(END - START) / CASES} AS INTEGER) AS created,
      ${typeSql(u(3))} AS type,
      CASE WHEN ${u(4)} < 0.8 THEN 'normal' WHEN ${u(4)} < 0.96 THEN 'urgent' ELSE 'critical' END AS severity,
      ${u(5)} AS fate, ${u(6)} AS lv, ${u(7)} AS acc, ${u(8)} AS od, ${u(9)} AS res, ${u(10)} AS rd,
      ${u(11)} AS vis, ${u(12)} AS sat, ${u(13)} AS lat, ${u(14)} AS lng
    FROM h3
  ),
  q AS MATERIALIZED (
    SELECT p.*, CASE WHEN fate < 0.02 THEN 'rejected' WHEN fate < 0.05 THEN 'none'
        WHEN lv < 0.55 THEN 'grid' WHEN lv < 0.9 THEN 'village' WHEN lv < 0.97 THEN 'town' ELSE 'county' END AS level,
      fate >= 0.05 AND od < 0.1 AS overdue
    FROM p
  ),
  r AS MATERIALIZED (
    SELECT q.*,
      CASE WHEN level IN ('town', 'county') THEN created + CAST(acc * acc * ${4 * HOUR} AS INTEGER) END AS escalated_ms,
      CASE WHEN level NOT IN ('rejected', 'none') THEN created + CAST(acc * acc * ${8 * HOUR} AS INTEGER) END AS accepted_ms,
      CASE WHEN level = 'rejected' THEN created + CAST(acc * ${2 * HOUR} AS INTEGER) END AS rejected_ms
    FROM q
  ),
  s AS MATERIALIZED (
    SELECT r.*,
      CASE WHEN overdue THEN accepted_ms + ${3 * DAY} END AS overdue_ms,
      CASE WHEN accepted_ms IS NOT NULL AND res < 0.98
        THEN accepted_ms + CAST(rd * rd * ${5 * DAY} AS INTEGER) + CASE WHEN overdue THEN ${3 * DAY} ELSE 0 END END AS resolved_ms
    FROM r
  )
  SELECT i, printf('%08x-0000-4000-8000-%012x', ${SEED}, i), g.grid_id, g.grid_path, g.village_id,
    CASE level WHEN 'village' THEN g.village_id WHEN 'town' THEN g.town_id WHEN 'county' THEN g.county_id ELSE g.grid_id END,
    CASE level WHEN 'village' THEN g.village_path WHEN 'town' THEN g.town_path WHEN 'county' THEN g.county_path ELSE g.grid_path END,
    CASE WHEN level IN ('rejected', 'none') THEN 'grid' ELSE level END,
    type, severity, created, escalated_ms, accepted_ms, rejected_ms, overdue_ms, resolved_ms,
    CASE WHEN resolved_ms IS NOT NULL AND vis < 0.99 THEN resolved_ms + CAST(vis * ${2 * DAY} AS INTEGER) END,
    CASE WHEN sat < 0.9 THEN 'satisfied' WHEN sat < 0.97 THEN 'basically_satisfied' ELSE 'dissatisfied' END,
    32.2 + lat * 1.2, 108.0 + lng * 2.2
  FROM s JOIN bench_grids g ON g.n = s.g`;

const PLAN_TABLE = `CREATE TABLE IF NOT EXISTS bench_plan (i INTEGER PRIMARY KEY, id TEXT, grid_id TEXT, grid_path TEXT,
  village_id TEXT, actor_id TEXT, actor_path TEXT, level TEXT, type TEXT, severity TEXT, created INTEGER,
  escalated_ms INTEGER, accepted_ms INTEGER, rejected_ms INTEGER, overdue_ms INTEGER, resolved_ms INTEGER,
  visited_ms INTEGER, sat TEXT, lat REAL, lng REAL)`;

/** The plan's events with their seq: reported, then whichever of the others the case has, in time order. */
const EVENTS_SQL = `INSERT INTO case_events (case_id, seq, type, actor_id, actor_role, actor_unit_id, at, payload)
WITH e AS (
  SELECT id, 1 AS k, 'reported' AS type, grid_id AS actor_unit, created AS at, '{}' AS payload FROM bench_plan
  UNION ALL SELECT id, 2, 'rejected', grid_id, rejected_ms, '{}' FROM bench_plan WHERE rejected_ms IS NOT NULL
  UNION ALL SELECT id, 2, 'escalated', NULL, escalated_ms, json_object('toLevel', level) FROM bench_plan WHERE escalated_ms IS NOT NULL
  UNION ALL SELECT id, 3, 'accepted', actor_id, accepted_ms, '{}' FROM bench_plan WHERE accepted_ms IS NOT NULL
  UNION ALL SELECT id, 4, 'overdue', NULL, overdue_ms, '{}' FROM bench_plan WHERE overdue_ms IS NOT NULL
  UNION ALL SELECT id, 5, 'resolved', actor_id, resolved_ms, '{}' FROM bench_plan WHERE resolved_ms IS NOT NULL
  UNION ALL SELECT id, 6, 'return_visited', actor_id, visited_ms, json_object('satisfaction', sat) FROM bench_plan WHERE visited_ms IS NOT NULL
  UNION ALL SELECT id, 7, 'closed', actor_id, visited_ms + ${HOUR}, '{}' FROM bench_plan WHERE visited_ms IS NOT NULL AND sat <> 'dissatisfied'
)
SELECT id, row_number() OVER (PARTITION BY id ORDER BY k), type,
  CASE WHEN actor_unit IS NULL THEN NULL ELSE 'bench-staff' END, CASE WHEN actor_unit IS NULL THEN NULL ELSE 'center_staff' END,
  actor_unit, ${iso("at")}, payload
FROM e ORDER BY id, k`;

/** The plan's cases as the projection stores them, in their state after their last event. */
const CASES_SQL = `INSERT INTO cases (id, owning_unit_id, owning_unit_path, village_id, responsible_unit_id,
  responsible_unit_path, responsible_level, responsible_department, coordinator_unit_id, type, severity, state,
  title, description, lat, lng, reporter_id, version, seq, created_at, updated_at, closed_at, projected_at, doc,
  resolved_at, resolved_level, overdue, escalation_count)
SELECT id, grid_id, grid_path, village_id, actor_id, actor_path, level, NULL, NULL, type, severity,
  CASE WHEN rejected_ms IS NOT NULL THEN 'rejected' WHEN visited_ms IS NOT NULL AND sat = 'dissatisfied' THEN 'reopened'
    WHEN visited_ms IS NOT NULL THEN 'closed' WHEN resolved_ms IS NOT NULL THEN 'resolved'
    WHEN accepted_ms IS NOT NULL THEN 'accepted' ELSE 'reported' END,
  '事件', '', lat, lng, 'bench-reporter', n, n, ${iso("created")}, ${iso("last")},
  CASE WHEN visited_ms IS NOT NULL AND sat <> 'dissatisfied' THEN ${iso(`visited_ms + ${HOUR}`)} END,
  ${iso("last")}, '{}', ${iso("resolved_ms")}, CASE WHEN resolved_ms IS NOT NULL THEN level END,
  overdue_ms IS NOT NULL, escalated_ms IS NOT NULL
FROM (SELECT *, 1 + (rejected_ms IS NOT NULL) + (escalated_ms IS NOT NULL) + (accepted_ms IS NOT NULL)
    + (overdue_ms IS NOT NULL) + (resolved_ms IS NOT NULL) + 2 * (visited_ms IS NOT NULL) - (sat = 'dissatisfied' AND visited_ms IS NOT NULL) AS n,
  max(created, coalesce(rejected_ms, 0), coalesce(accepted_ms, 0), coalesce(resolved_ms, 0),
    coalesce(visited_ms + CASE WHEN sat <> 'dissatisfied' THEN ${HOUR} ELSE 0 END, 0)) AS last
  FROM bench_plan)`;

/** The pragmas sqld runs its database with (as it reports them), set again for the timed rebuild. */
const SQLD_PRAGMAS = { journal_mode: "wal", synchronous: 1, cache_size: -2000 } as const;

let tree!: Awaited<ReturnType<typeof insertFullCityTree>>;
const idOfLevel = new Map<string, string[]>();
let generated = { cases: 0, events: 0 };
let rebuildSeconds = 0;

/**
 * Steps 1 and 2, offline: the tree, the cases and events, and the roll-ups, written into the SQLite file sqld
 * then serves (see the file comment for why not through sqld).
 */
async function load(db: Client, file: SqliteFile): Promise<void> {
  console.log(`load at start: ${uptime()}`);
  // Generation is arranging data, not a measured product path: no journal, no syncs, a large page cache.
  file.sqlite.exec("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -1048576");
  let t0 = performance.now();
  tree = await insertFullCityTree(db);
  console.log(`tree: ${tree.total} units in ${fmt(ms(t0) / 1000)} s`);
  const units = await db.execute(
    "SELECT id, path, level, parent_id FROM units WHERE level IN ('county','town','village')",
  );
  for (const r of units.rows)
    idOfLevel.set(String(r.level), [...(idOfLevel.get(String(r.level)) ?? []), String(r.id)]);

  // The grids numbered in code order, with the ids and paths of their village, town and county.
  await db.execute(`CREATE TABLE bench_grids (n INTEGER PRIMARY KEY, grid_id TEXT, grid_path TEXT, village_id TEXT,
    village_path TEXT, town_id TEXT, town_path TEXT, county_id TEXT, county_path TEXT)`);
  await db.execute(PLAN_TABLE);
  const rows = tree.grids.map((g, n) => {
    const ids = g.path.split("/").filter(Boolean);
    const upTo = (d: number) => `/${ids.slice(0, d + 1).join("/")}/`;
    return [n, ids.at(-1)!, g.path, ids[3]!, upTo(3), ids[2]!, upTo(2), ids[1]!, upTo(1)];
  });
  for (let k = 0; k < rows.length; k += 500) {
    const chunk = rows.slice(k, k + 500);
    await db.execute({
      sql: `INSERT INTO bench_grids VALUES ${chunk.map(() => "(?,?,?,?,?,?,?,?,?)").join(",")}`,
      args: chunk.flat(),
    });
  }

  // 1. Cases and events, a chunk at a time.
  t0 = performance.now();
  for (let done = 0; done < CASES; done += CHUNK) {
    await db.batch(
      [
        "DELETE FROM bench_plan",
        { sql: PLAN_SQL, args: [done, Math.min(CASES, done + CHUNK)] },
        CASES_SQL,
        EVENTS_SQL,
      ],
      "write",
    );
    if ((done / CHUNK) % 10 === 9) console.log(`  ${done + CHUNK} cases in ${fmt(ms(t0) / 1000)} s`);
  }
  await db.execute("DROP TABLE bench_plan");
  await db.execute("DROP TABLE bench_grids");
  const counts = await db.execute(
    "SELECT (SELECT count(*) FROM cases) AS cases, (SELECT count(*) FROM case_events) AS events",
  );
  generated = { cases: Number(counts.rows[0]!.cases), events: Number(counts.rows[0]!.events) };
  console.log(
    `generated ${generated.cases} cases and ${generated.events} events in ${fmt(ms(t0) / 1000)} s (seed ${SEED}; ` +
      "SQLite file offline, journal off, synchronous off, 1 GiB page cache)",
  );
  const states = await db.execute("SELECT state, count(*) AS n FROM cases GROUP BY state ORDER BY n DESC");
  console.log(`  states: ${states.rows.map((r) => `${r.state} ${r.n}`).join(", ")}`);

  // 2. Roll-ups from the events: the product's set-based rebuild, timed on the file with sqld's own settings.
  file.sqlite.exec(
    `PRAGMA journal_mode = ${SQLD_PRAGMAS.journal_mode}; PRAGMA synchronous = ${SQLD_PRAGMAS.synchronous}; ` +
      `PRAGMA cache_size = ${SQLD_PRAGMAS.cache_size}`,
  );
  t0 = performance.now();
  let slowest = 0;
  let sliced = 0;
  const built = await rebuildRollupsInSql(
    { $client: db },
    {
      onSlice: (s) => {
        slowest = Math.max(slowest, s.ms);
        if (++sliced % 12 === 0)
          console.log(
            `  ${sliced} months (${s.from}: ${s.rows} rows in ${fmt(s.ms / 1000)} s) at ${fmt(ms(t0) / 1000)} s`,
          );
      },
    },
  );
  rebuildSeconds = ms(t0) / 1000;
  console.log(
    `roll-ups (rebuildRollupsInSql in SQLite ${sqliteVersion(file)} on the file, WAL, synchronous NORMAL, ` +
      `cache_size ${SQLD_PRAGMAS.cache_size} as sqld): ${built.rows} rows from ${generated.events} events over ` +
      `${built.slices} months in ${fmt(rebuildSeconds)} s (${Math.round(generated.events / rebuildSeconds)} events/s, ` +
      `slowest month ${fmt(slowest / 1000)} s)`,
  );
  console.log(`database file before sqld: ${fmt(statSync(file.path).size / 2 ** 30)} GiB; load: ${uptime()}`);
}

/** The sizes of sqld's files of the database (data, its WAL, the replication log), for the record. */
const sqldFiles = (dir: string) =>
  readdirSync(dir, { withFileTypes: true })
    .filter((f) => f.isFile() && ["data", "data-wal", "wallog"].includes(f.name))
    .map((f) => `${f.name} ${fmt(statSync(join(dir, f.name)).size / 2 ** 20)} MiB`)
    .join(", ");

const sqliteVersion = (file: SqliteFile) =>
  String((file.sqlite.prepare("SELECT sqlite_version() AS v").get() as { v: string }).v);

await withBenchStack({ name: "insight", echoErrors: true, prepareDatabase: load }, async (stack) => {
  const db = stack.db;
  // sqld opened the file: check it serves what was loaded, with the settings the rebuild was timed under.
  const served = await db.execute(
    "SELECT (SELECT count(*) FROM cases) AS cases, (SELECT count(*) FROM case_events) AS events",
  );
  const pragmas = await db.batch(["PRAGMA journal_mode", "PRAGMA synchronous", "PRAGMA cache_size"], "read");
  console.log(
    `sqld serves ${served.rows[0]!.cases} cases and ${served.rows[0]!.events} events ` +
      `(journal_mode ${pragmas[0]!.rows[0]![0]}, synchronous ${pragmas[1]!.rows[0]![0]}, cache_size ${pragmas[2]!.rows[0]![0]})`,
  );
  if (
    Number(served.rows[0]!.cases) !== generated.cases ||
    Number(served.rows[0]!.events) !== generated.events
  )
    throw new Error("sqld does not serve the rows loaded into its file");
  console.log(`sqld's files: ${sqldFiles(stack.sqldDatabaseDir)}`);

  // 3. Figures endpoints.
  const userId = await insertBenchUser(db, { id: tree.cityId, path: tree.cityPath });
  const token = await stack.tokenFor({
    userId,
    role: "center_staff",
    unitId: tree.cityId,
    unitPath: tree.cityPath,
    unitLevel: "city",
  });
  const whole = await stack.dispatch(
    `/v1/units/${tree.cityId}/figures/cases?from=${chinaDay(START)}&to=${chinaDay(END - DAY)}&granularity=month`,
    { headers: { authorization: `Bearer ${token}` } },
  );
  const reported = ((await whole.json()) as { totals?: { reported?: number } }).totals?.reported;
  console.log(
    `figures/cases city over the 7 years through the Worker: ${reported} reported (${whole.status})`,
  );
  if (reported !== generated.cases) throw new Error("the Worker's figures do not count every loaded case");
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
    let periodCases = 0;
    for (let i = 0; i < RUNS; i++) {
      const s = performance.now();
      const r = await db.execute({
        sql: "SELECT count(*) AS n FROM cases WHERE created_at >= ? AND created_at < ?",
        args: [
          new Date(Date.parse(`${from}T00:00:00+08:00`)).toISOString(),
          new Date(Date.parse(`${to}T00:00:00+08:00`) + DAY).toISOString(),
        ],
      });
      base.push(ms(s));
      periodCases = Number(r.rows[0]!.n);
    }
    const b50 = percentile(base, 50);
    console.log(
      `${name}: plain SELECT count(*) over the period's ${periodCases} cases p50 ${fmt(b50)} ms p99 ${fmt(percentile(base, 99))} ms`,
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
        `${name}: figures/cases ${label} p50 ${fmt(percentile(s, 50))} ms p99 ${fmt(percentile(s, 99))} ms (p50 ${fmt(percentile(s, 50) / b50)}× the count)`,
      );
    }
    const l = await time(`/v1/units/${tree.cityId}/league?from=${from}&to=${to}`);
    console.log(
      `${name}: league city (10 counties) p50 ${fmt(percentile(l, 50))} ms p99 ${fmt(percentile(l, 99))} ms (p50 ${fmt(percentile(l, 50) / b50)}× the count)`,
    );
  }

  // 4. Bulletins of one week, then one month, for every centre. Each is written with its audit row, whose MAC
  // this Node process signs with the stack's AUDIT_KEY (as the seed does).
  process.env.AUDIT_KEY = stack.vars.AUDIT_KEY;
  const env = {
    LIBSQL_URL: stack.sqldUrl,
    LIBSQL_AUTH_TOKEN: "",
    WEBHOOKS: { sendBatch: async () => undefined },
  } as unknown as Cloudflare.Env;
  const centres = idOfLevel.get("county")!.length + idOfLevel.get("town")!.length + 1;
  for (const kind of ["week", "month"] as const) {
    const t0 = performance.now();
    const published = await publishDueBulletins(env, Date.parse("2026-12-07T02:00:00Z"), { kinds: [kind] });
    console.log(`bulletins: ${published} of one ${kind} (${centres} centres) in ${fmt(ms(t0) / 1000)} s`);
  }
  console.log(`sqld's files at the end: ${sqldFiles(stack.sqldDatabaseDir)}`);
  console.log(`load at end: ${uptime()}`);
  if (stack.runtimeErrors.count)
    console.log(`worker errors: ${stack.runtimeErrors.count} ${stack.runtimeErrors.samples.join(" | ")}`);
});
