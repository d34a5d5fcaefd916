import { clearLoginFailures, type LoginAttemptKey } from "../db/repos/auth";
import { insertRating } from "../db/repos/household-leads";
import {
  codeSendTimes,
  findPublicReport,
  findResidentAccount,
  findResidentRefreshToken,
  householdMembers,
  householdWithGrid,
  insertAccountIfNew,
  insertCodeWithinLimits,
  insertMemberRating,
  insertPublicReport,
  insertResidentRefreshToken,
  linkAccount,
  liveCode,
  memberPath,
  memberRatingsOf,
  nearestHouseholdGrid,
  type PublicReportRow,
  pairedContacts,
  type ResidentAccountRow,
  ratedContacts,
  reportsOf,
  residentByIdHmac,
  retireCodes,
  revokeResidentFamily,
  spendCode,
  spendResidentRefreshToken,
} from "../db/repos/resident-accounts";
import { loadSlaRulesBook } from "../db/repos/sla-policy";
import { checkEvidence, declaredImageType, MAX_ATTACHMENT_BYTES } from "../domain/case-evidence";
import { ACTIONS, MAX_ATTACHMENTS, SLA_POLICY_NEEDED } from "../domain/case-lifecycle";
import {
  type Actor,
  CASE_STATE_LABELS,
  type CaseRecord,
  type CaseState,
  type Satisfaction,
  type UnitRef,
} from "../domain/case-model";
import { chinaYear } from "../domain/china-time";
import { GRID_PLACEMENT_RADIUS_METRES, type PublicService } from "../domain/open311";
import { refreshVerdict } from "../domain/refresh-rotation";
import {
  CODE_SEND_LIMITS,
  codeSendRefusal,
  normalizeMobile,
  RATEABLE_STATES,
  RESIDENT_CODE_DIGITS,
  RESIDENT_CODE_TTL_SECONDS,
  RESIDENT_REFRESH_TOKEN_TTL_SECONDS,
  RESIDENT_TOKEN_TTL_SECONDS,
  residentWording,
} from "../domain/resident-channel";
import type { SlaRulesBook } from "../domain/sla";
import { averageX100, periodOf, ratingText } from "../domain/subsidy";
import type { UnitLevel } from "../domain/units";
import { deskOfCase } from "../durable/grid-desk/address";
import type { CaseWithTimeline, CommandResult } from "../durable/grid-desk/grid-desk";
import { encryptPii, lookupHmac, maskPhone, piiKeys } from "../platform/crypto/pii";
import { type ResidentPrincipal, signResidentToken } from "../platform/crypto/resident-tokens";
import { newRefreshToken } from "../platform/crypto/tokens";
import { type AuditEntry, GuardFailed, writeAudited } from "../platform/db/audit";
import { getDb } from "../platform/db/client";
import { auditDenial } from "../platform/db/denials";
import { assertInScope } from "../platform/http/auth";
import { decodeCursor, toPage } from "../platform/http/pagination";
import { Problem, problems } from "../platform/http/problem";
import { timedStub } from "../platform/http/timing";
import type { Caller } from "./caller";
import { deskProblem, reportCasesAs, reportProblem, sha256Hex } from "./cases";
import { codeSenderFor } from "./code-sender";
import { claimAttemptOrRefuse } from "./login-throttle";

const badMobile = () =>
  problems.badRequest("The mobile number is not valid", [
    { path: "mobile", message: "an 11-digit mainland mobile number" },
  ]);

const codeRefused = () => new Problem(401, "code-invalid", "The code is wrong, expired or already used");

function residentAudit(
  action: string,
  outcome: AuditEntry["outcome"],
  accountId: string | null,
  requestId: string,
  detail: Record<string, unknown>,
  scopePath = "/",
): AuditEntry {
  return {
    actorId: accountId,
    actorRole: "resident",
    scopePath,
    action,
    objectType: "resident_account",
    objectId: accountId,
    outcome,
    requestId,
    detail,
  };
}

/** A uniformly random code of `RESIDENT_CODE_DIGITS` digits (rejection sampling, no modulo bias). */
function newCode(): string {
  const limit = 10 ** RESIDENT_CODE_DIGITS;
  const ceiling = Math.floor(0x1_0000_0000 / limit) * limit;
  for (;;) {
    const [n] = crypto.getRandomValues(new Uint32Array(1));
    if (n! < ceiling) return String(n! % limit).padStart(RESIDENT_CODE_DIGITS, "0");
  }
}

const codeHash = async (keys: Awaited<ReturnType<typeof piiKeys>>, mobileHmac: string, code: string) =>
  lookupHmac(keys, "resident_code", `${mobileHmac}:${code}`);

/**
 * Sends a sign-in code to a mobile number (sign-up and login are the same step): 6 digits, valid 5 minutes,
 * stored only as a keyed hash, replacing any earlier code of the number. One conditional insert enforces
 * the sending limits (per number: 1 a minute, 5 an hour; per client IP: 20 an hour): 429 with Retry-After.
 */
export async function requestCode(
  env: Cloudflare.Env,
  requestId: string,
  mobileInput: string,
  ip: string,
  now = Date.now(),
): Promise<{ expiresIn: number }> {
  const mobile = normalizeMobile(mobileInput);
  if (!mobile) throw badMobile();
  const sender = codeSenderFor(env);
  const db = getDb(env);
  const keys = await piiKeys(env.PII_KEY);
  const mobileHmac = await lookupHmac(keys, "mobile", mobile);
  const code = newCode();
  const at = new Date(now).toISOString();
  const limits = CODE_SEND_LIMITS.filter((l) => l.bucket === "mobile" || ip !== "unknown").map((l) => ({
    bucket: l.bucket,
    max: l.max,
    since: new Date(now - l.windowSeconds * 1000).toISOString(),
  }));
  const row = {
    id: crypto.randomUUID(),
    mobileHmac,
    codeHash: await codeHash(keys, mobileHmac, code),
    ip,
    createdAt: at,
    expiresAt: new Date(now + RESIDENT_CODE_TTL_SECONDS * 1000).toISOString(),
  };
  const detail = { mobile: maskPhone(mobile) };
  try {
    await writeAudited(
      db,
      [retireCodes(db, mobileHmac, at), insertCodeWithinLimits(row, limits)],
      [residentAudit("resident.code_sent", "success", null, requestId, detail)],
      { mustChange: [1] },
    );
  } catch (error) {
    if (!(error instanceof GuardFailed)) throw error;
    const since = new Date(now - 3600_000).toISOString();
    const times = await codeSendTimes(db, mobileHmac, ip, since);
    const refusal = codeSendRefusal(times.mobile, ip === "unknown" ? [] : times.ip, now);
    await auditDenial(env, {
      actorId: null,
      actorRole: "resident",
      scopePath: "/",
      action: "resident.code_sent",
      objectType: "resident_account",
      objectId: mobileHmac.slice(0, 16),
      reason: "rate_limited",
      requestId,
      detail: { ...detail, by: refusal?.limit.bucket ?? "mobile" },
    });
    throw new Problem(429, "code-throttled", "Too many codes requested; try again later", {
      headers: { "retry-after": String(refusal?.retryAfterSeconds ?? 60) },
    });
  }
  await sender.send(mobile, code);
  return { expiresIn: RESIDENT_CODE_TTL_SECONDS };
}

/** What the resident sees of their own account. */
export function accountView(row: ResidentAccountRow) {
  return {
    id: row.id,
    mobile: row.mobileMasked,
    linked: row.householdId !== null,
    householdId: row.householdId,
    linkedAt: row.linkedAt,
    createdAt: row.createdAt,
  };
}

/**
 * Signs a resident in with their number and a code, creating the account on first use. Each check first
 * claims a login-throttle slot for the number and client IP (5 failures per pair, 30 per IP, 50 per number
 * in 15 minutes: 429). The code is spent in the same batch as the account, the first refresh token of a new
 * family and the audit row, so a replay, even in parallel, gets 401.
 */
export async function signIn(
  env: Cloudflare.Env,
  requestId: string,
  mobileInput: string,
  code: string,
  ip: string,
  now = Date.now(),
) {
  const mobile = normalizeMobile(mobileInput);
  if (!mobile) throw badMobile();
  const db = getDb(env);
  const keys = await piiKeys(env.PII_KEY);
  const mobileHmac = await lookupHmac(keys, "mobile", mobile);
  const key: LoginAttemptKey = { username: `resident:${mobileHmac}`, ip, kind: "password" };
  const claim = await claimAttemptOrRefuse(env, key, null, requestId, now);
  const nowIso = new Date(now).toISOString();
  const live = await liveCode(db, mobileHmac, nowIso);
  const refuse = async (reason: string) => {
    await writeAudited(db, [], [residentAudit("resident.sign_in", "failure", null, requestId, { reason })]);
    return codeRefused();
  };
  if (!live || live.codeHash !== (await codeHash(keys, mobileHmac, code))) {
    throw await refuse(live ? "wrong code" : "no live code");
  }
  const accountId = crypto.randomUUID();
  const existing = await findResidentAccount(db, { mobileHmac });
  const refresh = newRefreshToken();
  const refreshRow = {
    id: crypto.randomUUID(),
    accountId: existing?.id ?? accountId,
    familyId: crypto.randomUUID(),
    tokenHash: await sha256Hex(refresh),
    sessionEpoch: existing?.sessionEpoch ?? 0,
    expiresAt: new Date(now + RESIDENT_REFRESH_TOKEN_TTL_SECONDS * 1000).toISOString(),
    createdAt: nowIso,
  };
  try {
    await writeAudited(
      db,
      [
        spendCode(db, live.id, nowIso),
        insertAccountIfNew(db, {
          id: accountId,
          mobileHmac,
          mobileEnc: await encryptPii(keys, mobile, `resident_accounts:${mobileHmac}`),
          mobileMasked: maskPhone(mobile),
          createdAt: nowIso,
        }),
        clearLoginFailures(db, key, claim),
        // A disabled account gets no session (it is refused below); its code is still spent.
        ...(existing?.disabled ? [] : [insertResidentRefreshToken(db, refreshRow)]),
      ],
      [residentAudit("resident.sign_in", "success", null, requestId, { mobile: maskPhone(mobile) })],
      { mustChange: [0] },
    );
  } catch (error) {
    if (!(error instanceof GuardFailed)) throw error;
    throw await refuse("code already used");
  }
  const account = await findResidentAccount(db, { mobileHmac });
  if (!account || account.disabled) throw codeRefused();
  return {
    accessToken: await signResidentToken(env, account.id, account.sessionEpoch, now),
    tokenType: "Bearer" as const,
    expiresIn: RESIDENT_TOKEN_TTL_SECONDS,
    refreshToken: refresh,
    refreshExpiresIn: RESIDENT_REFRESH_TOKEN_TTL_SECONDS,
    created: account.id === accountId,
    account: accountView(account),
  };
}

/**
 * Exchanges a resident's refresh token for a new access token and the next refresh token of the same family,
 * spending the old one, by the staff tokens' rule (`refreshVerdict`): a spent token presented again is taken
 * as stolen and revokes the family; so does a disabled account or a session epoch raised since the sign-in.
 * The spend, the new token and the audit row commit together, so of two parallel refreshes one gets 401.
 */
export async function refreshResident(
  env: Cloudflare.Env,
  requestId: string,
  refreshToken: string,
  now = Date.now(),
) {
  const db = getDb(env);
  const nowIso = new Date(now).toISOString();
  const stored = await findResidentRefreshToken(db, await sha256Hex(refreshToken));
  const verdict = refreshVerdict(stored, nowIso);
  if (!stored || verdict === "invalid") throw problems.unauthorized("The refresh token is not valid");
  const revoke = async (reason: string) => {
    const detail = { reason, familyId: stored.familyId };
    await writeAudited(
      db,
      [revokeResidentFamily(db, stored.familyId, nowIso)],
      [residentAudit("resident.refresh", "denied", stored.accountId, requestId, detail)],
    );
  };
  if (verdict === "reused") {
    await revoke("refresh token reused");
    throw problems.unauthorized("The refresh token was already used; the session is revoked");
  }
  if (verdict === "expired") throw problems.unauthorized("The refresh token has expired");
  const account = await findResidentAccount(db, { id: stored.accountId });
  if (!account || account.disabled || account.sessionEpoch > stored.sessionEpoch) {
    await revoke(account?.disabled ? "account disabled" : "session revoked");
    throw problems.unauthorized("The session was revoked; sign in again");
  }
  const next = newRefreshToken();
  try {
    await writeAudited(
      db,
      [
        spendResidentRefreshToken(db, stored.id, nowIso),
        insertResidentRefreshToken(db, {
          id: crypto.randomUUID(),
          accountId: account.id,
          familyId: stored.familyId,
          tokenHash: await sha256Hex(next),
          sessionEpoch: stored.sessionEpoch,
          expiresAt: new Date(now + RESIDENT_REFRESH_TOKEN_TTL_SECONDS * 1000).toISOString(),
          createdAt: nowIso,
        }),
      ],
      [residentAudit("resident.refresh", "success", account.id, requestId, { familyId: stored.familyId })],
      { mustChange: [0] },
    );
  } catch (error) {
    if (!(error instanceof GuardFailed)) throw error;
    throw problems.unauthorized("The refresh token was already used");
  }
  return {
    accessToken: await signResidentToken(env, account.id, stored.sessionEpoch, now),
    tokenType: "Bearer" as const,
    expiresIn: RESIDENT_TOKEN_TTL_SECONDS,
    refreshToken: next,
    refreshExpiresIn: RESIDENT_REFRESH_TOKEN_TTL_SECONDS,
    created: false,
    account: accountView(account),
  };
}

/** The caller's account, current: 401 when it is disabled or the token's session epoch was raised. */
export async function currentAccount(env: Cloudflare.Env, resident: ResidentPrincipal) {
  const account = await findResidentAccount(getDb(env), { id: resident.accountId });
  if (!account || account.disabled || account.sessionEpoch > resident.sessionEpoch)
    throw problems.unauthorized("The session was revoked; sign in again");
  return account;
}

/**
 * A grid worker (or a centre) links a resident's account, found by mobile number, to a household in their
 * scope (404 outside it, as for a missing one). Audited.
 */
export async function linkByWorker(
  env: Cloudflare.Env,
  caller: Caller,
  householdId: string,
  mobileInput: string,
) {
  const mobile = normalizeMobile(mobileInput);
  if (!mobile) throw badMobile();
  const db = getDb(env);
  const household = await householdWithGrid(db, householdId);
  assertInScope(caller.principal, household?.unitPath, "household");
  const mobileHmac = await lookupHmac(await piiKeys(env.PII_KEY), "mobile", mobile);
  const account = await findResidentAccount(db, { mobileHmac });
  if (!account) throw problems.notFound("resident account");
  const linkedAt = new Date().toISOString();
  await writeAudited(
    db,
    [
      linkAccount(db, account.id, {
        householdId,
        residentId: null,
        linkedBy: `grid_worker:${caller.principal.userId}`,
        linkedAt,
      }),
    ],
    [
      {
        actorId: caller.principal.userId,
        actorRole: caller.principal.role,
        scopePath: household!.unitPath,
        action: "resident_account.link",
        objectType: "resident_account",
        objectId: account.id,
        outcome: "success",
        requestId: caller.requestId,
        detail: { householdId, by: "grid_worker" },
      },
    ],
  );
  return accountView({ ...account, householdId, residentId: null, linkedAt });
}

/**
 * A resident links their own account by entering their ID number once: its keyed HMAC is matched against the
 * registry's residents. The number is never stored on the account, logged or echoed. Each try claims a
 * throttle slot (5 per account and IP in 15 minutes); a miss is 404 and audited.
 */
export async function linkByIdNumber(
  env: Cloudflare.Env,
  requestId: string,
  resident: ResidentPrincipal,
  idNumber: string,
  ip: string,
) {
  const db = getDb(env);
  const account = await currentAccount(env, resident);
  const key: LoginAttemptKey = { username: `resident-link:${account.id}`, ip, kind: "password" };
  const claim = await claimAttemptOrRefuse(env, key, null, requestId, Date.now());
  const hmac = await lookupHmac(await piiKeys(env.PII_KEY), "id_number", idNumber.trim().toUpperCase());
  const match = await residentByIdHmac(db, hmac);
  if (!match) {
    await writeAudited(
      db,
      [],
      [residentAudit("resident_account.link", "failure", account.id, requestId, { by: "id_number" })],
    );
    throw new Problem(404, "no-match", "No registered household matches; ask your grid worker to link you");
  }
  const linkedAt = new Date().toISOString();
  await writeAudited(
    db,
    [
      linkAccount(db, account.id, {
        householdId: match.householdId,
        residentId: match.id,
        linkedBy: "id_number",
        linkedAt,
      }),
      clearLoginFailures(db, key, claim),
    ],
    [
      residentAudit(
        "resident_account.link",
        "success",
        account.id,
        requestId,
        {
          householdId: match.householdId,
          by: "id_number",
        },
        match.unitPath,
      ),
    ],
  );
  return accountView({ ...account, householdId: match.householdId, residentId: match.id, linkedAt });
}

/**
 * The resident's own household as they may see it: address, grid and members' names and relationships.
 * Never ID numbers, phones, birth dates, tags, class, income or notes. 403 until the account is linked.
 */
export async function ownHousehold(env: Cloudflare.Env, resident: ResidentPrincipal) {
  const account = await currentAccount(env, resident);
  if (!account.householdId)
    throw new Problem(403, "household-not-linked", "Your account is not linked to a household yet");
  const db = getDb(env);
  const [household, members] = await Promise.all([
    householdWithGrid(db, account.householdId),
    householdMembers(db, account.householdId),
  ]);
  if (!household) throw problems.notFound("household");
  return {
    id: household.id,
    address: household.address,
    grid: { id: household.unitId, name: household.unitName },
    members: members.map((m) => ({ name: m.name, relationship: m.relationship })),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Reporting through a public channel (the resident's own app, or an Open311 client), and following it.
// ---------------------------------------------------------------------------------------------------------

/** A matter reported through a public channel. */
export interface PublicMatter {
  id?: string;
  service: PublicService;
  title: string;
  description: string;
  descriptionPublic: boolean;
  location: { lat: number; lng: number; address?: string };
}

/** Who reports through a public channel: a resident account, or a registered Open311 app. */
export interface PublicReporter {
  id: string;
  channel: string;
  householdId: string | null;
}

const outsideArea = () =>
  problems.badRequest("The location is outside the city's registered grids", [
    { path: "location", message: "no registered household within 1 km" },
  ]);

/** The grid a matter goes to: where its location lies (the nearest household's grid), else the reporter's household's. */
async function owningGrid(env: Cloudflare.Env, reporter: PublicReporter, at: { lat: number; lng: number }) {
  const db = getDb(env);
  const near = await nearestHouseholdGrid(db, at, GRID_PLACEMENT_RADIUS_METRES);
  if (near) return { id: near.unitId, path: near.unitPath, level: near.unitLevel as UnitLevel };
  if (reporter.householdId) {
    const household = await householdWithGrid(db, reporter.householdId);
    if (household)
      return { id: household.unitId, path: household.unitPath, level: household.unitLevel as UnitLevel };
  }
  throw outsideArea();
}

/**
 * Reports a public matter into the closed loop through `reportCasesAs` (the one path by which cases come
 * into being), in the grid where it lies, as a `resident` actor; then records it as a public report (its
 * service, Open311 token, location). Idempotent by the client's id: a replay returns the first case.
 */
export async function reportPublicMatter(
  env: Cloudflare.Env,
  requestId: string,
  reporter: PublicReporter,
  matter: PublicMatter,
): Promise<{ record: CaseRecord; report: PublicReportRow; created: boolean }> {
  const grid: UnitRef = await owningGrid(env, reporter, matter.location);
  const actor: Actor = {
    userId: reporter.id,
    role: "resident",
    unitId: grid.id,
    unitPath: grid.path,
    unitLevel: grid.level,
  };
  const id = matter.id ?? crypto.randomUUID();
  const location = { lat: matter.location.lat, lng: matter.location.lng, address: matter.location.address };
  const content = [
    reporter.id,
    grid.id,
    matter.service.code,
    matter.title,
    matter.description,
    matter.descriptionPublic,
    location,
  ];
  const [first] = await reportCasesAs(
    env,
    requestId,
    actor,
    [
      {
        ownerId: grid.id,
        requestHash: await sha256Hex(JSON.stringify(content)),
        input: {
          id,
          type: matter.service.caseType,
          severity: "normal",
          title: matter.title,
          description: matter.description,
          location,
          householdIds: [],
          residentIds: [],
          mediation: null,
        },
      },
    ],
    new Map([[grid.id, grid]]),
  );
  const outcome = first!;
  if (!outcome.ok) throw reportProblem(outcome);
  const record = outcome.record;
  const db = getDb(env);
  const row: PublicReportRow = {
    caseId: record.id,
    token: newRefreshToken().slice(0, 22),
    channel: reporter.channel,
    reporterId: reporter.id,
    serviceCode: matter.service.code,
    title: matter.title,
    owningUnitId: grid.id,
    descriptionPublic: matter.descriptionPublic,
    publicDescription: matter.descriptionPublic ? matter.description : null,
    lat: location.lat,
    lng: location.lng,
    address: location.address ?? null,
    createdAt: record.createdAt,
  };
  await writeAudited(
    db,
    [insertPublicReport(db, row)],
    [
      {
        actorId: reporter.id,
        actorRole: "resident",
        scopePath: grid.path,
        action: "public_report.create",
        objectType: "case",
        objectId: record.id,
        outcome: "success",
        requestId,
        detail: { channel: reporter.channel, serviceCode: matter.service.code, outcome: outcome.outcome },
      },
    ],
  );
  const report = (await findPublicReport(db, { caseId: record.id })) ?? row;
  return { record, report, created: outcome.outcome === "created" };
}

/** Reads a case from its desk; 503 when the desk cannot be reached, null when it holds no such case. */
export async function caseFromDesk(env: Cloudflare.Env, caseId: string): Promise<CaseWithTimeline | null> {
  const desk = deskOfCase(env, caseId);
  if (!desk) return null;
  try {
    return (await timedStub(desk).getCase(caseId)) as CaseWithTimeline | null;
  } catch (error) {
    console.error(JSON.stringify({ kind: "grid-desk-error", error: String(error) }));
    throw new Problem(503, "grid-desk-unavailable", "The case desk is unavailable; try again shortly", {
      headers: { "retry-after": "1" },
    });
  }
}

/** A case as the resident who reported it sees it: progress in plain words, no notes, no staff. */
export function residentCaseView(found: CaseWithTimeline, serviceCode: string | null) {
  const c = found.record;
  const ownRating = c.returnVisit && c.returnVisit.by === c.reporter.userId ? c.returnVisit : null;
  return {
    id: c.id,
    serviceCode,
    title: c.title,
    description: c.description,
    state: c.state,
    stateLabel: CASE_STATE_LABELS[c.state],
    version: c.version,
    location: c.location,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
    canRate: RATEABLE_STATES.includes(c.state),
    rating: ownRating
      ? { satisfaction: ownRating.satisfaction, comment: ownRating.note, at: ownRating.at }
      : null,
    timeline: found.events.flatMap((e) => {
      const text = residentWording(e.type);
      return text ? [{ at: e.at, step: e.type, text }] : [];
    }),
  };
}

/** The resident's own report: 404 for a case they did not report (audited), exactly as for a missing one. */
export async function ownReport(
  env: Cloudflare.Env,
  requestId: string,
  resident: ResidentPrincipal,
  caseId: string,
) {
  await currentAccount(env, resident);
  const found = await caseFromDesk(env, caseId);
  if (
    !found ||
    found.record.reporter.userId !== resident.accountId ||
    found.record.reporter.role !== "resident"
  ) {
    await auditDenial(env, {
      actorId: resident.accountId,
      actorRole: "resident",
      scopePath: found?.record.owningUnit.path ?? "/",
      action: "case.read",
      objectType: "case",
      objectId: caseId,
      reason: found ? "not_reporter" : "not_found",
      requestId,
    });
    throw problems.notFound("report");
  }
  const report = await findPublicReport(getDb(env), { caseId });
  return residentCaseView(found, report?.serviceCode ?? null);
}

/** The resident's own reports, newest first, with their state as the projection has it. */
export async function ownReports(
  env: Cloudflare.Env,
  resident: ResidentPrincipal,
  limit: number,
  cursor?: string,
) {
  await currentAccount(env, resident);
  const after = decodeCursor(cursor, 2, ["string", "string"]) as [string, string] | null;
  const rows = await reportsOf(getDb(env), resident.accountId, limit, after);
  return toPage(
    rows,
    limit,
    (r) => {
      const state = (r.state ?? "reported") as CaseState;
      return {
        id: r.report.caseId,
        serviceCode: r.report.serviceCode,
        title: r.report.title,
        state,
        stateLabel: CASE_STATE_LABELS[state],
        createdAt: r.report.createdAt,
      };
    },
    (r) => [r.report.createdAt, r.report.caseId],
  );
}

/**
 * The reporting resident rates the outcome on the return visit (回访): the case loop's `return_visit`
 * command, run by the case's desk with the resident as actor at `expectedVersion` (If-Match). A dissatisfied
 * rating reopens the case, as the lifecycle defines; 409 when the case is not awaiting a rating.
 */
export async function rateReport(
  env: Cloudflare.Env,
  requestId: string,
  resident: ResidentPrincipal,
  caseId: string,
  expectedVersion: number,
  rating: { satisfaction: Satisfaction; comment: string | null },
) {
  await ownReport(env, requestId, resident, caseId);
  const found = (await caseFromDesk(env, caseId))!;
  const c = found.record;
  const actor: Actor = {
    userId: resident.accountId,
    role: "resident",
    unitId: c.owningUnit.id,
    unitPath: c.owningUnit.path,
    unitLevel: c.owningUnit.level,
  };
  const command = {
    action: "return_visit" as const,
    satisfaction: rating.satisfaction,
    note: rating.comment,
  };
  let book: SlaRulesBook = { unitIds: [], rules: {} };
  let result: CommandResult;
  for (let attempt = 0; ; attempt++) {
    const sla = book;
    try {
      result = (await timedStub(deskOfCase(env, caseId)!).command(
        caseId,
        command,
        actor,
        expectedVersion,
        sla,
      )) as CommandResult;
    } catch (error) {
      console.error(JSON.stringify({ requestId, kind: "grid-desk-error", error: String(error) }));
      throw new Problem(503, "grid-desk-unavailable", "The case desk is unavailable; try again shortly", {
        headers: { "retry-after": "1" },
      });
    }
    if (result.ok || result.code !== SLA_POLICY_NEEDED || !result.policyPath || attempt > 0) break;
    book = await loadSlaRulesBook(getDb(env), [result.policyPath]);
  }
  if (!result.ok) throw deskProblem(result);
  return ownReport(env, requestId, resident, caseId);
}

// ---------------------------------------------------------------------------------------------------------
// Residents' say in the three lines (群众评议): rating the household lead and party members paired with their
// household, once per period, anonymously, read only in aggregate.
// ---------------------------------------------------------------------------------------------------------

/** Below this many ratings no average is shown, so that one rating cannot be traced to its resident. */
export const MIN_RATINGS_SHOWN = 3;

const linkedAccount = async (env: Cloudflare.Env, resident: ResidentPrincipal) => {
  const account = await currentAccount(env, resident);
  if (!account.householdId)
    throw new Problem(403, "household-not-linked", "Your account is not linked to a household yet");
  return account as ResidentAccountRow & { householdId: string };
};

/** Who rates: the resident record when the account was matched to one, else the account itself. */
const raterKeyOf = (account: ResidentAccountRow) => account.residentId ?? `account:${account.id}`;

/** The periods a rating counts in: household leads by month (their subsidy), party members by year (their review). */
function periodsAt(now: number) {
  return { month: periodOf(new Date(now).toISOString()), year: chinaYear(now) };
}

/** The household lead and party members paired with the resident's household, and whether each was rated this period. */
export async function contactsToRate(env: Cloudflare.Env, resident: ResidentPrincipal, now = Date.now()) {
  const account = await linkedAccount(env, resident);
  const db = getDb(env);
  const { month, year } = periodsAt(now);
  const [contacts, rated] = await Promise.all([
    pairedContacts(db, account.householdId),
    ratedContacts(db, raterKeyOf(account), month, year),
  ]);
  return {
    items: contacts.map((c) => ({
      contactId: c.contactId,
      line: c.line as "household_lead" | "party_member",
      name: c.name,
      period: c.line === "household_lead" ? month : String(year),
      rated: rated.has(c.contactId),
    })),
  };
}

/**
 * Rates a household lead (the month's 群众评议, which the lead's subsidy statement and flagging already use)
 * or a party member (the year's, for the annual review) paired with the resident's household: 404 for a
 * contact not paired with it, 409 for a second rating in the period. The rated person sees only aggregates.
 */
export async function rateContact(
  env: Cloudflare.Env,
  requestId: string,
  resident: ResidentPrincipal,
  contactId: string,
  rating: number,
  now = Date.now(),
) {
  const account = await linkedAccount(env, resident);
  const db = getDb(env);
  const contact = (await pairedContacts(db, account.householdId)).find((c) => c.contactId === contactId);
  if (!contact) throw problems.notFound("contact");
  const { month, year } = periodsAt(now);
  const at = new Date(now).toISOString();
  const raterKey = raterKeyOf(account);
  const lead = contact.line === "household_lead";
  const insert = lead
    ? insertRating(db, {
        id: crypto.randomUUID(),
        leadId: contactId,
        residentId: raterKey,
        period: month,
        rating,
        unitPath: contact.unitPath,
        recordedBy: account.id,
        createdAt: at,
      })
    : insertMemberRating(db, {
        id: crypto.randomUUID(),
        memberId: contactId,
        raterKey,
        year,
        rating,
        unitPath: contact.unitPath,
        createdAt: at,
      });
  const period = lead ? month : String(year);
  try {
    await writeAudited(
      db,
      [insert],
      [
        {
          actorId: account.id,
          actorRole: "resident",
          scopePath: contact.unitPath,
          action: lead ? "lead.rating" : "party.rating",
          objectType: "user",
          objectId: contactId,
          outcome: "success",
          requestId,
          detail: { period, channel: "resident" },
        },
      ],
      { mustChange: [0] },
    );
  } catch (error) {
    if (!(error instanceof GuardFailed)) throw error;
    throw problems.conflict("already-rated", `You already rated this contact for ${period}`);
  }
  return { contactId, line: contact.line as "household_lead" | "party_member", period, rating };
}

/**
 * Residents' ratings of a party member in a year, in aggregate, for the branch's annual review (评议): the
 * count, and the average only from `MIN_RATINGS_SHOWN` ratings on. 404 outside the caller's scope.
 */
export async function memberRatingSummary(
  env: Cloudflare.Env,
  caller: Caller,
  memberId: string,
  year: number,
) {
  const db = getDb(env);
  const member = await memberPath(db, memberId);
  assertInScope(caller.principal, member?.unitPath, "party member");
  const ratings = await memberRatingsOf(db, memberId, year);
  const average = ratings.length >= MIN_RATINGS_SHOWN ? averageX100(ratings) : null;
  return { memberId, year, count: ratings.length, averageX100: average, average: ratingText(average) };
}

/**
 * Adds a photo to the resident's own report (while the case takes evidence): the image is checked (415, 413
 * over the limit), stored in the evidence bucket, then recorded on the case by its desk as the lifecycle's
 * `attach`, with the reporting resident as actor; if the desk refuses, the stored object is removed again.
 */
export async function addOwnPhoto(
  env: Cloudflare.Env,
  requestId: string,
  resident: ResidentPrincipal,
  caseId: string,
  contentTypeHeader: string | undefined,
  bytes: Uint8Array,
) {
  const declared = declaredImageType(contentTypeHeader);
  const bad = checkEvidence(declared, bytes);
  if (bad) {
    if (bytes.length > MAX_ATTACHMENT_BYTES) throw new Problem(413, "body-too-large", bad);
    throw new Problem(415, "unsupported-media-type", bad);
  }
  await ownReport(env, requestId, resident, caseId);
  const record = (await caseFromDesk(env, caseId))!.record;
  if (!ACTIONS.attach.from.includes(record.state))
    throw problems.conflict("illegal-transition", `A case in state ${record.state} takes no more photos`);
  if (record.attachments.length >= MAX_ATTACHMENTS)
    throw problems.conflict("too-many-attachments", `A case holds at most ${MAX_ATTACHMENTS} attachments`);
  const actor: Actor = {
    userId: resident.accountId,
    role: "resident",
    unitId: record.owningUnit.id,
    unitPath: record.owningUnit.path,
    unitLevel: record.owningUnit.level,
  };
  const id = crypto.randomUUID();
  const key = `evidence/${id}`;
  const unavailable = (error: unknown) => {
    console.error(JSON.stringify({ requestId, kind: "evidence-error", error: String(error) }));
    return new Problem(503, "grid-desk-unavailable", "The photo could not be stored; try again shortly", {
      headers: { "retry-after": "1" },
    });
  };
  try {
    await env.EVIDENCE.put(key, bytes, {
      httpMetadata: { contentType: declared },
      customMetadata: { caseId, owningUnitId: record.owningUnit.id, uploadedBy: resident.accountId },
    });
  } catch (error) {
    throw unavailable(error);
  }
  const forget = () => env.EVIDENCE.delete(key).catch(() => undefined);
  let result: CommandResult;
  try {
    result = (await timedStub(deskOfCase(env, caseId)!).command(
      caseId,
      { action: "attach", attachment: { id, contentType: declared, size: bytes.length } },
      actor,
      null,
    )) as CommandResult;
  } catch (error) {
    await forget();
    throw unavailable(error);
  }
  if (!result.ok) {
    await forget();
    throw deskProblem(result);
  }
  return { id, caseId, caseVersion: result.record.version, contentType: declared, size: bytes.length };
}
