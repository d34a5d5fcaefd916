import type { InStatement } from "@libsql/client/web";
import { and, desc, eq, inArray, lt, or } from "drizzle-orm";
import type { BulletinKind } from "../../domain/bulletins";
import { OPEN_STATES } from "../../domain/case-model";
import { subtreeRange, type UnitLevel } from "../../domain/units";
import { sha256Hex } from "../../platform/crypto/tokens";
import type { Db } from "../../platform/db/client";
import { stmt } from "../../platform/db/statements";
import { bulletins, unitSettings } from "../schema";

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

/** The oldest open cases of a subtree. Raw SQL: the index range on (owning path, created) with a state filter. */
export async function oldestOpenCases(db: Db, path: string, limit: number): Promise<OpenCaseLine[]> {
  const [lo, hi] = subtreeRange(path);
  const res = await db.$client.execute({
    sql: `SELECT id, title, type, state, owning_unit_id, created_at FROM cases
          WHERE owning_unit_path >= ? AND owning_unit_path < ? AND state IN (${OPEN_STATES.map(() => "?").join(",")})
          ORDER BY created_at LIMIT ?`,
    args: [lo, hi, ...OPEN_STATES, limit],
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

/** A unit's bulletins, newest period first, after the keyset position `(periodFrom, id)`. */
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
