import { pathIds } from "../domain/units";
import type { Principal } from "../env";
import { assertInScope } from "../http/auth";
import type { Db } from "./client";

/** `[lo, hi)` bounds selecting every path inside the subtree `path` (itself included) with an index range. */
export function subtree(path: string): [string, string] {
  return [path, `${path.slice(0, -1)}0`];
}

/** Unit settings with `keys` on the path of a unit (the unit and its ancestors), with each unit's depth. */
export async function settingsOnPath(
  db: Db,
  unitPath: string,
  keys: readonly string[],
): Promise<Array<{ depth: number; key: string; value: string }>> {
  const ids = pathIds(unitPath);
  const rs = await db.$client.execute({
    sql: `SELECT s.key AS key, s.value AS value, u.depth AS depth FROM unit_settings s JOIN units u ON u.id = s.unit_id
          WHERE s.unit_id IN (SELECT value FROM json_each(?)) AND s.key IN (SELECT value FROM json_each(?))`,
    args: [JSON.stringify(ids), JSON.stringify(keys)],
  });
  return rs.rows.map((r) => ({ depth: Number(r.depth), key: String(r.key), value: String(r.value) }));
}

export interface ScopedUser {
  id: string;
  role: string;
  displayName: string;
  unitId: string;
  unitPath: string;
}

/** A user inside the caller's subtree, or 404. */
export async function userInScope(db: Db, principal: Principal, userId: string): Promise<ScopedUser> {
  const rs = await db.$client.execute({
    sql: "SELECT id, role, display_name AS displayName, unit_id AS unitId, unit_path AS unitPath FROM users WHERE id = ?",
    args: [userId],
  });
  const r = rs.rows[0];
  assertInScope(principal, r ? String(r.unitPath) : null, "user");
  return {
    id: String(r!.id),
    role: String(r!.role),
    displayName: String(r!.displayName),
    unitId: String(r!.unitId),
    unitPath: String(r!.unitPath),
  };
}

/** A unit inside the caller's subtree, or 404. */
export async function unitInScope(
  db: Db,
  principal: Principal,
  unitId: string,
): Promise<{ id: string; path: string; level: string; depth: number }> {
  const rs = await db.$client.execute({
    sql: "SELECT id, path, level, depth FROM units WHERE id = ?",
    args: [unitId],
  });
  const r = rs.rows[0];
  assertInScope(principal, r ? String(r.path) : null, "unit");
  return { id: String(r!.id), path: String(r!.path), level: String(r!.level), depth: Number(r!.depth) };
}
