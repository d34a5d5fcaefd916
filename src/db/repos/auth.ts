import type { InStatement } from "@libsql/client/web";
import { and, asc, eq, gt, isNotNull, isNull, lt, lte, or } from "drizzle-orm";
import { type Db, getDb } from "../../platform/db/client";
import { stmt } from "../../platform/db/statements";
import {
  loginChallenges,
  loginFailures,
  recoveryCodes,
  refreshTokens,
  units,
  userSecondFactors,
} from "../schema";

/** A stored refresh token (its hash, never the token). */
export type RefreshTokenRow = typeof refreshTokens.$inferSelect;
/** A refresh token as issued, before rotation or revocation. */
export type NewRefreshToken = Omit<RefreshTokenRow, "rotatedAt" | "revokedAt">;

/** What a password or code check counts in: whose, from where, and which kind of secret. */
export interface LoginAttemptKey {
  username: string;
  ip: string;
  kind: "password" | "second_factor";
}

/** The ceilings of the three buckets an attempt counts in (see src/domain/throttle.ts). */
export interface LoginLimits {
  pair: number;
  ip: number;
  username: number;
}

/**
 * Claims a slot for one password or code check, recording it as a failure before the check runs: the id of
 * the claim, or null when the (username, IP) pair, the IP or the username is already at its ceiling within
 * the window. A success deletes the claim afterwards (`clearLoginFailures`).
 */
export async function claimLoginAttempt(
  env: Cloudflare.Env,
  key: LoginAttemptKey,
  at: string,
  since: string,
  limits: LoginLimits,
  ipBucket: boolean,
): Promise<number | null> {
  // One conditional INSERT … SELECT … RETURNING: SQLite takes the write lock before the counts are read, so
  // parallel attempts are serialized and a burst cannot all pass a read-then-write check.
  const rs = await getDb(env).$client.execute({
    sql: `INSERT INTO login_failures (username, ip, kind, at)
          SELECT :username, :ip, :kind, :at
          WHERE (SELECT count(*) FROM login_failures
                 WHERE username = :username AND kind = :kind AND ip = :ip AND at > :since) < :pair
            AND (SELECT count(*) FROM login_failures WHERE username = :username AND kind = :kind AND at > :since) < :user
            AND (:ipBucket = 0 OR (SELECT count(*) FROM login_failures WHERE ip = :ip AND at > :since) < :perIp)
          RETURNING id`,
    args: {
      username: key.username,
      ip: key.ip,
      kind: key.kind,
      at,
      since,
      pair: limits.pair,
      user: limits.username,
      perIp: limits.ip,
      ipBucket: ipBucket ? 1 : 0,
    },
  });
  const id = rs.rows[0]?.id;
  return id === undefined || id === null ? null : Number(id);
}

/** The times of recent failures in each bucket of an attempt, to say which one refused it and for how long. */
export async function loginFailureTimes(env: Cloudflare.Env, key: LoginAttemptKey, since: string) {
  const db = getDb(env);
  const recent = gt(loginFailures.at, since);
  const [byUsername, byIp] = await Promise.all([
    db
      .select({ at: loginFailures.at, ip: loginFailures.ip })
      .from(loginFailures)
      .where(and(eq(loginFailures.username, key.username), eq(loginFailures.kind, key.kind), recent)),
    db
      .select({ at: loginFailures.at })
      .from(loginFailures)
      .where(and(eq(loginFailures.ip, key.ip), recent)),
  ]);
  return {
    pair: byUsername.filter((r) => r.ip === key.ip).map((r) => Date.parse(r.at)),
    username: byUsername.map((r) => Date.parse(r.at)),
    ip: byIp.map((r) => Date.parse(r.at)),
  };
}

/**
 * The DELETE of a (username, IP) pair's failures up to and including a successful check's own claim; claims
 * of checks still running after it keep counting.
 */
export function clearLoginFailures(db: Db, key: LoginAttemptKey, upToId: number): InStatement {
  return stmt(
    db
      .delete(loginFailures)
      .where(
        and(
          eq(loginFailures.username, key.username),
          eq(loginFailures.kind, key.kind),
          eq(loginFailures.ip, key.ip),
          lte(loginFailures.id, upToId),
        ),
      ),
  );
}

/** The oldest city unit: where alerts about a username that belongs to nobody go. */
export async function rootCity(env: Cloudflare.Env): Promise<{ id: string; path: string } | null> {
  const [row] = await getDb(env)
    .select({ id: units.id, path: units.path })
    .from(units)
    .where(and(eq(units.level, "city"), isNull(units.parentId)))
    .orderBy(asc(units.createdAt))
    .limit(1);
  return row ?? null;
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

/** A user's TOTP factor as stored (the secret sealed). */
export type SecondFactorRow = typeof userSecondFactors.$inferSelect;

/** A user's second factor, or null. */
export async function findSecondFactor(env: Cloudflare.Env, userId: string): Promise<SecondFactorRow | null> {
  const [row] = await getDb(env)
    .select()
    .from(userSecondFactors)
    .where(eq(userSecondFactors.userId, userId))
    .limit(1);
  return row ?? null;
}

/**
 * The upsert of an unconfirmed factor: a new enrolment replaces an unconfirmed one, and changes no row when
 * a confirmed factor exists (it must be disabled first).
 */
export function upsertPendingSecondFactor(
  db: Db,
  userId: string,
  secretEnc: string,
  now: string,
): InStatement {
  return stmt(
    db
      .insert(userSecondFactors)
      .values({ userId, secretEnc, createdAt: now, updatedAt: now })
      .onConflictDoUpdate({
        target: userSecondFactors.userId,
        set: { secretEnc, lastUsedStep: null, createdAt: now, updatedAt: now },
        setWhere: isNull(userSecondFactors.confirmedAt),
      }),
  );
}

/** The UPDATE confirming the factor enrolled with `secretEnc` by its first code's step; no row otherwise. */
export function confirmSecondFactor(
  db: Db,
  userId: string,
  secretEnc: string,
  step: number,
  now: string,
): InStatement {
  return stmt(
    db
      .update(userSecondFactors)
      .set({ confirmedAt: now, lastUsedStep: step, updatedAt: now })
      .where(
        and(
          eq(userSecondFactors.userId, userId),
          eq(userSecondFactors.secretEnc, secretEnc),
          isNull(userSecondFactors.confirmedAt),
        ),
      ),
  );
}

/** The UPDATE spending a TOTP step: no row when this step (or a later one) was already accepted. */
export function spendTotpStep(db: Db, userId: string, step: number, now: string): InStatement {
  return stmt(
    db
      .update(userSecondFactors)
      .set({ lastUsedStep: step, updatedAt: now })
      .where(
        and(
          eq(userSecondFactors.userId, userId),
          isNotNull(userSecondFactors.confirmedAt),
          or(isNull(userSecondFactors.lastUsedStep), lt(userSecondFactors.lastUsedStep, step)),
        ),
      ),
  );
}

/** The DELETE of a user's factor and recovery codes. */
export function deleteSecondFactor(db: Db, userId: string): InStatement[] {
  return [
    stmt(db.delete(userSecondFactors).where(eq(userSecondFactors.userId, userId))),
    stmt(db.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId))),
  ];
}

/** The INSERTs of a fresh set of recovery code hashes, replacing any earlier set. */
export function replaceRecoveryCodes(db: Db, userId: string, hashes: string[], now: string): InStatement[] {
  return [
    stmt(db.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId))),
    stmt(
      db
        .insert(recoveryCodes)
        .values(hashes.map((codeHash) => ({ id: crypto.randomUUID(), userId, codeHash, createdAt: now }))),
    ),
  ];
}

/** The UPDATE spending one recovery code: no row when it is unknown or already used. */
export function spendRecoveryCode(db: Db, userId: string, codeHash: string, now: string): InStatement {
  return stmt(
    db
      .update(recoveryCodes)
      .set({ usedAt: now })
      .where(
        and(
          eq(recoveryCodes.userId, userId),
          eq(recoveryCodes.codeHash, codeHash),
          isNull(recoveryCodes.usedAt),
        ),
      ),
  );
}

/** How many unused recovery codes a user has left. */
export async function recoveryCodesLeft(env: Cloudflare.Env, userId: string): Promise<number> {
  const rows = await getDb(env)
    .select({ id: recoveryCodes.id })
    .from(recoveryCodes)
    .where(and(eq(recoveryCodes.userId, userId), isNull(recoveryCodes.usedAt)));
  return rows.length;
}

/** A login challenge as stored. */
export type LoginChallengeRow = typeof loginChallenges.$inferSelect;

/** Stores the challenge a correct password earned (its hash only). */
export function insertLoginChallenge(db: Db, row: Omit<LoginChallengeRow, "usedAt">): InStatement {
  return stmt(db.insert(loginChallenges).values(row));
}

/** A login challenge by its hash, or null. */
export async function findLoginChallenge(
  env: Cloudflare.Env,
  challengeHash: string,
): Promise<LoginChallengeRow | null> {
  const [row] = await getDb(env)
    .select()
    .from(loginChallenges)
    .where(eq(loginChallenges.challengeHash, challengeHash))
    .limit(1);
  return row ?? null;
}

/** The UPDATE spending a challenge: no row when it was spent already. */
export function spendLoginChallenge(db: Db, id: string, now: string): InStatement {
  return stmt(
    db
      .update(loginChallenges)
      .set({ usedAt: now })
      .where(and(eq(loginChallenges.id, id), isNull(loginChallenges.usedAt))),
  );
}
