import type { InStatement } from "@libsql/client/web";
import { and, asc, eq, gt, gte, lt, or, type SQL, sql } from "drizzle-orm";
import type { ExistingUnit, PlannedUnit } from "../../domain/unit-import";
import { subtreeRange, type UnitLevel } from "../../domain/units";
import { type Db, getDb } from "../../platform/db/client";
import { containsText, startsWithText, stmt } from "../../platform/db/statements";
import { units } from "../schema";
import { UNIT_DATA_REFS, UNIT_PATH_COLUMNS } from "./unit-refs";

/** A stored unit. */
export type UnitRow = typeof units.$inferSelect;

/** The public view of a unit. */
export function unitView(u: UnitRow) {
  return {
    id: u.id,
    code: u.code,
    name: u.name,
    parentId: u.parentId,
    path: u.path,
    level: u.level,
    gridLevel: u.gridLevel,
    depth: u.depth,
    version: u.version,
    createdAt: u.createdAt,
    updatedAt: u.updatedAt,
  };
}

/** One unit by id, or null. */
export async function findUnit(env: Cloudflare.Env, id: string): Promise<UnitRow | null> {
  const [unit] = await getDb(env).select().from(units).where(eq(units.id, id)).limit(1);
  return unit ?? null;
}

/** Filters of the unit search; `afterCode` is the keyset position. */
export interface UnitSearch {
  scopePath: string;
  parentId?: string;
  level?: UnitLevel;
  q?: string;
  afterCode?: string;
  limit: number;
}

/** Units inside `scopePath` by code, `limit` of them at most. */
export async function searchUnits(env: Cloudflare.Env, s: UnitSearch): Promise<UnitRow[]> {
  const [lo, hi] = subtreeRange(s.scopePath);
  const where: SQL[] = [gte(units.path, lo), lt(units.path, hi)];
  if (s.parentId) where.push(eq(units.parentId, s.parentId));
  if (s.level) where.push(eq(units.level, s.level));
  if (s.q) where.push(or(containsText(units.name, s.q), startsWithText(units.code, s.q))!);
  if (s.afterCode !== undefined) where.push(gt(units.code, s.afterCode));
  return getDb(env)
    .select()
    .from(units)
    .where(and(...where))
    .orderBy(asc(units.code))
    .limit(s.limit);
}

/** The direct children of a unit by code, after `afterCode`. */
export async function childrenOf(
  env: Cloudflare.Env,
  parentId: string,
  afterCode: string | undefined,
  limit: number,
): Promise<UnitRow[]> {
  return getDb(env)
    .select()
    .from(units)
    .where(and(eq(units.parentId, parentId), afterCode !== undefined ? gt(units.code, afterCode) : undefined))
    .orderBy(asc(units.code))
    .limit(limit);
}

/** The stored units having any of `codes`, as the import planner sees them. */
export async function unitsByCodes(env: Cloudflare.Env, codes: string[]): Promise<ExistingUnit[]> {
  // json_each takes any number of codes in one parameter (an IN list would hit the bound-variable limit).
  return getDb(env)
    .select({
      id: units.id,
      code: units.code,
      path: units.path,
      level: units.level,
      gridLevel: units.gridLevel,
    })
    .from(units)
    .where(sql`${units.code} IN (SELECT value FROM json_each(${JSON.stringify(codes)}))`);
}

/** The INSERT of one new unit. */
export function insertUnit(db: Db, row: UnitRow): InStatement {
  return stmt(db.insert(units).values(row));
}

/** The version-guarded UPDATE of a unit's own row (name, code, parent); it changes no row when stale. */
export function updateUnit(db: Db, next: UnitRow, expectedVersion: number): InStatement {
  return stmt(
    db
      .update(units)
      .set({
        name: next.name,
        code: next.code,
        parentId: next.parentId,
        version: sql`${units.version} + 1`,
        updatedAt: next.updatedAt,
      })
      .where(and(eq(units.id, next.id), eq(units.version, expectedVersion))),
  );
}

/**
 * The statements that move a subtree from `from` to `to`: every stored path under it, and the codes of the
 * descendants (their prefix is the moved unit's code). Set-based, one UPDATE per table.
 */
export function moveSubtree(
  from: { id: string; path: string; code: string },
  to: { path: string; code: string },
  now: string,
): InStatement[] {
  const statements: InStatement[] = UNIT_PATH_COLUMNS.map((ref) => ({
    // Rewrites a path prefix in place over a whole subtree, which the query builder cannot express.
    sql: `UPDATE ${ref.table} SET ${ref.column} = ? || substr(${ref.column}, ?) WHERE ${ref.column} LIKE ?`,
    args: [to.path, from.path.length + 1, `${from.path}%`],
  }));
  statements.push({
    // The same prefix rewrite for descendants' codes.
    sql: "UPDATE units SET code = ? || substr(code, ?), updated_at = ? WHERE path LIKE ? AND id <> ?",
    args: [to.code, from.code.length + 1, now, `${to.path}%`, from.id],
  });
  return statements;
}

const INSERT_CHUNK = 500;

/** INSERTs of planned units, 500 rows per statement. */
export function insertPlannedUnits(planned: PlannedUnit[], now: string): InStatement[] {
  const statements: InStatement[] = [];
  for (let i = 0; i < planned.length; i += INSERT_CHUNK) {
    const chunk = planned.slice(i, i + INSERT_CHUNK);
    statements.push({
      // One JSON parameter per 500 rows: a bulk insert without hundreds of bound variables.
      sql: `INSERT INTO units (id, code, name, parent_id, path, level, grid_level, depth, version, created_at, updated_at)
            SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, 1, ?, ?
            FROM json_each(?)`,
      args: [
        now,
        now,
        JSON.stringify(
          chunk.map((u) => [u.id, u.code, u.name, u.parentId, u.path, u.level, u.gridLevel, u.depth]),
        ),
      ],
    });
  }
  return statements;
}

/** `NOT EXISTS` over every child unit and every table holding the unit's id, for the unit bound to `?1`. */
const UNUSED = [
  "NOT EXISTS (SELECT 1 FROM units WHERE parent_id = ?1)",
  ...UNIT_DATA_REFS.map((r) => `NOT EXISTS (SELECT 1 FROM ${r.table} WHERE ${r.column} = ?1)`),
].join("\n  AND ");

/**
 * The DELETE of a unit that has no children and nothing that names it, checked in the same statement, so
 * nothing created meanwhile is orphaned: it changes no row if the unit is in use or already gone.
 */
export function deleteUnitIfUnused(id: string): InStatement {
  // The guard spans every dependant table; one conditional statement is what makes check and delete atomic.
  return { sql: `DELETE FROM units WHERE id = ?1\n  AND ${UNUSED}`, args: [id] };
}

/** What still keeps a unit from being deleted ("children", table names), or null when the unit is gone. */
export async function unitDependants(env: Cloudflare.Env, id: string): Promise<string[] | null> {
  const checks = [
    "SELECT 'unit' AS what WHERE NOT EXISTS (SELECT 1 FROM units WHERE id = ?1)",
    "SELECT 'children' AS what WHERE EXISTS (SELECT 1 FROM units WHERE parent_id = ?1)",
    ...UNIT_DATA_REFS.map(
      (r) => `SELECT '${r.table}' AS what WHERE EXISTS (SELECT 1 FROM ${r.table} WHERE ${r.column} = ?1)`,
    ),
  ];
  // One round trip for every check; SQLite refuses LIMIT inside a compound SELECT, so each is an EXISTS.
  const found = await getDb(env).$client.execute({ sql: checks.join(" UNION ALL "), args: [id] });
  const what = found.rows.map((r) => r.what as string);
  if (what.includes("unit")) return null;
  return [...new Set(what)];
}
