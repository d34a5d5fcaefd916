import type { InStatement } from "@libsql/client/web";
import { pathIds } from "../../domain/units";
import type { Principal } from "../../env";
import { type AuditEntry, writeAudited } from "../../platform/db/audit";
import { type Db, isConstraintViolation } from "../../platform/db/client";
import { assertInScope } from "../../platform/http/auth";
import { type Problem, problems } from "../../platform/http/problem";

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

/** An audit entry of the three lines (points, subsidies, stations), scoped to `scopePath`. */
export function threeLinesAudit(
  p: Principal,
  requestId: string,
  action: string,
  objectType: string,
  scopePath: string,
  objectId: string,
  detail: object,
): AuditEntry {
  return {
    actorId: p.userId,
    actorRole: p.role,
    scopePath,
    action,
    objectType,
    objectId,
    outcome: "success",
    requestId,
    detail: detail as Record<string, unknown>,
  };
}

/**
 * Runs an audited write whose uniqueness the database guards; a UNIQUE violation (nothing was written:
 * the transaction rolled back) becomes the 409 `conflict`.
 */
export async function writeOnce(
  db: Db,
  statements: InStatement[],
  entries: AuditEntry[],
  conflict: () => Problem,
): Promise<void> {
  try {
    await writeAudited(db, statements, entries);
  } catch (error) {
    if (isConstraintViolation(error)) throw conflict();
    throw error;
  }
}

/** A party member's branch unit (from the profile; the member's own unit when none is set). */
export async function branchOf(
  db: Db,
  member: ScopedUser,
): Promise<{ unitId: string; path: string; name: string | null }> {
  const rs = await db.$client.execute({
    sql: `SELECT p.party_branch AS name, u.id AS id, u.path AS path FROM contact_profiles p
          JOIN units u ON u.id = p.branch_unit_id WHERE p.user_id = ?`,
    args: [member.id],
  });
  const r = rs.rows[0];
  return r
    ? { unitId: String(r.id), path: String(r.path), name: r.name === null ? null : String(r.name) }
    : { unitId: member.unitId, path: member.unitPath, name: null };
}

/** A user of `role` inside the caller's subtree, or 404 (also for a user of another role). */
export async function roleUserInScope(
  db: Db,
  principal: Principal,
  userId: string,
  role: string,
  what: string,
): Promise<ScopedUser> {
  const rs = await db.$client.execute({
    sql: "SELECT id, role, display_name AS displayName, unit_id AS unitId, unit_path AS unitPath FROM users WHERE id = ?",
    args: [userId],
  });
  const r = rs.rows[0];
  if (!r || String(r.role) !== role) throw problems.notFound(what);
  assertInScope(principal, String(r.unitPath), what);
  return {
    id: String(r.id),
    role: String(r.role),
    displayName: String(r.displayName),
    unitId: String(r.unitId),
    unitPath: String(r.unitPath),
  };
}
