import type { InStatement } from "@libsql/client/web";
import {
  clearLoginFailures,
  findRefreshToken,
  insertRefreshToken,
  loginFailuresSince,
  type NewRefreshToken,
  recordLoginFailure,
  revokeFamily,
  revokeOwnFamilyOf,
  revokeWholeFamily,
  spendRefreshToken,
  storeRefreshToken,
} from "../db/repos/auth";
import { findUnit } from "../db/repos/units";
import { findUserWithUnit, principalFor, revokeSessions, type UserRow, userView } from "../db/repos/users";
import { LOGIN_WINDOW_MS, loginThrottle } from "../domain/throttle";
import type { Principal } from "../env";
import { DUMMY_PASSWORD_HASH, verifyPassword } from "../platform/crypto/password";
import {
  ACCESS_TOKEN_TTL_SECONDS,
  newRefreshToken,
  REFRESH_TOKEN_TTL_SECONDS,
  sha256Hex,
  signAccessToken,
} from "../platform/crypto/tokens";
import { type AuditEntry, writeAudited } from "../platform/db/audit";
import { getDb } from "../platform/db/client";
import { Problem, problems } from "../platform/http/problem";

/** An access token, a refresh token and the user they belong to. */
export type TokenPair = Awaited<ReturnType<typeof issueTokens>>["body"];

async function issueTokens(
  env: Cloudflare.Env,
  user: UserRow,
  unitLevel: string,
  unitPath: string,
  familyId: string,
) {
  const refreshToken = newRefreshToken();
  const now = Date.now();
  const row: NewRefreshToken = {
    id: crypto.randomUUID(),
    userId: user.id,
    familyId,
    tokenHash: await sha256Hex(refreshToken),
    expiresAt: new Date(now + REFRESH_TOKEN_TTL_SECONDS * 1000).toISOString(),
    createdAt: new Date(now).toISOString(),
  };
  const accessToken = await signAccessToken(env, principalFor(user, unitLevel, unitPath), now);
  return {
    row,
    body: {
      accessToken,
      tokenType: "Bearer" as const,
      expiresIn: ACCESS_TOKEN_TTL_SECONDS,
      refreshToken,
      refreshExpiresIn: REFRESH_TOKEN_TTL_SECONDS,
      user: userView(user),
    },
  };
}

type UserWithUnit = Awaited<ReturnType<typeof findUserWithUnit>>;

function authAudit(
  action: string,
  outcome: AuditEntry["outcome"],
  found: UserWithUnit,
  requestId: string,
  detail?: Record<string, unknown>,
): AuditEntry {
  return {
    actorId: found?.user.id ?? null,
    actorRole: found?.user.role ?? null,
    scopePath: found?.unitPath ?? "/",
    action,
    objectType: "user",
    objectId: found?.user.id ?? null,
    outcome,
    requestId,
    detail: detail ?? null,
  };
}

/**
 * Logs in with username and password. Five failures for a username within 15 minutes block it (429 with
 * Retry-After); every attempt is audited, and a failure is recorded with its audit row.
 */
export async function login(
  env: Cloudflare.Env,
  requestId: string,
  username: string,
  password: string,
): Promise<TokenPair> {
  const db = getDb(env);
  const now = Date.now();
  const since = new Date(now - LOGIN_WINDOW_MS).toISOString();
  const [failures, found] = await Promise.all([
    loginFailuresSince(env, username, since),
    findUserWithUnit(db, { username }),
  ]);
  const throttle = loginThrottle(failures, now);
  if (throttle.blocked) {
    await writeAudited(
      db,
      [],
      [authAudit("auth.login", "denied", found, requestId, { username, reason: "throttled" })],
    );
    throw new Problem(429, "login-throttled", "Too many failed logins; try again later", {
      headers: { "retry-after": String(throttle.retryAfterSeconds) },
    });
  }
  const ok = await verifyPassword(password, found?.user.passwordHash ?? DUMMY_PASSWORD_HASH);
  if (!found || !ok || found.user.disabled) {
    const reason = found?.user.disabled && ok ? "disabled" : "bad credentials";
    await writeAudited(
      db,
      [recordLoginFailure(db, username, new Date(now).toISOString())],
      [authAudit("auth.login", "failure", found, requestId, { username, reason })],
    );
    throw problems.unauthorized("Wrong username or password");
  }
  const { row, body } = await issueTokens(
    env,
    found.user,
    found.unitLevel,
    found.unitPath,
    crypto.randomUUID(),
  );
  await writeAudited(
    db,
    [insertRefreshToken(db, row), clearLoginFailures(db, username)],
    [authAudit("auth.login", "success", found, requestId)],
  );
  return body;
}

/**
 * Exchanges a refresh token for a new pair in the same family, spending the old one. A spent token presented
 * again is taken as stolen: the whole family is revoked, and the attempt audited.
 */
export async function refresh(
  env: Cloudflare.Env,
  requestId: string,
  refreshToken: string,
): Promise<TokenPair> {
  const db = getDb(env);
  const stored = await findRefreshToken(env, await sha256Hex(refreshToken));
  if (!stored || stored.revokedAt) throw problems.unauthorized("The refresh token is not valid");
  const nowIso = new Date().toISOString();
  if (stored.rotatedAt) {
    const owner = await findUserWithUnit(db, { id: stored.userId });
    const entry = authAudit("auth.refresh", "denied", owner, requestId, {
      reason: "refresh token reused",
      familyId: stored.familyId,
    });
    await writeAudited(
      db,
      [revokeFamily(db, stored.familyId, nowIso)],
      [{ ...entry, actorId: stored.userId, objectId: stored.userId }],
    );
    throw problems.unauthorized("The refresh token was already used; the session is revoked");
  }
  if (stored.expiresAt <= nowIso) throw problems.unauthorized("The refresh token has expired");
  const found = await findUserWithUnit(db, { id: stored.userId });
  if (!found || found.user.disabled) {
    await revokeWholeFamily(env, stored.familyId, nowIso);
    throw problems.unauthorized("The account is disabled");
  }
  if (!(await spendRefreshToken(env, stored.id, nowIso)))
    throw problems.unauthorized("The refresh token was already used");
  const { row, body } = await issueTokens(env, found.user, found.unitLevel, found.unitPath, stored.familyId);
  await storeRefreshToken(env, row);
  return body;
}

/** Revokes the login a refresh token belongs to, or with `all` every session of the caller; audited. */
export async function logout(
  env: Cloudflare.Env,
  principal: Principal,
  requestId: string,
  body: { refreshToken?: string; all?: boolean },
): Promise<void> {
  const db = getDb(env);
  const nowIso = new Date().toISOString();
  let statement: InStatement;
  if (body.all) statement = revokeSessions(db, principal.userId, nowIso);
  else if (body.refreshToken)
    statement = revokeOwnFamilyOf(principal.userId, await sha256Hex(body.refreshToken), nowIso);
  else
    throw problems.badRequest("Give a refreshToken or all: true", [
      { path: "refreshToken", message: "required unless all is true" },
    ]);
  await writeAudited(
    db,
    [statement],
    [
      {
        actorId: principal.userId,
        actorRole: principal.role,
        scopePath: principal.unitPath,
        action: "auth.logout",
        objectType: "user",
        objectId: principal.userId,
        outcome: "success",
        requestId,
        detail: { all: Boolean(body.all) },
      },
    ],
  );
}

/** The caller's user and unit; 404 if either is gone. */
export async function whoAmI(env: Cloudflare.Env, principal: Principal) {
  const found = await findUserWithUnit(getDb(env), { id: principal.userId });
  if (!found) throw problems.notFound("user");
  const unit = await findUnit(env, found.user.unitId);
  if (!unit) throw problems.notFound("unit");
  return {
    user: userView(found.user),
    unit: { id: unit.id, code: unit.code, name: unit.name, level: unit.level, path: unit.path },
  };
}
