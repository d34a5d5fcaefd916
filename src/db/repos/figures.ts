import type { InStatement } from "@libsql/client/web";
import {
  addCounts,
  emptyCounts,
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
