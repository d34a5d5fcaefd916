import type { InStatement } from "@libsql/client/web";
import { and, asc, eq, exists, gt, gte, isNull, lt, or, type SQL, sql } from "drizzle-orm";
import type { Role } from "../../domain/roles";
import { subtreeRange } from "../../domain/units";
import type { Principal } from "../../env";
import { type Db, getDb } from "../../platform/db/client";
import { containsText, startsWithText, stmt } from "../../platform/db/statements";
import { refreshTokens, units, users } from "../schema";

export type UserRow = typeof users.$inferSelect;

/** The public view of a user (never the password hash). */
export function userView(row: UserRow) {
  return {
    id: row.id,
    username: row.username,
    displayName: row.displayName,
    role: row.role as Role,
    unitId: row.unitId,
    phone: row.phone,
    disabled: row.disabled,
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** A user with the level of their unit, for issuing tokens. */
export async function findUserWithUnit(db: Db, where: { username: string } | { id: string }) {
  const rows = await db
    .select({ user: users, unitLevel: units.level, unitPath: units.path })
    .from(users)
    .innerJoin(units, eq(units.id, users.unitId))
    .where("username" in where ? eq(users.username, where.username) : eq(users.id, where.id))
    .limit(1);
  return rows[0] ?? null;
}

/** The token principal of a user row. */
export function principalFor(
  user: UserRow,
  unitLevel: string,
  unitPath: string,
  amr: Principal["amr"] = ["pwd"],
): Principal {
  return {
    amr,
    sessionEpoch: user.sessionEpoch,
    userId: user.id,
    username: user.username,
    role: user.role as Role,
    unitId: user.unitId,
    unitPath,
    unitLevel,
  };
}

/** One user by id, or null. */
export async function findUser(env: Cloudflare.Env, id: string): Promise<UserRow | null> {
  const [user] = await getDb(env).select().from(users).where(eq(users.id, id)).limit(1);
  return user ?? null;
}

/** Filters of the user search; `afterUsername` is the keyset position. */
export interface UserSearch {
  scopePath: string;
  role?: Role;
  disabled?: boolean;
  q?: string;
  afterUsername?: string;
  limit: number;
}

/** Users inside `scopePath` by username, `limit` of them at most. */
export async function searchUsers(env: Cloudflare.Env, s: UserSearch): Promise<UserRow[]> {
  const [lo, hi] = subtreeRange(s.scopePath);
  const where: SQL[] = [gte(users.unitPath, lo), lt(users.unitPath, hi)];
  if (s.role) where.push(eq(users.role, s.role));
  if (s.disabled !== undefined) where.push(eq(users.disabled, s.disabled));
  if (s.q) where.push(or(startsWithText(users.username, s.q), containsText(users.displayName, s.q))!);
  if (s.afterUsername !== undefined) where.push(gt(users.username, s.afterUsername));
  return getDb(env)
    .select()
    .from(users)
    .where(and(...where))
    .orderBy(asc(users.username))
    .limit(s.limit);
}

/**
 * The INSERT of a new user that stores a row only while the user's unit exists (taking the unit's current
 * path), and none for a taken username: it changes no row in either case.
 */
export function insertUserIfUnitExists(row: UserRow): InStatement {
  // INSERT … SELECT FROM units: the unit's existence is checked in the statement that writes, so a unit
  // deleted meanwhile leaves no user behind; the query builder cannot combine that with ON CONFLICT.
  return {
    sql: `INSERT INTO users (id, username, display_name, role, unit_id, unit_path, phone, password_hash, disabled, version, created_at, updated_at)
          SELECT ?, ?, ?, ?, units.id, units.path, ?, ?, ?, ?, ?, ? FROM units WHERE units.id = ?
          ON CONFLICT (username) DO NOTHING`,
    args: [
      row.id,
      row.username,
      row.displayName,
      row.role,
      row.phone,
      row.passwordHash,
      row.disabled ? 1 : 0,
      row.version,
      row.createdAt,
      row.updatedAt,
      row.unitId,
    ],
  };
}

/** Whether a username is taken. */
export async function usernameTaken(env: Cloudflare.Env, username: string): Promise<boolean> {
  const [row] = await getDb(env)
    .select({ id: users.id })
    .from(users)
    .where(eq(users.username, username))
    .limit(1);
  return row !== undefined;
}

/**
 * The UPDATE of a user guarded by its version and by the existence of its (new) unit: it changes no row when
 * the version is stale or the unit was deleted meanwhile.
 */
export function updateUserIfCurrent(db: Db, next: UserRow, expectedVersion: number): InStatement {
  return stmt(
    db
      .update(users)
      .set({
        displayName: next.displayName,
        role: next.role,
        unitId: next.unitId,
        unitPath: next.unitPath,
        phone: next.phone,
        passwordHash: next.passwordHash,
        disabled: next.disabled,
        version: next.version,
        sessionEpoch: next.sessionEpoch,
        updatedAt: next.updatedAt,
      })
      .where(
        and(
          eq(users.id, next.id),
          eq(users.version, expectedVersion),
          exists(db.select({ one: sql`1` }).from(units).where(eq(units.id, next.unitId))),
        ),
      ),
  );
}

/** The UPDATE that revokes every live refresh token of a user. */
export function revokeSessions(db: Db, userId: string, now: string): InStatement {
  return stmt(
    db
      .update(refreshTokens)
      .set({ revokedAt: now })
      .where(and(eq(refreshTokens.userId, userId), isNull(refreshTokens.revokedAt))),
  );
}

/** A user's session state as of its last change (`changedAt`, database clock, epoch ms). */
export interface SessionChange {
  userId: string;
  disabled: boolean;
  sessionEpoch: number;
  changedAt: number;
}

/**
 * The session states of the users changed since `since` (inclusive, database clock, epoch ms), or within the
 * last `horizonMs` of the database's clock when `since` is null, oldest first, at most `limit`; and the
 * database's clock at the read, so the next read can start from it (`complete` false: more changes remain
 * past the last one returned).
 */
export async function sessionChangesSince(
  env: Cloudflare.Env,
  since: number | null,
  horizonMs: number,
  limit: number,
): Promise<{ now: number; changes: SessionChange[]; complete: boolean }> {
  // Raw SQL: the database's own clock comes back in the same round trip as the changes (a LEFT JOIN keeps
  // that one row when nothing changed), and `since` is compared in that clock, not the isolate's.
  const rs = await getDb(env).$client.execute({
    sql: `WITH clock(now) AS (SELECT CAST(unixepoch('subsec') * 1000 AS INTEGER))
          SELECT clock.now AS now, u.id, u.disabled, u.session_epoch, u.session_changed_at
            FROM clock LEFT JOIN users u INDEXED BY users_session_changed_idx
              ON u.session_changed_at >= COALESCE(?, clock.now - ?)
           ORDER BY u.session_changed_at
           LIMIT ?`,
    args: [since, horizonMs, limit],
  });
  const now = Number(rs.rows[0]?.now ?? 0);
  const changes = rs.rows
    .filter((r) => r.id !== null)
    .map((r) => ({
      userId: String(r.id),
      disabled: Number(r.disabled) === 1,
      sessionEpoch: Number(r.session_epoch),
      changedAt: Number(r.session_changed_at),
    }));
  return { now, changes, complete: rs.rows.length < limit };
}

/** The UPDATE raising a user's session epoch, so that every access token minted before it is revoked. */
export function raiseSessionEpoch(db: Db, userId: string): InStatement {
  return stmt(
    db
      .update(users)
      .set({ sessionEpoch: sql`${users.sessionEpoch} + 1` })
      .where(eq(users.id, userId)),
  );
}
