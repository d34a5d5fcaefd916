import type { InStatement } from "@libsql/client/web";
import { and, desc, eq, inArray, lt, not, or, sql } from "drizzle-orm";
import type { BulletinKind } from "../../domain/bulletins";
import { OPEN_STATES } from "../../domain/case-model";
import { subtreeRange, type UnitLevel } from "../../domain/units";
import { sha256Hex } from "../../platform/crypto/tokens";
import type { Db } from "../../platform/db/client";
import { stmt } from "../../platform/db/statements";
import { bulletins, unitSettings, units } from "../schema";

/** A centre that issues bulletins. */
export interface BulletinCentre {
  id: string;
  name: string;
  level: UnitLevel;
  path: string;
}

/**
 * Centres of the given levels in a subtree (`/` for all) that have no bulletin of a kind for the period starting `from` (up to
 * `limit`, in path order). Raw SQL: an anti-join the query builder spells no shorter.
 */
export async function centresWithoutBulletin(
  db: Db,
  levels: readonly UnitLevel[],
  kind: BulletinKind,
  from: string,
  limit: number,
  scopePath: string,
): Promise<BulletinCentre[]> {
  const res = await db.$client.execute({
    sql: `SELECT id, name, level, path FROM units u
          WHERE level IN (${levels.map(() => "?").join(",")}) AND path >= ? AND path < ?
            AND NOT EXISTS (SELECT 1 FROM bulletins b WHERE b.unit_id = u.id AND b.period_kind = ? AND b.period_from = ?)
          ORDER BY path LIMIT ?`,
    args: [...levels, ...(scopePath === "/" ? ["/", "0"] : subtreeRange(scopePath)), kind, from, limit],
  });
  return res.rows.map((r) => ({
    id: String(r.id),
    name: String(r.name),
    level: r.level as UnitLevel,
    path: String(r.path),
  }));
}

/** Settings of some keys on some units. */
export async function settingsOf(
  db: Db,
  unitIds: readonly string[],
  keys: readonly string[],
): Promise<Array<{ unitId: string; key: string; value: string }>> {
  if (unitIds.length === 0) return [];
  return db
    .select({ unitId: unitSettings.unitId, key: unitSettings.key, value: unitSettings.value })
    .from(unitSettings)
    .where(and(inArray(unitSettings.unitId, [...unitIds]), inArray(unitSettings.key, [...keys])));
}

/** An open case, oldest first, as a bulletin lists it (no personal data: no reporter, no address). */
export interface OpenCaseLine {
  caseId: string;
  title: string;
  type: string;
  state: string;
  owningUnitId: string;
  createdAt: string;
}

/** `OPEN_STATES` as the SQL list the partial index `cases_open_age_idx` is defined with. */
const OPEN_STATES_SQL = `(${OPEN_STATES.map((state) => `'${state}'`).join(", ")})`;

/** The oldest open cases of a subtree, oldest first. */
export async function oldestOpenCases(db: Db, path: string, limit: number): Promise<OpenCaseLine[]> {
  const [lo, hi] = subtreeRange(path);
  // Raw SQL: the partial index of open cases by age (0662) is named, and its WHERE written out as literals,
  // which SQLite needs to use a partial index; the walk stops after `limit` cases inside the subtree.
  const res = await db.$client.execute({
    sql: `SELECT id, title, type, state, owning_unit_id, created_at FROM cases INDEXED BY cases_open_age_idx
          WHERE state IN ${OPEN_STATES_SQL} AND owning_unit_path >= ? AND owning_unit_path < ?
          ORDER BY created_at, id LIMIT ?`,
    args: [lo, hi, limit],
  });
  return res.rows.map((r) => ({
    caseId: String(r.id),
    title: String(r.title),
    type: String(r.type),
    state: String(r.state),
    owningUnitId: String(r.owning_unit_id),
    createdAt: String(r.created_at),
  }));
}

/** The id of a bulletin version: a UUID derived from (unit, kind, first day, version), the same every time. */
export async function bulletinId(
  unitId: string,
  kind: BulletinKind,
  from: string,
  version: number,
): Promise<string> {
  const h = await sha256Hex(`bulletin:${unitId}:${kind}:${from}:${version}`);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((Number.parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A stored bulletin. */
export type BulletinRow = typeof bulletins.$inferSelect;

/** The insert of a bulletin version; a second insert of the same version changes nothing (and returns no row). */
export function insertBulletinStatement(db: Db, row: BulletinRow): InStatement {
  return stmt(db.insert(bulletins).values(row).onConflictDoNothing().returning({ id: bulletins.id }));
}

/** One bulletin by id. */
export async function findBulletin(db: Db, id: string): Promise<BulletinRow | null> {
  const [row] = await db.select().from(bulletins).where(eq(bulletins.id, id)).limit(1);
  return row ?? null;
}

/** A later version of the same bulletin: a bulletin row with one of these is not the period's latest. */
const laterVersion = sql`EXISTS (SELECT 1 FROM bulletins AS later WHERE later.unit_id = ${bulletins.unitId}
  AND later.period_kind = ${bulletins.periodKind} AND later.period_from = ${bulletins.periodFrom}
  AND later.version > ${bulletins.version})`;

/** A unit's bulletins, the latest version of each period, newest period first, after the keyset position `(periodFrom, id)`. */
export async function bulletinsOfUnit(
  db: Db,
  unitId: string,
  kind: BulletinKind | null,
  after: readonly [string, string] | null,
  limit: number,
): Promise<BulletinRow[]> {
  return db
    .select()
    .from(bulletins)
    .where(
      and(
        eq(bulletins.unitId, unitId),
        not(laterVersion),
        kind ? eq(bulletins.periodKind, kind) : undefined,
        after
          ? or(
              lt(bulletins.periodFrom, after[0]),
              and(eq(bulletins.periodFrom, after[0]), lt(bulletins.id, after[1])),
            )
          : undefined,
      ),
    )
    .orderBy(desc(bulletins.periodFrom), desc(bulletins.id))
    .limit(limit);
}

/** A centre as a bulletin names it (id, name, level, path), or null when there is no such unit. */
export async function bulletinCentre(db: Db, id: string): Promise<BulletinCentre | null> {
  const [row] = await db
    .select({ id: units.id, name: units.name, level: units.level, path: units.path })
    .from(units)
    .where(eq(units.id, id))
    .limit(1);
  return row ?? null;
}

/** The latest version of a centre's bulletin of a period, or null when none was published. */
export async function latestBulletin(
  db: Db,
  unitId: string,
  kind: BulletinKind,
  from: string,
): Promise<BulletinRow | null> {
  const [row] = await db
    .select()
    .from(bulletins)
    .where(and(eq(bulletins.unitId, unitId), eq(bulletins.periodKind, kind), eq(bulletins.periodFrom, from)))
    .orderBy(desc(bulletins.version))
    .limit(1);
  return row ?? null;
}

/** The versions of a centre's bulletin of a period, newest first, below version `before` (a keyset page). */
export async function bulletinVersions(
  db: Db,
  unitId: string,
  kind: BulletinKind,
  from: string,
  before: number | null,
  limit: number,
): Promise<BulletinRow[]> {
  return db
    .select()
    .from(bulletins)
    .where(
      and(
        eq(bulletins.unitId, unitId),
        eq(bulletins.periodKind, kind),
        eq(bulletins.periodFrom, from),
        before === null ? undefined : lt(bulletins.version, before),
      ),
    )
    .orderBy(desc(bulletins.version))
    .limit(limit);
}

/**
 * The insert of version `previous.version + 1` of a period's bulletin, copying the period from version
 * `previous.version` (the unit's current path given) and taking place only while that version's content differs from `content`. Two
 * regenerations that read the same latest version race for the same next number: the unique (unit, kind,
 * period, version) key lets exactly one insert, and the other changes no row. Raw SQL: an INSERT … SELECT
 * guarded by the previous row in one statement, which the query builder cannot combine with ON CONFLICT.
 */
export function insertNextVersionStatement(
  previous: Pick<BulletinRow, "unitId" | "periodKind" | "periodFrom" | "version">,
  next: { id: string; unitPath: string; content: string; generatedAt: string },
): InStatement {
  return {
    sql: `INSERT INTO bulletins (id, unit_id, unit_path, period_kind, period_from, period_to, version, content, generated_at)
          SELECT ?, unit_id, ?, period_kind, period_from, period_to, version + 1, ?, ?
          FROM bulletins WHERE unit_id = ? AND period_kind = ? AND period_from = ? AND version = ? AND content <> ?
          ON CONFLICT DO NOTHING`,
    args: [
      next.id,
      next.unitPath,
      next.content,
      next.generatedAt,
      previous.unitId,
      previous.periodKind,
      previous.periodFrom,
      previous.version,
      next.content,
    ],
  };
}
