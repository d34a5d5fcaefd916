import type { InStatement } from "@libsql/client/web";
import { and, eq, gt, isNull } from "drizzle-orm";
import { type Db, getDb } from "../../platform/db/client";
import { stmt } from "../../platform/db/statements";
import { loginFailures, refreshTokens } from "../schema";

/** A stored refresh token (its hash, never the token). */
export type RefreshTokenRow = typeof refreshTokens.$inferSelect;
/** A refresh token as issued, before rotation or revocation. */
export type NewRefreshToken = Omit<RefreshTokenRow, "rotatedAt" | "revokedAt">;

/** The times of a username's failed logins after `since`, for the throttle. */
export async function loginFailuresSince(env: Cloudflare.Env, username: string, since: string) {
  const rows = await getDb(env)
    .select({ at: loginFailures.at })
    .from(loginFailures)
    .where(and(eq(loginFailures.username, username), gt(loginFailures.at, since)));
  return rows.map((r) => Date.parse(r.at));
}

/** The INSERT recording a failed login. */
export function recordLoginFailure(db: Db, username: string, at: string): InStatement {
  return stmt(db.insert(loginFailures).values({ username, at }));
}

/** The DELETE of a username's failed logins (after a successful one). */
export function clearLoginFailures(db: Db, username: string): InStatement {
  return stmt(db.delete(loginFailures).where(eq(loginFailures.username, username)));
}

/** The INSERT of a newly issued refresh token. */
export function insertRefreshToken(db: Db, row: NewRefreshToken): InStatement {
  return stmt(db.insert(refreshTokens).values(row));
}

/** Stores a newly issued refresh token. */
export async function storeRefreshToken(env: Cloudflare.Env, row: NewRefreshToken): Promise<void> {
  await getDb(env).insert(refreshTokens).values(row);
}

/** A refresh token by its hash, or null. */
export async function findRefreshToken(
  env: Cloudflare.Env,
  tokenHash: string,
): Promise<RefreshTokenRow | null> {
  const [row] = await getDb(env)
    .select()
    .from(refreshTokens)
    .where(eq(refreshTokens.tokenHash, tokenHash))
    .limit(1);
  return row ?? null;
}

/** The UPDATE revoking every live token of a login (a family). */
export function revokeFamily(db: Db, familyId: string, now: string): InStatement {
  return stmt(
    db
      .update(refreshTokens)
      .set({ revokedAt: now })
      .where(and(eq(refreshTokens.familyId, familyId), isNull(refreshTokens.revokedAt))),
  );
}

/** Revokes every token of a login (a family), whatever its state. */
export async function revokeWholeFamily(env: Cloudflare.Env, familyId: string, now: string): Promise<void> {
  await getDb(env).update(refreshTokens).set({ revokedAt: now }).where(eq(refreshTokens.familyId, familyId));
}

/** Marks a refresh token spent; false if a concurrent refresh spent it first. */
export async function spendRefreshToken(env: Cloudflare.Env, id: string, now: string): Promise<boolean> {
  const result = await getDb(env)
    .update(refreshTokens)
    .set({ rotatedAt: now })
    .where(and(eq(refreshTokens.id, id), isNull(refreshTokens.rotatedAt)));
  return result.rowsAffected === 1;
}

/** The UPDATE revoking the live tokens of the caller's login that `tokenHash` belongs to. */
export function revokeOwnFamilyOf(userId: string, tokenHash: string, now: string): InStatement {
  // The family is looked up by the token's hash inside the UPDATE: one statement, and only the caller's own.
  return {
    sql: `UPDATE refresh_tokens SET revoked_at = ? WHERE revoked_at IS NULL AND user_id = ?
          AND family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = ?)`,
    args: [now, userId, tokenHash],
  };
}
