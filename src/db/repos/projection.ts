import type { InStatement } from "@libsql/client/web";
import { and, asc, eq, gt, gte, isNotNull, isNull, lt, or } from "drizzle-orm";
import { subtreeRange } from "../../domain/units";
import { type Db, getDb } from "../../platform/db/client";
import { projectionDesks } from "../schema";

/**
 * The projection's per-desk watermarks (see `src/durable/grid-desk/reconcile.ts` for the desk's side): which
 * desk sequence numbers (dseq) the libSQL projection holds, up to where contiguously, and which desks lag.
 */

/** One projected event of a desk, as the watermark needs it. */
export interface DeskEventRef {
  dseq: number;
  caseId: string;
  seq: number;
  at: string;
}

/** The events of one desk in a projection batch. */
export interface DeskBatch {
  deskId: string;
  unitId: string;
  unitPath: string;
  events: DeskEventRef[];
}

/** A desk whose projection lags, as operators see it. */
export interface LaggingDesk {
  deskId: string;
  unitId: string;
  unitPath: string;
  deskDseq: number;
  projectedDseq: number;
  oldestUnprojectedAt: string | null;
  laggingSince: string;
  updatedAt: string;
  pokedAt: string | null;
}

// Raw SQL below: max() over the stored and the new value, a recursive walk and set-based updates have no
// query-builder form, and all of them must run inside the projection's one write batch.

/** The desk's row: the highest dseq seen only grows; the unit's path as the registry has it (it may have moved). */
const UPSERT_DESK = `INSERT INTO projection_desks (desk_id, unit_id, unit_path, desk_dseq, projected_dseq, updated_at)
  VALUES (?1, ?2, COALESCE((SELECT path FROM units WHERE id = ?2), ?3), ?4, 0, ?5)
  ON CONFLICT (desk_id) DO UPDATE SET desk_dseq = max(projection_desks.desk_dseq, excluded.desk_dseq),
    unit_id = excluded.unit_id, unit_path = excluded.unit_path, updated_at = excluded.updated_at`;

/** The batch's dseqs (a json_each bulk insert: one statement for any number of events). */
const INSERT_EVENTS = `INSERT INTO projection_events (desk_id, dseq, case_id, seq, at)
  SELECT ?1, json_extract(value, '$.dseq'), json_extract(value, '$.caseId'), json_extract(value, '$.seq'),
    json_extract(value, '$.at')
  FROM json_each(?2) WHERE true
  ON CONFLICT (desk_id, dseq) DO NOTHING`;

/** Walks the watermark up over every dseq held right after it: it advances only contiguously, gaps wait. */
const ADVANCE = `UPDATE projection_desks SET projected_dseq = (
    WITH RECURSIVE run(n) AS (
      SELECT projected_dseq FROM projection_desks WHERE desk_id = ?1
      UNION ALL
      SELECT n + 1 FROM run WHERE EXISTS (SELECT 1 FROM projection_events WHERE desk_id = ?1 AND dseq = n + 1)
    ) SELECT max(n) FROM run)
  WHERE desk_id = ?1`;

/** Whether (and since when) the desk lags, and the earliest event held beyond the gap; returns the watermark. */
const MARK_LAG = `UPDATE projection_desks SET
    oldest_unprojected_at = (SELECT at FROM projection_events e
      WHERE e.desk_id = ?1 AND e.dseq > projection_desks.projected_dseq ORDER BY e.dseq LIMIT 1),
    lagging_since = CASE WHEN desk_dseq > projected_dseq THEN coalesce(lagging_since, ?2) END
  WHERE desk_id = ?1
  RETURNING projected_dseq`;

/** What the watermark covers no longer needs its own row. */
const PRUNE = `DELETE FROM projection_events
  WHERE desk_id = ?1 AND dseq <= (SELECT projected_dseq FROM projection_desks WHERE desk_id = ?1)`;

/**
 * The statements that record a batch's events of one desk and advance its watermark, for the projection's
 * write. `watermarkAt` is the index (within the returned list) of the statement whose first row holds the new
 * `projected_dseq`.
 *
 * @example
 * const { statements, watermarkAt } = deskWatermarkStatements(batch, new Date().toISOString());
 */
export function deskWatermarkStatements(
  desk: DeskBatch,
  now: string,
): { statements: InStatement[]; watermarkAt: number } {
  const top = Math.max(...desk.events.map((e) => e.dseq));
  const statements: InStatement[] = [
    { sql: UPSERT_DESK, args: [desk.deskId, desk.unitId, desk.unitPath, top, now] },
    { sql: INSERT_EVENTS, args: [desk.deskId, JSON.stringify(desk.events)] },
    { sql: ADVANCE, args: [desk.deskId] },
    { sql: MARK_LAG, args: [desk.deskId, now] },
    { sql: PRUNE, args: [desk.deskId] },
  ];
  return { statements, watermarkAt: 3 };
}

/**
 * Lagging desks inside `scopePath`, longest lagging first, after the keyset position `(laggingSince, deskId)`
 * (an index range over `projection_desks_lag_idx`).
 */
export async function laggingDesks(
  env: Cloudflare.Env,
  options: { scopePath: string; after: readonly [string, string] | null; limit: number },
): Promise<LaggingDesk[]> {
  const [lo, hi] = subtreeRange(options.scopePath);
  const t = projectionDesks;
  const after = options.after;
  const rows = await getDb(env)
    .select({
      deskId: t.deskId,
      unitId: t.unitId,
      unitPath: t.unitPath,
      deskDseq: t.deskDseq,
      projectedDseq: t.projectedDseq,
      oldestUnprojectedAt: t.oldestUnprojectedAt,
      laggingSince: t.laggingSince,
      updatedAt: t.updatedAt,
      pokedAt: t.pokedAt,
    })
    .from(t)
    .where(
      and(
        isNotNull(t.laggingSince),
        gte(t.unitPath, lo),
        lt(t.unitPath, hi),
        after
          ? or(gt(t.laggingSince, after[0]), and(eq(t.laggingSince, after[0]), gt(t.deskId, after[1])))
          : undefined,
      ),
    )
    .orderBy(asc(t.laggingSince), asc(t.deskId))
    .limit(options.limit);
  return rows.map((r) => ({ ...r, laggingSince: r.laggingSince ?? "" }));
}

/**
 * Desks lagging since before `before` and not poked since then, longest lagging first: the watchdog's sweep
 * (an index range over `lagging_since`).
 */
export async function desksToPoke(db: Db, before: string, limit: number): Promise<string[]> {
  const t = projectionDesks;
  const rows = await db
    .select({ deskId: t.deskId })
    .from(t)
    .where(
      and(
        isNotNull(t.laggingSince),
        lt(t.laggingSince, before),
        or(isNull(t.pokedAt), lt(t.pokedAt, before)),
      ),
    )
    .orderBy(asc(t.laggingSince), asc(t.deskId))
    .limit(limit);
  return rows.map((r) => r.deskId);
}

/**
 * Records the watchdog's pokes: when, and the desk's own last dseq as it answered (so the lag operators see
 * includes events that never reached the projection at all).
 */
export async function recordPokes(
  db: Db,
  answers: ReadonlyArray<{ deskId: string; lastDseq: number }>,
  at: string,
): Promise<void> {
  if (answers.length === 0) return;
  // max() of the stored and the answered dseq, and the lag flag recomputed from it, in one set-based update.
  await db.$client.batch(
    answers.map((a) => ({
      sql: `UPDATE projection_desks SET poked_at = ?2, desk_dseq = max(desk_dseq, ?3),
              lagging_since = CASE WHEN max(desk_dseq, ?3) > projected_dseq THEN coalesce(lagging_since, ?2) END
            WHERE desk_id = ?1`,
      args: [a.deskId, at, a.lastDseq],
    })),
    "write",
  );
}

/** One desk's watermark row (tests and operations), or null. */
export async function deskWatermark(
  db: Db,
  deskId: string,
): Promise<{ deskDseq: number; projectedDseq: number; laggingSince: string | null } | null> {
  const [row] = await db
    .select({
      deskDseq: projectionDesks.deskDseq,
      projectedDseq: projectionDesks.projectedDseq,
      laggingSince: projectionDesks.laggingSince,
    })
    .from(projectionDesks)
    .where(eq(projectionDesks.deskId, deskId))
    .limit(1);
  return row ?? null;
}
