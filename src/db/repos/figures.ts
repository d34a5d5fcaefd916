import type { InStatement } from "@libsql/client/web";
import {
  addCounts,
  BUCKET_COUNT,
  BUCKET_UPPER_MS,
  COUNTED_EVENTS,
  emptyCounts,
  LEVEL_MOVING_EVENTS,
  monthPeriods,
  PLAIN_COUNTED_EVENTS,
  periodInstants,
  ROLLUP_COUNTERS,
  type RollupCase,
  type RollupCounter,
  type RollupCounts,
  RollupTracker,
  rollupDay,
  rollupDelta,
} from "../../domain/case-figures";
import type { CaseEventMessage } from "../../domain/case-model";
import { pathIds, subtreeRange, type UnitLevel } from "../../domain/units";
import type { Db } from "../../platform/db/client";

/** Roll-up rows written per statement: a few hundred keeps each statement well under libSQL's limits. */
const ROWS_PER_STATEMENT = 200;

/** One roll-up row's key. */
export interface RollupKey {
  unitId: string;
  day: string;
  type: string;
  severity: string;
}

/** Collects roll-up increments by key, then writes them as additive upserts. */
export class RollupBatch {
  private readonly rows = new Map<string, { key: RollupKey; counts: RollupCounts }>();

  /** Counts one event of a case owned at `owningPath` in the rows of the owner and each of its ancestors. */
  add(
    owningPath: string,
    c: { type: string; severity: string },
    event: { type: string; at: string; payload: Record<string, unknown> },
    context: RollupCase,
  ): void {
    const delta = rollupDelta(event, context);
    if (Object.keys(delta).length === 0) return;
    const day = rollupDay(event.at);
    for (const unitId of pathIds(owningPath)) {
      const id = `${unitId}|${day}|${c.type}|${c.severity}`;
      let row = this.rows.get(id);
      if (!row) {
        row = { key: { unitId, day, type: c.type, severity: c.severity }, counts: emptyCounts() };
        this.rows.set(id, row);
      }
      addCounts(row.counts, delta);
    }
  }

  get size(): number {
    return this.rows.size;
  }

  /**
   * The upserts adding the collected counts to the stored rows. Raw SQL: the column list is the counters
   * this batch touches, each added to the stored value; the counts are integers this code computed, so they
   * are written as literals and only the keys are parameters.
   */
  statements(): InStatement[] {
    const all = [...this.rows.values()];
    const out: InStatement[] = [];
    for (let i = 0; i < all.length; i += ROWS_PER_STATEMENT) {
      const chunk = all.slice(i, i + ROWS_PER_STATEMENT);
      const used = ROLLUP_COUNTERS.filter((k) => chunk.some((r) => r.counts[k] !== 0));
      const values = chunk.map(
        (r) => `(?, ?, ?, ?${used.map((k) => `, ${Math.trunc(r.counts[k] ?? 0)}`).join("")})`,
      );
      out.push({
        sql: `INSERT INTO case_rollups (unit_id, day, type, severity${used.map((k) => `, ${k}`).join("")})
          VALUES ${values.join(", ")}
          ON CONFLICT (unit_id, day, type, severity) DO UPDATE SET
          ${used.map((k) => `${k} = ${k} + excluded.${k}`).join(", ")}`,
        args: chunk.flatMap((r) => [r.key.unitId, r.key.day, r.key.type, r.key.severity]),
      });
    }
    return out;
  }
}

/**
 * The roll-up writes for case events the projection sees for the first time (it calls this inside the same
 * write as their inserts, whose seq guard makes a replayed or duplicated event roll the whole write back).
 * The message's case record is the case right after the event, so order does not matter.
 */
export function rollupStatementsForEvents(messages: readonly CaseEventMessage[]): InStatement[] {
  const batch = new RollupBatch();
  for (const m of messages) {
    const r = m.record;
    batch.add(r.owningUnit.path, r, m.event, {
      createdAt: r.createdAt,
      responsibleLevel: r.responsibleUnit.level,
      overdue: r.overdue === true,
    });
  }
  return batch.statements();
}

/** One summed roll-up group: the counts of one unit, one case type or one day (the other keys empty). */
export interface RollupGroup {
  unitId: string;
  day: string;
  type: string;
  counts: RollupCounts;
}

const SUMS = ROLLUP_COUNTERS.map((k) => `SUM(${k}) AS ${k}`).join(", ");

/** How summed roll-ups are grouped: per unit, per case type or per day (the others summed away). */
export type RollupGrouping = "unit" | "type" | "day";

/**
 * The roll-ups of some units between two China days (inclusive), summed per unit, per type or per day (the
 * fewer groups, the fewer rows libSQL sends). Raw SQL: a sum of every counter column, which the query
 * builder would spell out column by column.
 */
export async function rollupGroups(
  db: Db,
  unitIds: readonly string[],
  fromDay: string,
  toDay: string,
  type: string | null,
  groupBy: RollupGrouping = "unit",
): Promise<RollupGroup[]> {
  if (unitIds.length === 0) return [];
  const column = { unit: "unit_id", type: "type", day: "day" }[groupBy];
  const res = await db.$client.execute({
    sql: `SELECT ${column} AS g, ${SUMS} FROM case_rollups
          WHERE unit_id IN (${unitIds.map(() => "?").join(",")}) AND day >= ? AND day <= ?
          ${type ? "AND type = ?" : ""}
          GROUP BY ${column}`,
    args: [...unitIds, fromDay, toDay, ...(type ? [type] : [])],
  });
  return res.rows.map((row) => {
    const counts = emptyCounts();
    for (const k of ROLLUP_COUNTERS) counts[k as RollupCounter] = Number(row[k] ?? 0);
    const g = String(row.g);
    return {
      unitId: groupBy === "unit" ? g : "",
      day: groupBy === "day" ? g : "",
      type: groupBy === "type" ? g : "",
      counts,
    };
  });
}

/** A hot-spot cell: the count of cases reported in it. */
export interface HotspotCell {
  row: number;
  col: number;
  count: number;
}

/**
 * Cases reported in a subtree between two instants, counted on a grid of `cellDeg`-degree cells by their
 * location. Raw SQL: grouping by the computed cell.
 */
export async function hotspotCells(
  db: Db,
  path: string,
  from: string,
  to: string,
  cellDeg: number,
  type: string | null,
  limit: number,
): Promise<HotspotCell[]> {
  const [lo, hi] = subtreeRange(path);
  const res = await db.$client.execute({
    // Adding 1e6 before the cast floors negative coordinates too (a cast truncates toward zero).
    sql: `SELECT CAST(lat / ?1 + 1000000 AS INTEGER) - 1000000 AS r, CAST(lng / ?1 + 1000000 AS INTEGER) - 1000000 AS c,
            count(*) AS n
          FROM cases
          WHERE owning_unit_path >= ?2 AND owning_unit_path < ?3 AND created_at >= ?4 AND created_at < ?5
            AND lat IS NOT NULL AND lng IS NOT NULL AND (?6 IS NULL OR type = ?6)
          GROUP BY r, c ORDER BY n DESC LIMIT ?7`,
    args: [cellDeg, lo, hi, from, to, type, limit],
  });
  return res.rows.map((r) => ({ row: Number(r.r), col: Number(r.c), count: Number(r.n) }));
}

/** A unit's child units (id, name, level), in code order. */
export async function childUnits(
  db: Db,
  parentId: string,
): Promise<Array<{ id: string; name: string; level: UnitLevel }>> {
  const res = await db.$client.execute({
    sql: "SELECT id, name, level FROM units WHERE parent_id = ? ORDER BY code",
    args: [parentId],
  });
  return res.rows.map((r) => ({ id: String(r.id), name: String(r.name), level: r.level as UnitLevel }));
}

/**
 * Rebuilds the roll-ups from the stored case events: clears the rows, then replays the events page by page of
 * cases, each case in seq order (`RollupTracker` gives each event the case facts the live projection reads
 * off the record), adding each page's sums with the same additive upserts the projection uses. `scopePath`
 * must be a root unit's (a city's) path, whose subtree holds every row its cases count in; without it, every
 * row is rebuilt. Run it while the projection is paused: events projected meanwhile would be miscounted, and
 * a rebuild cut short leaves partial rows until it is run again.
 */
export async function rebuildRollups(
  db: Pick<Db, "$client">,
  options: { scopePath?: string; pageSize?: number } = {},
): Promise<{ events: number; rows: number; cases: number }> {
  const pageSize = options.pageSize ?? 2000;
  const [lo, hi] = options.scopePath ? subtreeRange(options.scopePath) : ["", "\uffff"];
  await db.$client.execute(
    options.scopePath
      ? {
          sql: "DELETE FROM case_rollups WHERE unit_id IN (SELECT id FROM units WHERE path >= ? AND path < ?)",
          args: [lo, hi],
        }
      : "DELETE FROM case_rollups",
  );
  let events = 0;
  let cases = 0;
  let rows = 0;
  let after = "";
  for (;;) {
    // Raw SQL: keyset paging over cases joined to their events and the actors' unit levels.
    const page = await db.$client.execute({
      sql: `SELECT id, owning_unit_path, type, severity, created_at,
              (SELECT level FROM units WHERE id = cases.owning_unit_id) AS owning_level
            FROM cases WHERE id > ? AND owning_unit_path >= ? AND owning_unit_path < ? ORDER BY id LIMIT ?`,
      args: [after, lo, hi, pageSize],
    });
    if (page.rows.length === 0) break;
    after = String(page.rows.at(-1)!.id);
    const ids = page.rows.map((r) => String(r.id));
    const evs = await db.$client.execute({
      sql: `SELECT e.case_id, e.type, e.at, e.payload, u.level AS actor_level
            FROM case_events e LEFT JOIN units u ON u.id = e.actor_unit_id
            WHERE e.case_id IN (${ids.map(() => "?").join(",")}) ORDER BY e.case_id, e.seq`,
      args: ids,
    });
    const byCase = new Map<string, typeof evs.rows>();
    for (const e of evs.rows) {
      const list = byCase.get(String(e.case_id)) ?? [];
      list.push(e);
      byCase.set(String(e.case_id), list);
    }
    const batch = new RollupBatch();
    for (const c of page.rows) {
      cases++;
      const createdAt = String(c.created_at);
      const tracker = new RollupTracker(createdAt, (c.owning_level ?? "grid") as UnitLevel);
      const facts = { type: String(c.type), severity: String(c.severity) };
      for (const e of byCase.get(String(c.id)) ?? []) {
        events++;
        const event = { type: String(e.type), at: String(e.at), payload: JSON.parse(String(e.payload)) };
        const actorLevel = e.actor_level ? (String(e.actor_level) as UnitLevel) : null;
        batch.add(String(c.owning_unit_path), facts, event, tracker.next(event, actorLevel));
      }
    }
    rows += batch.size;
    await db.$client.batch(batch.statements(), "write");
  }
  return { events, rows, cases };
}

const RESOLUTION_LEVEL_NAMES = ["grid", "village", "town", "county", "city"] as const;
const sqlList = (xs: readonly string[]) => xs.map((x) => `'${x}'`).join(", ");

/** The bucket of a duration in ms as a SQL expression, generated from the one definition of the bounds. */
const bucketSql = (msExpr: string) =>
  `CASE ${BUCKET_UPPER_MS.map((hi, i) => `WHEN ${msExpr} < ${hi} THEN ${i}`).join(" ")} ELSE ${BUCKET_UPPER_MS.length} END`;

/**
 * Each roll-up counter as an aggregate over the event facts of `SET_BASED_ROLLUP_SQL`'s `ev`: the same rule as
 * `rollupDelta` (the event lists and bucket bounds come from its module; test/figures/rollups.test.ts proves
 * the two give the same rows).
 */
const COUNTER_SQL: Record<RollupCounter, string> = (() => {
  const out: Partial<Record<RollupCounter, string>> = {};
  for (const t of PLAIN_COUNTED_EVENTS) out[t] = `SUM(et = '${t}')`;
  out.reopened = "SUM(et = 'reopened' OR (et = 'return_visited' AND sat IS 'dissatisfied'))";
  out.accepted = "SUM(et = 'accepted')";
  out.resolved = "SUM(et = 'resolved')";
  out.resolved_on_time = "SUM(et = 'resolved' AND NOT late)";
  for (const l of RESOLUTION_LEVEL_NAMES) out[`resolved_${l}`] = `SUM(et = 'resolved' AND lvl = '${l}')`;
  out.visit_satisfied = "SUM(et = 'return_visited' AND sat IS 'satisfied')";
  out.visit_dissatisfied = "SUM(et = 'return_visited' AND sat IS 'dissatisfied')";
  out.visit_basic = "SUM(et = 'return_visited' AND sat IS NOT 'satisfied' AND sat IS NOT 'dissatisfied')";
  for (let i = 0; i < BUCKET_COUNT; i++) {
    out[`accept_h${i}` as RollupCounter] = `SUM(et = 'accepted' AND bk = ${i})`;
    out[`resolve_h${i}` as RollupCounter] = `SUM(et = 'resolved' AND bk = ${i})`;
  }
  return out as Record<RollupCounter, string>;
})();

/**
 * One slice of the set-based rebuild: the roll-up rows of the events in `[?1, ?2)` of the cases owned in the
 * path range `[?3, ?4)`. `ev` gives each counted event the facts `RollupTracker` follows (the responsible
 * level after the last accept by a unit or hand-over before it, whether an overdue step came before it),
 * `base` sums them per owning unit, and `anc` splits each owning path into its units so every ancestor gets
 * the sums of its subtree. Raw SQL: a grouped insert over a recursive split no query builder spells. `ev` is
 * MATERIALIZED so each event's facts are computed once: inlined, SQLite copies the level subquery and the
 * bucket's date arithmetic into every aggregate that names them (six and thirty of them).
 */
const SET_BASED_ROLLUP_SQL = `INSERT INTO case_rollups (unit_id, day, type, severity, ${ROLLUP_COUNTERS.join(", ")})
WITH ev AS MATERIALIZED (
  SELECT c.owning_unit_path AS path, date(e.at, '+8 hours') AS day, c.type AS type, c.severity AS severity,
    e.type AS et,
    CASE WHEN e.type IN ('accepted', 'resolved') THEN ${bucketSql(
      "MAX(0, CAST(round((julianday(e.at) - julianday(c.created_at)) * 86400000) AS INTEGER))",
    )} END AS bk,
    CASE WHEN e.type = 'resolved' THEN COALESCE(
      (SELECT CASE WHEN o.type = 'accepted' THEN u.level ELSE json_extract(o.payload, '$.toLevel') END
        FROM case_events o LEFT JOIN units u ON u.id = o.actor_unit_id
        WHERE o.case_id = e.case_id AND o.seq < e.seq
          AND ((o.type = 'accepted' AND u.level IS NOT NULL AND u.level <> '')
            OR (o.type IN (${sqlList(LEVEL_MOVING_EVENTS)}) AND json_type(o.payload, '$.toLevel') = 'text'))
        ORDER BY o.seq DESC LIMIT 1),
      (SELECT level FROM units WHERE id = c.owning_unit_id), 'grid') END AS lvl,
    CASE WHEN e.type = 'resolved' THEN EXISTS (SELECT 1 FROM case_events o
      WHERE o.case_id = e.case_id AND o.seq < e.seq AND o.type = 'overdue') END AS late,
    CASE WHEN e.type = 'return_visited' THEN json_extract(e.payload, '$.satisfaction') END AS sat
  FROM case_events e JOIN cases c ON c.id = e.case_id
  WHERE e.at >= ?1 AND e.at < ?2 AND c.owning_unit_path >= ?3 AND c.owning_unit_path < ?4
    AND e.type IN (${sqlList(COUNTED_EVENTS)})
),
base AS MATERIALIZED (
  SELECT path, day, type, severity, ${ROLLUP_COUNTERS.map((k) => `${COUNTER_SQL[k]} AS ${k}`).join(", ")}
  FROM ev GROUP BY path, day, type, severity
),
anc(path, rest, unit_id) AS (
  SELECT path, substr(path, 2), NULL FROM (SELECT DISTINCT path FROM base)
  UNION ALL
  SELECT path, substr(rest, instr(rest, '/') + 1), substr(rest, 1, instr(rest, '/') - 1) FROM anc WHERE rest <> ''
)
SELECT a.unit_id, b.day, b.type, b.severity, ${ROLLUP_COUNTERS.map((k) => `SUM(b.${k})`).join(", ")}
FROM base b JOIN anc a ON a.path = b.path
WHERE a.unit_id IS NOT NULL
GROUP BY a.unit_id, b.day, b.type, b.severity`;

/** Deletes the roll-up rows of the units in a path range on the China days `[?3, ?4)`. */
const DELETE_ROLLUPS_SQL = `DELETE FROM case_rollups
  WHERE unit_id IN (SELECT id FROM units WHERE path >= ?1 AND path < ?2) AND day >= ?3 AND day < ?4`;

/**
 * Rebuilds the roll-ups from the stored case events in SQL, one China month at a time: each month's rows of
 * the scope are deleted and recomputed by one grouped `INSERT … SELECT` in one transaction, so readers see a
 * month either as it was or rebuilt, and sqld's single writer is held for one month's work at a time. Rows
 * outside the months that have events are deleted first. Gives the same rows as the projection keeps (and
 * as `rebuildRollups` replays). `scopePath` must be a root unit's (a city's) path; without it every row is
 * rebuilt. Run it while the projection is paused. `onSlice` hears each month done.
 */
export async function rebuildRollupsInSql(
  db: Pick<Db, "$client">,
  options: {
    scopePath?: string;
    onSlice?: (slice: { from: string; to: string; rows: number; ms: number }) => void;
  } = {},
): Promise<{ rows: number; slices: number }> {
  const [lo, hi] = options.scopePath ? subtreeRange(options.scopePath) : ["", "\uffff"];
  // Raw SQL: min and max of the indexed event time, the span the slices must cover.
  const span = await db.$client.execute("SELECT min(at) AS first, max(at) AS last FROM case_events");
  const first = span.rows[0]?.first;
  const last = span.rows[0]?.last;
  if (first == null || last == null) {
    await db.$client.execute({ sql: DELETE_ROLLUPS_SQL, args: [lo, hi, "", "9999"] });
    return { rows: 0, slices: 0 };
  }
  const months = monthPeriods(rollupDay(String(first)), rollupDay(String(last)));
  await db.$client.batch(
    [
      { sql: DELETE_ROLLUPS_SQL, args: [lo, hi, "", months[0]!.from] },
      { sql: DELETE_ROLLUPS_SQL, args: [lo, hi, nextDay(months.at(-1)!.to), "9999"] },
    ],
    "write",
  );
  let rows = 0;
  for (const month of months) {
    const started = performance.now();
    const [from, to] = periodInstants(month);
    const [, inserted] = await db.$client.batch(
      [
        { sql: DELETE_ROLLUPS_SQL, args: [lo, hi, month.from, nextDay(month.to)] },
        { sql: SET_BASED_ROLLUP_SQL, args: [from, to, lo, hi] },
      ],
      "write",
    );
    rows += inserted!.rowsAffected;
    options.onSlice?.({ ...month, rows: inserted!.rowsAffected, ms: performance.now() - started });
  }
  return { rows, slices: months.length };
}

/** The China day after `day`. */
const nextDay = (day: string) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

/** A closure whose return visit found the resident dissatisfied, to be revisited (跟踪回访). */
export interface DissatisfiedCase {
  caseId: string;
  title: string;
  type: string;
  state: string;
  owningUnitId: string;
  visitedAt: string;
  note: string | null;
}

/**
 * The subtree's cases with a dissatisfied return visit in a period (instants, `from` ≤ at < `to`), newest
 * first. Raw SQL: a join of events to their cases with a JSON field of the payload.
 */
export async function dissatisfiedCases(
  db: Db,
  path: string,
  from: string,
  to: string,
  limit: number,
): Promise<DissatisfiedCase[]> {
  const [lo, hi] = subtreeRange(path);
  const res = await db.$client.execute({
    sql: `SELECT c.id, c.title, c.type, c.state, c.owning_unit_id, e.at, json_extract(e.payload, '$.note') AS note
          FROM case_events e JOIN cases c ON c.id = e.case_id
          WHERE e.type = 'return_visited' AND json_extract(e.payload, '$.satisfaction') = 'dissatisfied'
            AND e.at >= ? AND e.at < ? AND c.owning_unit_path >= ? AND c.owning_unit_path < ?
          ORDER BY e.at DESC LIMIT ?`,
    args: [from, to, lo, hi, limit],
  });
  return res.rows.map((r) => ({
    caseId: String(r.id),
    title: String(r.title),
    type: String(r.type),
    state: String(r.state),
    owningUnitId: String(r.owning_unit_id),
    visitedAt: String(r.at),
    note: r.note === null ? null : String(r.note),
  }));
}
