import { insertInboxItemStatement } from "../db/repos/inbox";
import { countPiiUse, type PiiUseKind, peekPiiUse, revealLimitSettings } from "../db/repos/pii-access";
import { cityOfPath } from "../domain/escalation";
import { ID_PROBE_LIMIT, mayUnmask, PII_LIMIT_WINDOW_MS, resolveRevealLimit } from "../domain/pii";
import { type Purpose, parsePurposeHeaders } from "../domain/purposes";
import { writeAudited } from "../platform/db/audit";
import { getDb } from "../platform/db/client";
import { Problem, problems } from "../platform/http/problem";
import { type Actor, auditEntry, denyAudited } from "./registry-audit";

type Env = Cloudflare.Env;

/** What a read asks for: `?reveal=`, and the `x-purpose` / `x-purpose-ref` headers. */
export interface RevealAsk {
  reveal?: "true" | "false";
  purpose?: string;
  purposeRef?: string;
}

/** What an unmasked read shows, for its audit row. */
export interface RevealTarget {
  objectType: string;
  objectId: string;
  scopePath: string;
  fields: string[];
}

/** The 400 for a purpose that is not one of the codes, or a reference of the wrong shape. */
function purposeInvalid(path: string, message: string): Problem {
  return new Problem(400, "purpose-invalid", "x-purpose must be one of the enumerated purpose codes", {
    errors: [{ path, message }],
  });
}

/** The stated purpose of a request (null when none is stated); 400 `purpose-invalid` for anything else. */
export function purposeOf(ask: Pick<RevealAsk, "purpose" | "purposeRef">): Purpose | null {
  const parsed = parsePurposeHeaders(ask.purpose, ask.purposeRef);
  if (!parsed.ok) throw purposeInvalid(parsed.path, parsed.message);
  return parsed.purpose;
}

/** The 429 for a per-user limit, with `Retry-After` until the window ends. */
function limitReached(detail: string, windowStart: string, now: Date): Problem {
  const seconds = Math.max(
    1,
    Math.ceil((Date.parse(windowStart) + PII_LIMIT_WINDOW_MS - now.getTime()) / 1000),
  );
  return new Problem(429, "rate-limited", detail, { headers: { "retry-after": String(seconds) } });
}

/**
 * Counts one use of personal data by the caller against their hourly reveal limit (a unit setting, default
 * 60). The first use past the limit in a window alerts the city centre's inbox (once per window); every use
 * past it is refused with 429 and audited as a denial.
 */
async function countReveal(env: Env, actor: Actor, what: RevealTarget, purpose: Purpose): Promise<void> {
  const db = getDb(env);
  const now = new Date();
  const [settings, count] = await Promise.all([
    revealLimitSettings(db, actor.principal.unitPath),
    countPiiUse(db, actor.principal.userId, "reveal", now, PII_LIMIT_WINDOW_MS),
  ]);
  const limit = resolveRevealLimit(settings);
  if (count.n <= limit) return;
  if (count.n === limit + 1) await alertCityCentre(env, actor, "reveal", limit, count.windowStart);
  await denyAudited(env, actor, { ...what, action: `${what.objectType}.reveal` }, "rate_limited", {
    limit,
    purpose: purpose.code,
  });
  throw limitReached(`At most ${limit} reveals an hour; this one was refused`, count.windowStart, now);
}

/** An `alert` inbox item for the city centre above the caller (one per user, kind and window) and its audit row. */
async function alertCityCentre(
  env: Env,
  actor: Actor,
  kind: PiiUseKind,
  limit: number,
  windowStart: string,
): Promise<void> {
  const city = cityOfPath(actor.principal.unitPath);
  if (!city) return;
  const alert = `pii.${kind}_limit_exceeded`;
  const item = await insertInboxItemStatement({
    unitId: city,
    unitPath: `/${city}/`,
    kind: "alert",
    caseId: null,
    dedupeKey: `alert:${alert}:${actor.principal.userId}:${windowStart}`,
    payload: {
      alert,
      userId: actor.principal.userId,
      username: actor.principal.username,
      role: actor.principal.role,
      unitId: actor.principal.unitId,
      limit,
      windowStart,
    },
    createdAt: new Date().toISOString(),
  });
  await writeAudited(
    getDb(env),
    [item],
    [
      {
        ...auditEntry(actor, alert, "user", actor.principal.userId, actor.principal.unitPath, {
          limit,
          windowStart,
        }),
        outcome: "denied",
      },
    ],
  );
}

/**
 * Decides whether this read is unmasked and, when it is, counts it against the caller's hourly limit and
 * writes the audit row (purpose code, reference) before anything is returned. A purpose that is given must
 * be valid (400 `purpose-invalid`) even without a reveal. Refusals are audited (once a minute per user,
 * object and reason): 403 for a role that only sees masked values, 400 `purpose-required` without a purpose,
 * 429 past the limit.
 */
export async function grantReveal(
  env: Env,
  actor: Actor,
  ask: RevealAsk,
  what: RevealTarget,
): Promise<boolean> {
  const denial = { ...what, action: `${what.objectType}.reveal` };
  let purpose: Purpose | null;
  try {
    purpose = purposeOf(ask);
  } catch (error) {
    if (ask.reveal === "true") await denyAudited(env, actor, denial, "purpose_invalid");
    throw error;
  }
  if (ask.reveal !== "true") return false;
  if (!mayUnmask(actor.principal.role)) {
    await denyAudited(env, actor, denial, "role");
    throw problems.forbidden("Your role sees masked values only");
  }
  if (!purpose) {
    await denyAudited(env, actor, denial, "purpose_missing");
    throw new Problem(
      400,
      "purpose-required",
      "Unmasked reads must state a purpose in the x-purpose header",
      {
        errors: [
          { path: "header.x-purpose", message: "required with reveal=true: one of the purpose codes" },
        ],
      },
    );
  }
  await countReveal(env, actor, what, purpose);
  const entry = auditEntry(
    actor,
    `${what.objectType}.reveal`,
    what.objectType,
    what.objectId,
    what.scopePath,
    { fields: what.fields, ...(purpose.ref ? { purposeRef: purpose.ref } : {}) },
    purpose.code,
  );
  await writeAudited(getDb(env), [], [entry]);
  return true;
}

/**
 * A search by an exact ID number: a use of it, so only roles that may unmask (403, audited, otherwise), with a
 * purpose (400), counted like a reveal and audited with the number's keyed HMAC (never the number or a mask).
 */
export async function grantIdNumberSearch(
  env: Env,
  actor: Actor,
  ask: Pick<RevealAsk, "purpose" | "purposeRef">,
  search: { scopePath: string; idNumberHmac: string },
): Promise<void> {
  const what = {
    objectType: "household",
    objectId: null,
    scopePath: search.scopePath,
    action: "household.search_by_id_number",
  };
  if (!mayUnmask(actor.principal.role)) {
    await denyAudited(env, actor, what, "role");
    throw problems.forbidden("Your role may not search by ID number");
  }
  const purpose = purposeOf(ask);
  if (!purpose) {
    await denyAudited(env, actor, what, "purpose_missing");
    throw new Problem(400, "purpose-required", "A search by ID number must state a purpose in x-purpose", {
      errors: [{ path: "header.x-purpose", message: "required with an ID number: one of the purpose codes" }],
    });
  }
  await countReveal(
    env,
    actor,
    { objectType: "household", objectId: "search", scopePath: search.scopePath, fields: ["idNumber"] },
    purpose,
  );
  const entry = auditEntry(
    actor,
    "household.search_by_id_number",
    "household",
    null,
    search.scopePath,
    { idNumberHmac: search.idNumberHmac, ...(purpose.ref ? { purposeRef: purpose.ref } : {}) },
    purpose.code,
  );
  await writeAudited(getDb(env), [], [entry]);
}

/** The next step a refused registration of a registered ID number points to. */
export const TRANSFER_NEXT_STEP = {
  action: "request-transfer",
  method: "POST",
  href: "/v1/residents/transfer-requests",
  description:
    "该身份证号已在本市登记。请先登记本户（不含此人），再提交迁入申请：POST /v1/residents/transfer-requests { idNumber, householdId, reason }，由其现住所在村（社区）综治中心审批。",
} as const;

/**
 * 429 when the caller has already caused `ID_PROBE_LIMIT` refusals of registered ID numbers this hour: past
 * the limit, registering with an ID number answers nothing about whether it is registered. Audited.
 */
export async function assertIdProbeAllowance(env: Env, actor: Actor, scopePath: string): Promise<void> {
  const now = new Date();
  const used = await peekPiiUse(getDb(env), actor.principal.userId, "id_probe", now, PII_LIMIT_WINDOW_MS);
  if (used.n < ID_PROBE_LIMIT) return;
  await denyAudited(
    env,
    actor,
    { action: "resident.register", objectType: "resident", objectId: null, scopePath },
    "id_probe_rate_limited",
  );
  throw limitReached(
    `At most ${ID_PROBE_LIMIT} answers about registered ID numbers an hour`,
    used.windowStart,
    now,
  );
}

/**
 * Records an answer that told the caller something about whether an ID number is registered (a registration
 * refused as a duplicate, a transfer request that matched nobody): a `denied` audit row naming the caller,
 * the unit and the numbers' keyed HMACs (never the numbers), counted against the hourly probe limit. Returns
 * the 429 to throw instead of the answer once past the limit, else null.
 */
export async function recordIdProbe(
  env: Env,
  actor: Actor,
  action: string,
  unit: { id: string; path: string },
  idNumberHmacs: string[],
): Promise<Problem | null> {
  const db = getDb(env);
  const now = new Date();
  const count = await countPiiUse(db, actor.principal.userId, "id_probe", now, PII_LIMIT_WINDOW_MS);
  await writeAudited(
    db,
    [],
    [
      {
        ...auditEntry(actor, action, "unit", unit.id, unit.path, {
          unitId: unit.id,
          idNumberHmacs,
          probesThisHour: count.n,
        }),
        outcome: "denied",
      },
    ],
  );
  if (count.n <= ID_PROBE_LIMIT) return null;
  return limitReached(
    `At most ${ID_PROBE_LIMIT} answers about registered ID numbers an hour`,
    count.windowStart,
    now,
  );
}

/**
 * The problem for a registration refused because ID numbers are registered elsewhere in the city, after
 * recording the probe (`recordIdProbe`): 409 naming the transfer request as the next step, or 429.
 */
export async function refusedAsRegistered(
  env: Env,
  actor: Actor,
  unit: { id: string; path: string },
  idNumberHmacs: string[],
  conflict: Problem,
): Promise<Problem> {
  const limited = await recordIdProbe(env, actor, "resident.id_number_refused", unit, idNumberHmacs);
  return (
    limited ??
    new Problem(409, conflict.slug, conflict.message, {
      errors: conflict.errors,
      extensions: { ...conflict.extensions, nextStep: TRANSFER_NEXT_STEP },
    })
  );
}
