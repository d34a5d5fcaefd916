import { claimLoginAttempt, type LoginAttemptKey, loginFailureTimes, rootCity } from "../db/repos/auth";
import { insertInboxItemStatement } from "../db/repos/inbox";
import { cityOfPath } from "../domain/escalation";
import {
  LOGIN_LIMITS,
  LOGIN_WINDOW_MS,
  loginThrottleBucket,
  throttleWindowStart,
  UNKNOWN_CLIENT_IP,
} from "../domain/throttle";
import { GuardFailed, writeAudited } from "../platform/db/audit";
import { getDb } from "../platform/db/client";
import { auditDenial } from "../platform/db/denials";
import { Problem } from "../platform/http/problem";

/** Who an attempt is for, when the username names a user: for the audit rows and the alert. */
export interface AttemptActor {
  id: string;
  role: string;
  unitPath: string;
}

/** The attempt actor of a looked-up user, or null for a username that names nobody. */
export function actorOf(
  found: { user: { id: string; role: string }; unitPath: string } | null,
): AttemptActor | null {
  return found ? { id: found.user.id, role: found.user.role, unitPath: found.unitPath } : null;
}

/** The client key of a request: `cf-connecting-ip` (set by Cloudflare's edge), or `unknown`. */
export function clientKey(ip: string | undefined): string {
  const trimmed = ip?.trim();
  return trimmed ? trimmed.slice(0, 64) : UNKNOWN_CLIENT_IP;
}

/**
 * Claims a throttle slot for one password or code check before it runs (recorded as a failure until the
 * check succeeds); when a bucket is full, audits the refusal (once a minute), alerts the city centre when the
 * username's ceiling over every IP is reached (once per window), and throws 429 with Retry-After.
 */
export async function claimAttemptOrRefuse(
  env: Cloudflare.Env,
  key: LoginAttemptKey,
  actor: AttemptActor | null,
  requestId: string,
  now: number,
): Promise<number> {
  const since = new Date(now - LOGIN_WINDOW_MS).toISOString();
  const atIso = new Date(now).toISOString();
  const ipBucket = key.ip !== UNKNOWN_CLIENT_IP;
  const claim = await claimLoginAttempt(env, key, atIso, since, LOGIN_LIMITS, ipBucket);
  if (claim !== null) return claim;
  const verdict = loginThrottleBucket(await loginFailureTimes(env, key, since), key.ip, now) ?? {
    bucket: "pair" as const,
    retryAfterSeconds: 1,
  };
  if (verdict.bucket === "username") await alertUsernameCeiling(env, key, actor, requestId, now);
  await auditDenial(env, {
    actorId: actor?.id ?? null,
    actorRole: actor?.role ?? null,
    scopePath: actor?.unitPath ?? "/",
    action: key.kind === "password" ? "auth.login" : "auth.second_factor",
    objectType: "user",
    objectId: actor?.id ?? null,
    reason: "throttled",
    requestId,
    detail: { username: key.username, by: verdict.bucket },
  });
  throw new Problem(429, "login-throttled", "Too many failed attempts; try again later", {
    headers: { "retry-after": String(verdict.retryAfterSeconds) },
  });
}

/** One `alert` inbox item for the city centre per username and window, with its audit row. */
async function alertUsernameCeiling(
  env: Cloudflare.Env,
  key: LoginAttemptKey,
  actor: AttemptActor | null,
  requestId: string,
  now: number,
): Promise<void> {
  const cityId = actor ? cityOfPath(actor.unitPath) : null;
  const city = cityId ? { id: cityId, path: `/${cityId}/` } : await rootCity(env);
  if (!city) return;
  const windowStart = throttleWindowStart(now);
  const alert = "auth.login_ceiling_reached";
  const item = await insertInboxItemStatement({
    unitId: city.id,
    unitPath: city.path,
    kind: "alert",
    caseId: null,
    dedupeKey: `alert:${alert}:${key.kind}:${key.username}:${windowStart}`,
    payload: {
      alert,
      username: key.username,
      kind: key.kind,
      userId: actor?.id ?? null,
      limit: LOGIN_LIMITS.username,
      windowStart,
    },
    createdAt: new Date(now).toISOString(),
  });
  try {
    // The item is INSERT OR IGNORE by its dedupe key: only the first refusal of the window writes it and audits.
    await writeAudited(
      getDb(env),
      [item],
      [
        {
          actorId: actor?.id ?? null,
          actorRole: actor?.role ?? null,
          scopePath: city.path,
          action: alert,
          objectType: "user",
          objectId: actor?.id ?? null,
          outcome: "denied",
          requestId,
          detail: { username: key.username, kind: key.kind, windowStart },
        },
      ],
      { mustChange: [0] },
    );
  } catch (error) {
    if (!(error instanceof GuardFailed)) throw error;
  }
}
