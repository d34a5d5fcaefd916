import {
  clearLoginFailures,
  confirmSecondFactor,
  deleteSecondFactor,
  findSecondFactor,
  type LoginAttemptKey,
  recoveryCodesLeft,
  replaceRecoveryCodes,
  spendRecoveryCode,
  spendTotpStep,
  upsertPendingSecondFactor,
} from "../db/repos/auth";
import { raiseSessionEpoch, revokeSessions } from "../db/repos/users";
import { RECOVERY_CODE_COUNT, secondFactorRequired } from "../domain/second-factor";
import {
  base32Encode,
  formatRecoveryCode,
  matchTotp,
  normalizeRecoveryCode,
  otpauthUri,
} from "../domain/totp";
import type { Principal } from "../env";
import { sha256Hex } from "../platform/crypto/tokens";
import { openTotpSecret, sealTotpSecret } from "../platform/crypto/totp-secret";
import { type AuditEntry, GuardFailed, writeAudited } from "../platform/db/audit";
import { getDb } from "../platform/db/client";
import { forgetSessionState } from "../platform/http/auth";
import { Problem, problems } from "../platform/http/problem";
import { claimAttemptOrRefuse } from "./login-throttle";
import { userInScope } from "./users";

/** The issuer name authenticator apps show beside the account. */
const TOTP_ISSUER = "grid321";

function entry(
  principal: Principal,
  action: string,
  objectId: string,
  requestId: string,
  detail?: Record<string, unknown>,
): AuditEntry {
  return {
    actorId: principal.userId,
    actorRole: principal.role,
    scopePath: principal.unitPath,
    action,
    objectType: "user",
    objectId,
    outcome: "success",
    requestId,
    detail: detail ?? null,
  };
}

function actorOfPrincipal(p: Principal) {
  return { id: p.userId, role: p.role, unitPath: p.unitPath };
}

const codeInvalid = () => new Problem(400, "second-factor-code-invalid", "The code is not valid");

/** The caller's second-factor state. */
export async function secondFactorStatus(env: Cloudflare.Env, principal: Principal) {
  const factor = await findSecondFactor(env, principal.userId);
  return {
    enrolled: Boolean(factor?.confirmedAt),
    pendingConfirmation: Boolean(factor && !factor.confirmedAt),
    required: secondFactorRequired(principal.role, principal.unitLevel),
    recoveryCodesLeft: factor?.confirmedAt ? await recoveryCodesLeft(env, principal.userId) : 0,
  };
}

/**
 * Starts an enrolment: a new 160-bit secret, sealed, replacing an unconfirmed one; returned once as an
 * `otpauth://` URI (and its base32 text). 409 when a confirmed factor exists (disable it first).
 */
export async function enrolSecondFactor(env: Cloudflare.Env, principal: Principal, requestId: string) {
  const secret = crypto.getRandomValues(new Uint8Array(20));
  const now = new Date().toISOString();
  const db = getDb(env);
  try {
    await writeAudited(
      db,
      [
        upsertPendingSecondFactor(
          db,
          principal.userId,
          await sealTotpSecret(env, principal.userId, secret),
          now,
        ),
      ],
      [entry(principal, "auth.second_factor_enrol", principal.userId, requestId)],
      { mustChange: [0] },
    );
  } catch (error) {
    if (!(error instanceof GuardFailed)) throw error;
    throw problems.conflict("second-factor-enrolled", "A second factor is enrolled; disable it first");
  }
  return { secret: base32Encode(secret), otpauthUri: otpauthUri(TOTP_ISSUER, principal.username, secret) };
}

/**
 * Confirms an enrolment with a first code (rate-limited like passwords) and returns ten single-use recovery
 * codes, once; only their SHA-256 hashes are stored. 409 without a pending enrolment, 400 for a wrong code.
 */
export async function confirmSecondFactorEnrolment(
  env: Cloudflare.Env,
  principal: Principal,
  requestId: string,
  code: string,
  ip: string,
  now = Date.now(),
): Promise<{ recoveryCodes: string[] }> {
  const factor = await findSecondFactor(env, principal.userId);
  if (!factor || factor.confirmedAt)
    throw problems.conflict("second-factor-not-pending", "No enrolment is waiting for confirmation");
  const key: LoginAttemptKey = { username: principal.username, ip, kind: "second_factor" };
  const claim = await claimAttemptOrRefuse(env, key, actorOfPrincipal(principal), requestId, now);
  const secret = await openTotpSecret(env, principal.userId, factor.secretEnc);
  const step = await matchTotp(secret, code, now, null);
  if (step === null) throw codeInvalid();
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () =>
    formatRecoveryCode(crypto.getRandomValues(new Uint8Array(10))),
  );
  const hashes = await Promise.all(codes.map((c) => sha256Hex(normalizeRecoveryCode(c))));
  const db = getDb(env);
  const nowIso = new Date(now).toISOString();
  try {
    await writeAudited(
      db,
      [
        confirmSecondFactor(db, principal.userId, factor.secretEnc, step, nowIso),
        ...replaceRecoveryCodes(db, principal.userId, hashes, nowIso),
        clearLoginFailures(db, key, claim),
      ],
      [entry(principal, "auth.second_factor_confirm", principal.userId, requestId)],
      { mustChange: [0] },
    );
  } catch (error) {
    if (!(error instanceof GuardFailed)) throw error;
    throw problems.conflict("second-factor-not-pending", "The enrolment changed meanwhile; enrol again");
  }
  return { recoveryCodes: codes };
}

/**
 * Disables the caller's own second factor with a current code or a recovery code (rate-limited; each code
 * accepted once). 404 without a factor, 400 for a wrong code.
 */
export async function disableSecondFactor(
  env: Cloudflare.Env,
  principal: Principal,
  requestId: string,
  answer: { method: "totp" | "recovery"; code: string },
  ip: string,
  now = Date.now(),
): Promise<void> {
  const factor = await findSecondFactor(env, principal.userId);
  if (!factor) throw problems.notFound("second factor");
  const key: LoginAttemptKey = { username: principal.username, ip, kind: "second_factor" };
  const claim = await claimAttemptOrRefuse(env, key, actorOfPrincipal(principal), requestId, now);
  const db = getDb(env);
  const nowIso = new Date(now).toISOString();
  let spend = null;
  if (answer.method === "recovery") {
    spend = spendRecoveryCode(
      db,
      principal.userId,
      await sha256Hex(normalizeRecoveryCode(answer.code)),
      nowIso,
    );
  } else if (factor.confirmedAt) {
    const secret = await openTotpSecret(env, principal.userId, factor.secretEnc);
    const step = await matchTotp(secret, answer.code, now, factor.lastUsedStep);
    if (step !== null) spend = spendTotpStep(db, principal.userId, step, nowIso);
  }
  if (!spend) throw codeInvalid();
  try {
    await writeAudited(
      db,
      [spend, ...deleteSecondFactor(db, principal.userId), clearLoginFailures(db, key, claim)],
      [
        entry(principal, "auth.second_factor_disable", principal.userId, requestId, {
          method: answer.method,
        }),
      ],
      { mustChange: [0] },
    );
  } catch (error) {
    if (!(error instanceof GuardFailed)) throw error;
    throw codeInvalid();
  }
}

/**
 * An admin clears another user's second factor (a lost device): the factor and recovery codes go, and every
 * session of the user is revoked (refresh tokens, and access tokens through the session epoch). 404 for a
 * user outside the caller's scope.
 */
export async function resetSecondFactor(
  env: Cloudflare.Env,
  principal: Principal,
  requestId: string,
  userId: string,
): Promise<void> {
  const user = await userInScope(env, principal, userId);
  const db = getDb(env);
  const now = new Date().toISOString();
  await writeAudited(
    db,
    [...deleteSecondFactor(db, user.id), revokeSessions(db, user.id, now), raiseSessionEpoch(db, user.id)],
    [{ ...entry(principal, "auth.second_factor_reset", user.id, requestId), scopePath: user.unitPath }],
  );
  forgetSessionState(user.id);
}
