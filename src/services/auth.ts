import type { InStatement } from "@libsql/client/web";
import {
  clearLoginFailures,
  findLoginChallenge,
  findRefreshToken,
  findSecondFactor,
  insertLoginChallenge,
  insertRefreshToken,
  type LoginAttemptKey,
  type NewRefreshToken,
  revokeFamily,
  revokeOwnFamilyOf,
  revokeWholeFamily,
  spendLoginChallenge,
  spendRecoveryCode,
  spendRefreshToken,
  spendTotpStep,
} from "../db/repos/auth";
import { findUnit } from "../db/repos/units";
import { findUserWithUnit, principalFor, revokeSessions, type UserRow, userView } from "../db/repos/users";
import { refreshVerdict } from "../domain/refresh-rotation";
import { type AuthMethod, LOGIN_CHALLENGE_TTL_SECONDS, secondFactorRequired } from "../domain/second-factor";
import { matchTotp, normalizeRecoveryCode } from "../domain/totp";
import type { Principal } from "../env";
import { DUMMY_PASSWORD_HASH, verifyPassword } from "../platform/crypto/password";
import {
  ACCESS_TOKEN_TTL_SECONDS,
  newRefreshToken,
  REFRESH_TOKEN_TTL_SECONDS,
  sha256Hex,
  signAccessToken,
} from "../platform/crypto/tokens";
import { openTotpSecret } from "../platform/crypto/totp-secret";
import { type AuditEntry, GuardFailed, writeAudited } from "../platform/db/audit";
import { getDb } from "../platform/db/client";
import { problems } from "../platform/http/problem";
import { actorOf, claimAttemptOrRefuse } from "./login-throttle";

/** An access token, a refresh token and the user they belong to. */
export type TokenPair = Awaited<ReturnType<typeof issueTokens>>["body"];

async function issueTokens(
  env: Cloudflare.Env,
  user: UserRow,
  unitLevel: string,
  unitPath: string,
  familyId: string,
  amr: AuthMethod[],
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
    amr: amr.join(" "),
  };
  const accessToken = await signAccessToken(env, principalFor(user, unitLevel, unitPath, amr), now);
  return {
    row,
    body: {
      accessToken,
      tokenType: "Bearer" as const,
      expiresIn: ACCESS_TOKEN_TTL_SECONDS,
      refreshToken,
      refreshExpiresIn: REFRESH_TOKEN_TTL_SECONDS,
      amr,
      secondFactorEnrollmentRequired:
        secondFactorRequired(user.role as Principal["role"], unitLevel) && !amr.includes("otp"),
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

/** What a correct password earns a user with a second factor: a challenge to answer with a code. */
export interface SecondFactorChallenge {
  challenge: string;
  methods: Array<"totp" | "recovery">;
  expiresIn: number;
}

/**
 * Logs in with username and password. Each check first claims a throttle slot: five failures per (username,
 * client IP), thirty per IP, fifty per username over every IP within 15 minutes (429 with Retry-After; the
 * last alerts the city centre). A user with a confirmed second factor gets a challenge instead of tokens;
 * a privileged user without one gets tokens marked `secondFactorEnrollmentRequired` (enrol and read only).
 */
export async function login(
  env: Cloudflare.Env,
  requestId: string,
  username: string,
  password: string,
  ip: string,
): Promise<TokenPair | SecondFactorChallenge> {
  const db = getDb(env);
  const now = Date.now();
  const key: LoginAttemptKey = { username, ip, kind: "password" };
  const found = await findUserWithUnit(db, { username });
  const claim = await claimAttemptOrRefuse(env, key, actorOf(found), requestId, now);
  const ok = await verifyPassword(password, found?.user.passwordHash ?? DUMMY_PASSWORD_HASH);
  if (!found || !ok || found.user.disabled) {
    const reason = found?.user.disabled && ok ? "disabled" : "bad credentials";
    // The claim already recorded the failure; only the audit row remains.
    await writeAudited(db, [], [authAudit("auth.login", "failure", found, requestId, { username, reason })]);
    throw problems.unauthorized("Wrong username or password");
  }
  const clear = clearLoginFailures(db, key, claim);
  const factor = await findSecondFactor(env, found.user.id);
  if (factor?.confirmedAt) {
    const challenge = newRefreshToken();
    await writeAudited(
      db,
      [
        insertLoginChallenge(db, {
          id: crypto.randomUUID(),
          userId: found.user.id,
          challengeHash: await sha256Hex(challenge),
          ip,
          expiresAt: new Date(now + LOGIN_CHALLENGE_TTL_SECONDS * 1000).toISOString(),
          createdAt: new Date(now).toISOString(),
        }),
        clear,
      ],
      [authAudit("auth.login", "success", found, requestId, { secondFactor: "challenged" })],
    );
    return { challenge, methods: ["totp", "recovery"], expiresIn: LOGIN_CHALLENGE_TTL_SECONDS };
  }
  const { row, body } = await issueTokens(
    env,
    found.user,
    found.unitLevel,
    found.unitPath,
    crypto.randomUUID(),
    ["pwd"],
  );
  await writeAudited(
    db,
    [insertRefreshToken(db, row), clear],
    [authAudit("auth.login", "success", found, requestId)],
  );
  return body;
}

/** What answers a login challenge: a current TOTP code, or one of the recovery codes. */
export interface SecondFactorAnswer {
  challenge: string;
  method: "totp" | "recovery";
  code: string;
}

/**
 * Completes a login with a second factor: the challenge must be live and unspent (401 otherwise), and each
 * code check claims a throttle slot like a password. A TOTP code is accepted once (its time step must be
 * after the last one accepted), with one step of clock skew either way; a recovery code once. The
 * challenge, the code and the new tokens commit together, so a replay in parallel gets 401.
 */
export async function loginSecondFactor(
  env: Cloudflare.Env,
  requestId: string,
  answer: SecondFactorAnswer,
  ip: string,
  now = Date.now(),
): Promise<TokenPair> {
  const db = getDb(env);
  const nowIso = new Date(now).toISOString();
  const stored = await findLoginChallenge(env, await sha256Hex(answer.challenge));
  if (!stored || stored.usedAt || stored.expiresAt <= nowIso)
    throw problems.unauthorized("The challenge is not valid; log in again");
  const found = await findUserWithUnit(db, { id: stored.userId });
  if (!found || found.user.disabled) throw problems.unauthorized("The challenge is not valid; log in again");
  const key: LoginAttemptKey = { username: found.user.username, ip, kind: "second_factor" };
  const claim = await claimAttemptOrRefuse(env, key, actorOf(found), requestId, now);
  const spend = await codeSpend(env, found.user.id, answer, now, nowIso);
  const refuse = async (reason: string) => {
    await writeAudited(
      db,
      [],
      [authAudit("auth.second_factor", "failure", found, requestId, { method: answer.method, reason })],
    );
    return problems.unauthorized("The code is not valid");
  };
  if (!spend) throw await refuse("bad code");
  const { row, body } = await issueTokens(
    env,
    found.user,
    found.unitLevel,
    found.unitPath,
    crypto.randomUUID(),
    ["pwd", "otp"],
  );
  try {
    await writeAudited(
      db,
      [
        spendLoginChallenge(db, stored.id, nowIso),
        spend,
        insertRefreshToken(db, row),
        clearLoginFailures(db, key, claim),
      ],
      [authAudit("auth.second_factor", "success", found, requestId, { method: answer.method })],
      { mustChange: [0, 1] },
    );
  } catch (error) {
    if (!(error instanceof GuardFailed)) throw error;
    throw await refuse(error.statementIndex === 0 ? "challenge spent" : "code already used");
  }
  return body;
}

/** The UPDATE that spends the answered code, or null when the code matches nothing. */
async function codeSpend(
  env: Cloudflare.Env,
  userId: string,
  answer: SecondFactorAnswer,
  now: number,
  nowIso: string,
): Promise<InStatement | null> {
  const db = getDb(env);
  const factor = await findSecondFactor(env, userId);
  if (!factor?.confirmedAt) return null;
  if (answer.method === "recovery")
    return spendRecoveryCode(db, userId, await sha256Hex(normalizeRecoveryCode(answer.code)), nowIso);
  const secret = await openTotpSecret(env, userId, factor.secretEnc);
  const step = await matchTotp(secret, answer.code, now, factor.lastUsedStep);
  return step === null ? null : spendTotpStep(db, userId, step, nowIso);
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
  const nowIso = new Date().toISOString();
  const verdict = refreshVerdict(stored, nowIso);
  if (!stored || verdict === "invalid") throw problems.unauthorized("The refresh token is not valid");
  if (verdict === "reused") {
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
  if (verdict === "expired") throw problems.unauthorized("The refresh token has expired");
  const found = await findUserWithUnit(db, { id: stored.userId });
  if (!found || found.user.disabled) {
    await revokeWholeFamily(env, stored.familyId, nowIso);
    throw problems.unauthorized("The account is disabled");
  }
  if (!(await spendRefreshToken(env, stored.id, nowIso)))
    throw problems.unauthorized("The refresh token was already used");
  const { row, body } = await issueTokens(
    env,
    found.user,
    found.unitLevel,
    found.unitPath,
    stored.familyId,
    stored.amr.split(" ") as AuthMethod[],
  );
  // The new token and the rotation's audit row commit together.
  await writeAudited(
    db,
    [insertRefreshToken(db, row)],
    [authAudit("auth.refresh", "success", found, requestId, { familyId: stored.familyId })],
  );
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
