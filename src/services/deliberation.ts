import type { InStatement } from "@libsql/client/web";
import { unitRefs } from "../db/repos/cases";
import * as repo from "../db/repos/deliberation";
import * as attachmentsRepo from "../db/repos/deliberation-attachments";
import { insertInboxItemStatement } from "../db/repos/inbox";
import { householdWithGrid } from "../db/repos/resident-accounts";
import { unitPlace } from "../db/repos/unit-lookup";
import type { EvidenceType } from "../domain/case-evidence";
import type { NewCase } from "../domain/case-model";
import { chinaDate } from "../domain/china-time";
import {
  caseTurnsHistory,
  checkRollCall,
  checkStep,
  checkVote,
  DEFAULT_POWER_LIST,
  DEFAULT_RULES,
  daysBetween,
  decideVote,
  type Eligible,
  effectivePowerList,
  type ItemState,
  isAdultOn,
  listedKind,
  type MatterHistoryEntry,
  type MatterOutcome,
  type MeetingKind,
  type MemberKind,
  matterStatus,
  median,
  missingForDecision,
  noticeEndsOn,
  onTimeRate,
  type PowerKind,
  type ProcedureRules,
  procedureOf,
  type RollCallVote,
  type RuleBreach,
  type SessionKind,
  STEPS,
  type Step,
  type Votes,
} from "../domain/deliberation";
import { escalationTarget } from "../domain/escalation";
import { taskDeadlines, taskNoticeKey, taskStepsDue } from "../domain/task-deadlines";
import { inScope, pathIds } from "../domain/units";
import type { Principal } from "../env";
import { openBirthDate, piiKeys } from "../platform/crypto/pii";
import type { ResidentPrincipal } from "../platform/crypto/resident-tokens";
import { GuardFailed, writeAudited } from "../platform/db/audit";
import { getDb } from "../platform/db/client";
import { decodeCursor, toPage } from "../platform/http/pagination";
import { Problem, problems } from "../platform/http/problem";
import { auditBy, type Caller, unitInScope } from "./caller";
import { reportCases, reportProblem, sha256Hex } from "./cases";
import { currentAccount } from "./resident-accounts";

/** A rule the request broke: 409 for the state of things, 400 for the input itself. */
function breach(status: 400 | 409, b: RuleBreach): Problem {
  return new Problem(status, b.slug, b.message, { errors: [{ path: b.path, message: b.message }] });
}

/** Whether two units are on one branch of the tree: one is the other or above it. */
function related(a: string, b: string): boolean {
  return inScope(a, b) || inScope(b, a);
}

/** Whether `path` is on the caller's branch of the tree: in their subtree, or one of their ancestors. */
function onBranch(p: Principal, path: string): boolean {
  return related(p.unitPath, path);
}

/** 400 unless every user exists and belongs to a unit on the branch of `path` (above it or below it). */
async function assertUsersOnBranch(env: Cloudflare.Env, ids: readonly string[], path: string, field: string) {
  const paths = await repo.userPaths(env, ids);
  const errors = ids.flatMap((id, i) => {
    const at = paths.get(id);
    return at && related(at, path)
      ? []
      : [
          {
            path: field.endsWith("Ids") ? `${field}.${i}` : field,
            message: "not a user of this village's branch",
          },
        ];
  });
  if (errors.length)
    throw problems.badRequest("Users named here belong to the village's branch of the tree", errors);
}

/** A village in the caller's subtree (404 outside it, 400 for another level). */
async function villageInScope(env: Cloudflare.Env, p: Principal, unitId: string, field = "unitId") {
  const unit = await unitInScope(env, p, unitId);
  if (unit.level !== "village")
    throw problems.badRequest("Deliberation is kept per village", [
      { path: field, message: `a ${unit.level}` },
    ]);
  return unit;
}

/** A village on the caller's branch, for reading (404 otherwise). */
async function villageOnBranch(env: Cloudflare.Env, p: Principal, unitId: string) {
  const unit = await unitPlace(env, unitId);
  if (!unit || !onBranch(p, unit.path)) throw problems.notFound("unit");
  if (unit.level !== "village")
    throw problems.badRequest("Deliberation is kept per village", [
      { path: "id", message: `a ${unit.level}` },
    ]);
  return unit;
}

/** Runs an audited write whose guarded statements must change a row; a lost race is a 409. */
async function guardedWrite(
  env: Cloudflare.Env,
  ...args: Parameters<typeof writeAudited> extends [unknown, ...infer R] ? R : never
) {
  try {
    return await writeAudited(getDb(env), ...args);
  } catch (error) {
    if (error instanceof GuardFailed)
      throw problems.conflict("concurrent-change", "Someone changed this at the same time; read it again");
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Registry: representatives and Party members, eligible numbers, the micro-power list
// ---------------------------------------------------------------------------------------------------------

/** A member as the API shows it. */
function memberView(m: repo.MemberRow) {
  return {
    id: m.id,
    unitId: m.unitId,
    kind: m.kind,
    name: m.name,
    userId: m.userId,
    residentId: m.residentId,
    termStart: m.termStart,
    termEnd: m.termEnd,
  };
}

/** Registers a representative or Party member of a village with their term; audited. */
export async function registerMember(
  env: Cloudflare.Env,
  caller: Caller,
  unitId: string,
  body: {
    kind: MemberKind;
    name: string;
    residentId?: string;
    userId?: string;
    termStart: string;
    termEnd?: string;
  },
) {
  const village = await villageInScope(env, caller.principal, unitId, "id");
  if (body.termEnd !== undefined && body.termEnd < body.termStart)
    throw problems.badRequest("A term ends after it starts", [
      { path: "termEnd", message: "before termStart" },
    ]);
  if (body.userId) await assertUsersOnBranch(env, [body.userId], village.path, "userId");
  if (body.residentId && !(await repo.residentIn(env, body.residentId, village.path)))
    throw problems.badRequest("The member is a resident of the village", [
      { path: "residentId", message: "no such resident in the village" },
    ]);
  const row: repo.MemberRow = {
    id: crypto.randomUUID(),
    unitId: village.id,
    unitPath: village.path,
    kind: body.kind,
    name: body.name,
    userId: body.userId ?? null,
    residentId: body.residentId ?? null,
    termStart: body.termStart,
    termEnd: body.termEnd ?? null,
    createdBy: caller.principal.userId,
    createdAt: new Date().toISOString(),
  };
  await writeAudited(
    getDb(env),
    [repo.insertMember(env, row)],
    [
      auditBy(
        caller,
        "deliberation.member",
        { type: "deliberation_member", id: row.id, scopePath: village.path },
        {
          kind: row.kind,
          termStart: row.termStart,
          termEnd: row.termEnd,
        },
      ),
    ],
  );
  return memberView(row);
}

/** The members of a village, optionally of one kind and serving on a China date. */
export async function membersOf(
  env: Cloudflare.Env,
  caller: Caller,
  unitId: string,
  q: { kind?: MemberKind; on?: string },
) {
  const village = await villageOnBranch(env, caller.principal, unitId);
  return (await repo.membersOf(env, village.id, q.kind, q.on)).map(memberView);
}

/**
 * The eligible numbers of a village on a China date, from the registry: residents aged 18 and over and
 * households registered by that day's end, representatives and Party members whose term covers it. Birth
 * dates are sealed: only residents born in the year that turns 18 then are opened, to count them, and
 * nothing of them leaves this function.
 */
export async function eligibleOn(
  env: Cloudflare.Env,
  village: { id: string; path: string },
  date: string,
): Promise<Eligible> {
  const r = await repo.registryOn(env, village, date);
  let adults = r.adultsByYear;
  if (r.boundary.length) {
    const keys = await piiKeys(env.PII_KEY);
    for (const resident of r.boundary) {
      const birth = resident.birthDateEnc
        ? await openBirthDate(keys, "resident", resident.id, resident.birthDateEnc)
        : resident.birthDate;
      // A birth date stored as a year only (YYYY-**-**) counts from the year's end: never too early.
      if (/^\d{4}-\d{2}-\d{2}$/.test(birth) ? isAdultOn(birth, date) : false) adults++;
    }
  }
  return {
    adults,
    households: r.households,
    representatives: r.representatives,
    partyMembers: r.partyMembers,
  };
}

/** GET the eligible numbers of a village the caller may read. */
export async function eligibleOf(env: Cloudflare.Env, caller: Caller, unitId: string, date: string) {
  const village = await villageOnBranch(env, caller.principal, unitId);
  return { unitId: village.id, on: date, ...(await eligibleOn(env, village, date)) };
}

/** The micro-power list and rules of procedure in force at a unit, and the unit's own list. */
async function rulesAt(env: Cloudflare.Env, unit: { id: string; path: string }) {
  const ids = pathIds(unit.path);
  const rows = new Map((await repo.rulesOf(env, ids)).map((r) => [r.unitId, r]));
  const topDown = ids.map((id) => rows.get(id)).filter((r): r is repo.RulesRow => !!r);
  const list = effectivePowerList(
    DEFAULT_POWER_LIST,
    topDown.map((r) => JSON.parse(r.powerList) as PowerKind[]),
  );
  // Rules of procedure: the nearest unit that sets them (a village's own 议事规则), else the law's defaults.
  const own = [...topDown].reverse().find((r) => r.procedure);
  const procedure: ProcedureRules = own ? { ...DEFAULT_RULES, ...JSON.parse(own.procedure!) } : DEFAULT_RULES;
  const mine = rows.get(unit.id);
  return {
    list,
    procedure,
    ownList: mine ? (JSON.parse(mine.powerList) as PowerKind[]) : [],
    ownProcedure: mine?.procedure ? (JSON.parse(mine.procedure) as Partial<ProcedureRules>) : null,
  };
}

/** The micro-power list in force at a unit the caller may read. */
export async function powerListOf(env: Cloudflare.Env, caller: Caller, unitId: string) {
  const unit = await unitPlace(env, unitId);
  if (!unit || !onBranch(caller.principal, unit.path)) throw problems.notFound("unit");
  return { unitId: unit.id, ...(await rulesAt(env, unit)) };
}

/** Sets a unit's own micro-power list and rules of procedure (tightening those above it); audited. */
export async function setPowerList(
  env: Cloudflare.Env,
  caller: Caller,
  unitId: string,
  body: { kinds: PowerKind[]; procedure?: Partial<ProcedureRules> },
) {
  const unit = await unitInScope(env, caller.principal, unitId);
  const kinds = new Set<string>();
  body.kinds.forEach((k, i) => {
    if (kinds.has(k.kind))
      throw problems.badRequest("Each kind once", [{ path: `kinds.${i}.kind`, message: "listed twice" }]);
    kinds.add(k.kind);
  });
  await writeAudited(
    getDb(env),
    [
      repo.upsertRules(env, {
        unitId: unit.id,
        unitPath: unit.path,
        powerList: JSON.stringify(body.kinds),
        procedure: body.procedure ? JSON.stringify(body.procedure) : null,
        updatedBy: caller.principal.userId,
        updatedAt: new Date().toISOString(),
      }),
    ],
    [auditBy(caller, "deliberation.power-list", { type: "unit", id: unit.id, scopePath: unit.path }, body)],
  );
  return { unitId: unit.id, ...(await rulesAt(env, unit)) };
}

// ---------------------------------------------------------------------------------------------------------
// Sessions and matters
// ---------------------------------------------------------------------------------------------------------

/** An attachment as the API shows it. */
export function attachmentView(a: attachmentsRepo.SessionAttachmentRow) {
  return {
    id: a.id,
    sessionId: a.sessionId,
    kind: a.kind,
    // Only checked image types are stored.
    contentType: a.contentType as EvidenceType,
    size: a.size,
    uploadedBy: a.uploadedBy,
    uploadedAt: a.uploadedAt,
    url: `/v1/deliberation/attachments/${a.id}`,
  };
}

/** A session as the API shows it. */
export function sessionView(s: repo.SessionRow) {
  return {
    id: s.id,
    unitId: s.unitId,
    kind: s.kind,
    title: s.title,
    heldAt: s.heldAt,
    place: s.place,
    hostId: s.hostId,
    topics: JSON.parse(s.topics) as string[],
    attendeeUserIds: JSON.parse(s.attendeeUserIds) as string[],
    attendeeHouseholdIds: JSON.parse(s.attendeeHouseholdIds) as string[],
    unregisteredCount: s.unregisteredCount,
    minutes: s.minutes,
    createdAt: s.createdAt,
  };
}

/** The body of a new session. */
export interface SessionBody {
  kind: SessionKind;
  title: string;
  heldAt: string;
  place: string;
  hostId?: string;
  topics?: string[];
  attendeeUserIds?: string[];
  attendeeHouseholdIds?: string[];
  unregisteredCount?: number;
  minutes?: string;
}

/** Records a session of a village or a grid in the caller's subtree; audited. */
export async function createSession(env: Cloudflare.Env, caller: Caller, unitId: string, body: SessionBody) {
  const unit = await unitInScope(env, caller.principal, unitId);
  if (unit.level !== "village" && unit.level !== "grid")
    throw problems.badRequest("A session is held by a village or a grid", [
      { path: "id", message: `a ${unit.level}` },
    ]);
  const householdIds = [...new Set(body.attendeeHouseholdIds ?? [])];
  const known = await repo.householdsIn(env, householdIds, unit.path);
  const errors = householdIds.flatMap((h, i) =>
    known.has(h) ? [] : [{ path: `attendeeHouseholdIds.${i}`, message: "not a household of this unit" }],
  );
  if (errors.length) throw problems.badRequest("Attending households are the unit's own", errors);
  const attendees = [...new Set(body.attendeeUserIds ?? [])];
  await assertUsersOnBranch(env, attendees, unit.path, "attendeeUserIds");
  if (body.hostId) await assertUsersOnBranch(env, [body.hostId], unit.path, "hostId");
  const row: repo.SessionRow = {
    id: crypto.randomUUID(),
    unitId: unit.id,
    unitPath: unit.path,
    kind: body.kind,
    title: body.title,
    heldAt: new Date(body.heldAt).toISOString(),
    place: body.place,
    hostId: body.hostId ?? caller.principal.userId,
    topics: JSON.stringify(body.topics ?? []),
    attendeeUserIds: JSON.stringify(attendees),
    attendeeHouseholdIds: JSON.stringify(householdIds),
    unregisteredCount: body.unregisteredCount ?? 0,
    minutes: body.minutes ?? null,
    createdBy: caller.principal.userId,
    createdAt: new Date().toISOString(),
  };
  await writeAudited(
    getDb(env),
    [repo.insertSession(env, row)],
    [
      auditBy(
        caller,
        "deliberation.session",
        { type: "deliberation_session", id: row.id, scopePath: unit.path },
        {
          kind: row.kind,
          heldAt: row.heldAt,
        },
      ),
    ],
  );
  return sessionView(row);
}

/** A session on the caller's branch, or 404. */
export async function sessionFor(env: Cloudflare.Env, p: Principal, id: string) {
  const s = await repo.sessionById(env, id);
  if (!s || !onBranch(p, s.unitPath)) throw problems.notFound("session");
  return s;
}

/** A session with its matters. */
export async function getSession(env: Cloudflare.Env, caller: Caller, id: string) {
  const s = await sessionFor(env, caller.principal, id);
  const matters = await withCaseStates(env, await repo.mattersOfSession(env, s.id));
  const attachments = await attachmentsRepo.attachmentsOfSession(env, s.id);
  return {
    ...sessionView(s),
    matters: matters.map(({ caseClosedAt: _, ...m }) => m),
    attachments: attachments.map(attachmentView),
  };
}

/** A matter as the API shows it, its status from its case's state in the projection or its item's state. */
function matterView(m: repo.MatterRow, caseState: string | null, itemState: string | null) {
  return {
    id: m.id,
    unitId: m.unitId,
    sessionId: m.sessionId,
    summary: m.summary,
    raisedByName: m.raisedByName,
    raisedByUserId: m.raisedByAccountId ? null : m.raisedByUserId,
    raisedByResident: m.raisedByAccountId !== null,
    householdId: m.householdId,
    raisedAt: m.raisedAt,
    outcome: m.outcome,
    outcomeBy: m.outcomeBy,
    outcomeAt: m.outcomeAt,
    answer: m.answer,
    caseId: m.caseId,
    caseState,
    itemId: m.itemId,
    status: matterStatus(m.outcome, caseState, itemState),
  };
}

/** Matters as the API shows them, with their cases' states from the projection and their items' states. */
async function withCaseStates(env: Cloudflare.Env, matters: repo.MatterRow[]) {
  const [states, items] = await Promise.all([
    repo.caseStates(
      env,
      matters.flatMap((m) => (m.caseId ? [m.caseId] : [])),
    ),
    repo.itemStates(
      env,
      matters.flatMap((m) => (m.itemId ? [m.itemId] : [])),
    ),
  ]);
  return matters.map((m) => {
    const found = m.caseId ? states.get(m.caseId) : undefined;
    return {
      ...matterView(m, found?.state ?? null, m.itemId ? (items.get(m.itemId) ?? null) : null),
      caseClosedAt: found?.closedAt ?? null,
    };
  });
}

/** A new matter: in a session, or on a resident's behalf in a village or grid. */
export interface MatterBody {
  sessionId?: string;
  unitId?: string;
  summary: string;
  raisedByName?: string;
  householdId?: string;
}

/** A matter as raised: not yet triaged, so no outcome, answer, case or agenda item. */
const UNTRIAGED = {
  outcome: null,
  outcomeBy: null,
  outcomeAt: null,
  answer: null,
  caseId: null,
  caseOwnerId: null,
  itemId: null,
} as const;

/** Raises a matter (说事); audited. In a session of the caller's branch, or in a unit of it. */
export async function raiseMatter(env: Cloudflare.Env, caller: Caller, body: MatterBody) {
  const p = caller.principal;
  let unit: { id: string; path: string };
  if (body.sessionId) {
    const s = await sessionFor(env, p, body.sessionId);
    unit = { id: s.unitId, path: s.unitPath };
  } else if (body.unitId) {
    const u = await unitPlace(env, body.unitId);
    if (!u || !onBranch(p, u.path)) throw problems.notFound("unit");
    if (u.level !== "village" && u.level !== "grid")
      throw problems.badRequest("A matter is raised in a village or a grid", [
        { path: "unitId", message: `a ${u.level}` },
      ]);
    unit = u;
  } else {
    throw problems.badRequest("Name the session or the unit", [
      { path: "sessionId", message: "sessionId or unitId" },
    ]);
  }
  if (body.householdId && !(await repo.householdsIn(env, [body.householdId], unit.path)).size)
    throw problems.badRequest("The household lives in the unit", [
      { path: "householdId", message: "not in the unit" },
    ]);
  const row: repo.MatterRow = {
    id: crypto.randomUUID(),
    unitId: unit.id,
    unitPath: unit.path,
    sessionId: body.sessionId ?? null,
    summary: body.summary,
    raisedByName: body.raisedByName ?? null,
    raisedByUserId: p.userId,
    householdId: body.householdId ?? null,
    raisedAt: new Date().toISOString(),
    ...UNTRIAGED,
    raisedByAccountId: null,
  };
  await writeAudited(
    getDb(env),
    [repo.insertMatter(env, row)],
    [
      auditBy(
        caller,
        "deliberation.matter",
        { type: "deliberation_matter", id: row.id, scopePath: unit.path },
        {
          sessionId: row.sessionId,
          householdId: row.householdId,
        },
      ),
    ],
  );
  return matterView(row, null, null);
}

/** A matter its raiser or someone on its unit's branch may read, or 404. */
async function matterFor(env: Cloudflare.Env, p: Principal, id: string) {
  const m = await repo.matterById(env, id);
  if (!m || !(m.raisedByUserId === p.userId || onBranch(p, m.unitPath))) throw problems.notFound("matter");
  return m;
}

/** A matter with its history: raised, triaged, and what became of its case or item. */
export async function getMatter(env: Cloudflare.Env, caller: Caller, id: string) {
  return matterWithHistory(env, await matterFor(env, caller.principal, id));
}

/**
 * A matter, its status and its history: raised, triaged, then its item's steps or its case's closings and
 * reopenings (from the case's projected events), so a matter closes with its case and reopens with it.
 */
async function matterWithHistory(env: Cloudflare.Env, m: repo.MatterRow) {
  const [[view], item, turns] = await Promise.all([
    withCaseStates(env, [m]),
    m.itemId ? repo.itemById(env, m.itemId) : null,
    m.caseId ? repo.caseTurns(env, m.caseId) : [],
  ]);
  const history: MatterHistoryEntry[] = [{ at: m.raisedAt, event: "raised", detail: null }];
  if (m.outcome && m.outcomeAt) history.push({ at: m.outcomeAt, event: m.outcome, detail: m.answer });
  if (item) {
    for (const [on, event] of [
      [item.resolvedOn, "resolved"],
      [item.decidedOn, "decided"],
      [item.resultOn, "result_published"],
    ] as const)
      if (on) history.push({ at: on, event, detail: null });
  }
  history.push(
    ...caseTurnsHistory(
      turns.map((e) => ({ ...e, payload: JSON.parse(e.payload) as Record<string, unknown> })),
    ),
  );
  const { caseClosedAt: _, ...matter } = view!;
  return { ...matter, itemState: item?.state ?? null, history };
}

/** A matter as the resident who raised it reads it: what became of it, and no staff or other person. */
function residentMatterView(m: Awaited<ReturnType<typeof matterWithHistory>>) {
  return {
    id: m.id,
    unitId: m.unitId,
    summary: m.summary,
    raisedAt: m.raisedAt,
    status: m.status,
    outcome: m.outcome,
    answer: m.answer,
    caseState: m.caseState,
    itemState: m.itemState,
    history: m.history,
  };
}

/**
 * A resident raises a matter (说事) to the village of their linked household through their own channel, by the
 * rules of every matter (one triage outcome, its whole history to its raiser); audited with the resident as
 * actor. 403 `household-not-linked` until the account is linked.
 */
export async function raiseResidentMatter(
  env: Cloudflare.Env,
  requestId: string,
  resident: ResidentPrincipal,
  summary: string,
) {
  const account = await currentAccount(env, resident);
  if (!account.householdId)
    throw new Problem(403, "household-not-linked", "Your account is not linked to a household yet");
  const household = await householdWithGrid(getDb(env), account.householdId);
  if (!household) throw problems.notFound("household");
  const village = await villageOf(env, household.unitPath);
  const row: repo.MatterRow = {
    id: crypto.randomUUID(),
    unitId: village.id,
    unitPath: village.path,
    sessionId: null,
    summary,
    raisedByName: null,
    raisedByUserId: account.id,
    householdId: household.id,
    raisedAt: new Date().toISOString(),
    ...UNTRIAGED,
    raisedByAccountId: account.id,
  };
  await writeAudited(
    getDb(env),
    [repo.insertMatter(env, row)],
    [
      {
        actorId: account.id,
        actorRole: "resident",
        scopePath: village.path,
        action: "deliberation.matter",
        objectType: "deliberation_matter",
        objectId: row.id,
        outcome: "success",
        requestId,
        detail: { householdId: household.id, channel: "resident" },
      },
    ],
  );
  return residentMatterView(await matterWithHistory(env, row));
}

/** One of the resident's own matters with its whole history; 404 for anyone else's. */
export async function ownMatter(env: Cloudflare.Env, resident: ResidentPrincipal, id: string) {
  const account = await currentAccount(env, resident);
  const m = await repo.matterById(env, id);
  if (!m || m.raisedByAccountId !== account.id) throw problems.notFound("matter");
  return residentMatterView(await matterWithHistory(env, m));
}

/** The resident's own matters, newest first, a page at a time. */
export async function ownMatters(
  env: Cloudflare.Env,
  resident: ResidentPrincipal,
  limit: number,
  cursor?: string,
) {
  const account = await currentAccount(env, resident);
  const after = decodeCursor(cursor, 2, ["string", "string"]) as [string, string] | null;
  const rows = await withCaseStates(env, await repo.mattersOfAccount(env, account.id, limit + 1, after));
  return toPage(
    rows,
    limit,
    (m) => ({ id: m.id, summary: m.summary, raisedAt: m.raisedAt, outcome: m.outcome, status: m.status }),
    (m) => [m.raisedAt, m.id],
  );
}

/** A triage decision. */
export type TriageBody =
  | { outcome: "answered"; answer: string }
  | { outcome: "declined"; reason: string }
  | {
      outcome: "case";
      gridId: string;
      type: NewCase["type"];
      severity: NewCase["severity"];
      title: string;
    }
  | { outcome: "agenda"; title: string; kind?: string; amountYuan?: number };

/**
 * Triages a matter into exactly one outcome, once (409 `already-triaged` after that); audited. A case goes
 * through `reportCases`, its description naming the matter; an agenda item fixes the procedure its kind
 * requires on the micro-power list in force.
 */
export async function triageMatter(env: Cloudflare.Env, caller: Caller, id: string, body: TriageBody) {
  const p = caller.principal;
  const m = await matterFor(env, p, id);
  if (!inScope(p.unitPath, m.unitPath)) throw problems.forbidden("Only the matter's own centres triage it");
  if (m.outcome) throw problems.conflict("already-triaged", `The matter was already triaged: ${m.outcome}`);
  const now = new Date().toISOString();
  const set = {
    outcome: body.outcome as MatterOutcome,
    outcomeBy: p.userId,
    outcomeAt: now,
    answer: null as string | null,
    caseId: null as string | null,
    caseOwnerId: null as string | null,
    itemId: null as string | null,
  };
  const statements = [];
  if (body.outcome === "answered") set.answer = body.answer;
  if (body.outcome === "declined") set.answer = body.reason;
  if (body.outcome === "case") {
    const owner = (await unitRefs(env, [body.gridId])).get(body.gridId);
    if (!owner || !inScope(p.unitPath, owner.path) || !related(m.unitPath, owner.path))
      throw problems.badRequest("The case is reported where the matter was raised", [
        { path: "gridId", message: "not on the matter's branch in your subtree" },
      ]);
    const input: NewCase = {
      id: m.id,
      type: body.type,
      severity: body.severity,
      title: body.title,
      description: `${m.summary}\n（源自说事事项 ${m.id}）`,
      location: null,
      householdIds: m.householdId ? [m.householdId] : [],
      residentIds: [],
      mediation: null,
    };
    const requestHash = await sha256Hex(JSON.stringify(["deliberation-matter", m.id, owner.id, input]));
    const [outcome] = await reportCases(
      env,
      caller,
      [{ input, ownerId: owner.id, requestHash }],
      new Map([[owner.id, owner]]),
    );
    if (!outcome!.ok) throw reportProblem(outcome!);
    set.caseId = outcome!.record.id;
    set.caseOwnerId = owner.id;
  }
  if (body.outcome === "agenda") {
    const village = await villageOf(env, m.unitPath);
    const { list } = await rulesAt(env, village);
    const listed = listedKind(list, body.kind ?? null, body.amountYuan ?? null);
    const item: repo.ItemRow = {
      id: crypto.randomUUID(),
      unitId: village.id,
      unitPath: village.path,
      matterId: m.id,
      title: body.title,
      kind: body.kind ?? null,
      amountYuan: body.amountYuan ?? null,
      state: "open",
      procedure: JSON.stringify({ ...procedureOf(listed), listed: listed?.kind ?? null }),
      proposedOn: null,
      resolvedOn: null,
      decidedOn: null,
      resultOn: null,
      resultSummary: null,
      version: 1,
      createdBy: p.userId,
      createdAt: now,
    };
    set.itemId = item.id;
    statements.push(repo.insertItem(env, item));
  }
  statements.unshift(repo.triageStatement(env, m.id, set));
  await guardedWrite(
    env,
    statements,
    [
      auditBy(
        caller,
        "deliberation.triage",
        { type: "deliberation_matter", id: m.id, scopePath: m.unitPath },
        {
          outcome: set.outcome,
          caseId: set.caseId,
          itemId: set.itemId,
        },
      ),
    ],
    { mustChange: [0] },
  );
  return getMatter(env, caller, m.id);
}

/** The village a path lies in (a grid's village, or the village itself). */
async function villageOf(env: Cloudflare.Env, path: string) {
  const ids = pathIds(path);
  const village = ids[3] ? await unitPlace(env, ids[3]) : null;
  if (village?.level !== "village") throw problems.badRequest("Not under a village");
  return village;
}

// ---------------------------------------------------------------------------------------------------------
// Agenda items: the four steps, notices, objections, the decision
// ---------------------------------------------------------------------------------------------------------

interface Procedure {
  steps: Step[];
  noticeDays: number;
  listed: string | null;
}

/** An item on the caller's branch, or 404. */
async function itemFor(env: Cloudflare.Env, p: Principal, id: string) {
  const item = await repo.itemById(env, id);
  if (!item || !onBranch(p, item.unitPath)) throw problems.notFound("agenda item");
  return item;
}

/** An item the caller runs (the village's centres and above), or 404/403. */
async function itemToRun(env: Cloudflare.Env, p: Principal, id: string) {
  const item = await itemFor(env, p, id);
  if (!inScope(p.unitPath, item.unitPath))
    throw problems.forbidden("Only the village's own centres run its procedure");
  return item;
}

/** The item's current resolution notice and its open objections. */
function currentNotice(record: Awaited<ReturnType<typeof repo.itemRecord>>) {
  const notice = record.notices.find((n) => n.kind === "resolution" && !n.withdrawnAt) ?? null;
  const open = notice
    ? record.objections.filter((o) => o.noticeId === notice.id && o.state === "open").length
    : 0;
  return notice ? { notice, openObjections: open } : null;
}

/** An item with its steps, notices, objections, tasks, timeline and satisfaction. */
export async function getItem(env: Cloudflare.Env, caller: Caller, id: string) {
  return itemView(await itemFor(env, caller.principal, id), await repo.itemRecord(env, id));
}

function itemView(item: repo.ItemRow, record: Awaited<ReturnType<typeof repo.itemRecord>>) {
  const procedure = JSON.parse(item.procedure) as Procedure;
  const passed = passedSteps(record.steps);
  const current = currentNotice(record);
  const missing =
    item.state === "resolved"
      ? missingForDecision(
          procedure,
          passed,
          current ? { endsOn: current.notice.endsOn, openObjections: current.openObjections } : null,
          chinaDate(Date.now()),
        )
      : null;
  return {
    id: item.id,
    unitId: item.unitId,
    matterId: item.matterId,
    title: item.title,
    kind: item.kind,
    amountYuan: item.amountYuan,
    listedKind: procedure.listed,
    requiredSteps: procedure.steps,
    noticeDays: procedure.noticeDays,
    state: item.state as ItemState,
    passedSteps: passed,
    missing: missing?.message ?? null,
    version: item.version,
    resultSummary: item.resultSummary,
    steps: record.steps.map((s) => ({
      id: s.id,
      step: s.step,
      meeting: s.meeting as MeetingKind,
      sessionId: s.sessionId,
      heldOn: s.heldOn,
      present: s.present,
      households: s.households,
      eligible: JSON.parse(s.eligible) as Eligible,
      votes: { for: s.votesFor, against: s.votesAgainst, abstain: s.votesAbstain },
      quorate: s.quorate,
      passed: s.passed,
      note: s.note,
      rollCall: s.rollCall ? (JSON.parse(s.rollCall) as RollCallVote[]) : null,
      voided: s.voided,
      recordedAt: s.recordedAt,
    })),
    notices: record.notices.map(noticeView),
    objections: record.objections.map((o) => ({
      id: o.id,
      noticeId: o.noticeId,
      text: o.text,
      state: o.state,
      answer: o.answer,
      backTo: o.backTo as Step | null,
      raisedAt: o.raisedAt,
      answeredAt: o.answeredAt,
    })),
    tasks: record.tasks.map((t) => ({
      ...taskView(t),
      timeline: record.entries
        .filter((e) => e.taskId === t.id)
        .map((e) => ({ progress: e.progress, note: e.note, byUserId: e.byUserId, at: e.at })),
    })),
    satisfaction: Object.fromEntries(record.feedback.map((f) => [f.satisfaction, f.n])) as Record<
      string,
      number
    >,
  };
}

function noticeView(n: repo.NoticeRow) {
  return {
    id: n.id,
    kind: n.kind,
    title: n.title,
    body: n.body,
    publishedOn: n.publishedOn,
    endsOn: n.endsOn,
    withdrawn: n.withdrawnAt !== null,
  };
}

function taskView(t: repo.TaskRow) {
  return {
    id: t.id,
    itemId: t.itemId,
    title: t.title,
    ownerUserId: t.ownerUserId,
    ownerUnitId: t.ownerUnitId,
    dueOn: t.dueOn,
    progress: t.progress,
    doneOn: t.doneOn,
    overdue: t.doneOn === null && t.dueOn < chinaDate(Date.now()),
    version: t.version,
    timeLimit: (({ warnAt, dueAt, escalateAt }) => ({ warnAt, dueAt, escalateAt, step: t.slaStep }))(
      taskDeadlines(t),
    ),
  };
}

/** The steps an item has passed (not voided), in order. */
function passedSteps(steps: readonly repo.StepRow[]): Step[] {
  return STEPS.filter((s) => steps.some((r) => r.step === s && r.passed && !r.voided));
}

/** A step as recorded. */
export interface StepBody {
  step: Step;
  meeting: MeetingKind;
  sessionId?: string;
  heldOn: string;
  attendance: { present: number; households?: number };
  votes: Votes;
  rollCall?: RollCallVote[];
  note?: string;
}

/**
 * Records a step of an item: in order (409 `step-out-of-order` naming the next), at its meeting, with
 * attendance and votes checked against the registry's numbers on the meeting date (400). A vote without
 * quorum, or without a majority, is recorded and decides nothing; a passed resolution resolves the item, a
 * failed one with quorum rejects it. Audited.
 */
export async function recordStep(env: Cloudflare.Env, caller: Caller, itemId: string, body: StepBody) {
  const item = await itemToRun(env, caller.principal, itemId);
  const record = await repo.itemRecord(env, item.id);
  const procedure = JSON.parse(item.procedure) as Procedure;
  const wrong = checkStep(
    item.state as ItemState,
    procedure.steps,
    passedSteps(record.steps),
    body.step,
    body.meeting,
  );
  if (wrong) throw breach(409, wrong);
  if (body.sessionId) {
    const s = await repo.sessionById(env, body.sessionId);
    if (!s || !inScope(item.unitPath, s.unitPath) || s.kind !== "consultation")
      throw problems.badRequest("The step's session is a consultation of the village", [
        { path: "sessionId", message: "not a consultation of this village" },
      ]);
  }
  const village = { id: item.unitId, path: item.unitPath };
  const eligible = await eligibleOn(env, village, body.heldOn);
  const bad = checkVote(body.meeting, body.attendance, body.votes, eligible);
  if (bad) throw breach(400, bad);
  const { procedure: rules } = await rulesAt(env, village);
  if (body.rollCall || rules.rollCall) {
    const kind = body.meeting === "party_members_meeting" ? "party_member" : "representative";
    const serving = new Set((await repo.membersOf(env, village.id, kind, body.heldOn)).map((m) => m.id));
    const wrongCall = checkRollCall(rules, body.meeting, body.rollCall, body.votes, serving);
    if (wrongCall) throw breach(400, wrongCall);
  }
  const outcome = decideVote(body.meeting, body.attendance, body.votes, eligible, rules);
  const now = new Date().toISOString();
  const row: repo.StepRow = {
    id: crypto.randomUUID(),
    itemId: item.id,
    step: body.step,
    meeting: body.meeting,
    sessionId: body.sessionId ?? null,
    heldOn: body.heldOn,
    present: body.attendance.present,
    households: body.attendance.households ?? null,
    eligible: JSON.stringify(eligible),
    votesFor: body.votes.for,
    votesAgainst: body.votes.against,
    votesAbstain: body.votes.abstain,
    quorate: outcome.quorate,
    passed: outcome.passed,
    note:
      [body.note, outcome.quorumNote && `no quorum: ${outcome.quorumNote}`].filter(Boolean).join("; ") ||
      null,
    rollCall: body.rollCall ? JSON.stringify(body.rollCall) : null,
    voided: false,
    recordedBy: caller.principal.userId,
    recordedAt: now,
  };
  const set: Partial<repo.ItemRow> = {};
  if (body.step === procedure.steps[0] && outcome.passed && !item.proposedOn) set.proposedOn = body.heldOn;
  if (body.step === "resolution" && outcome.quorate) {
    set.state = outcome.passed ? "resolved" : "rejected";
    if (outcome.passed) set.resolvedOn = body.heldOn;
  }
  await guardedWrite(
    env,
    [repo.updateItem(env, item, set), repo.insertStep(env, row)],
    [
      auditBy(
        caller,
        "deliberation.step",
        { type: "deliberation_item", id: item.id, scopePath: item.unitPath },
        {
          step: row.step,
          meeting: row.meeting,
          quorate: row.quorate,
          passed: row.passed,
        },
      ),
    ],
    { mustChange: [0] },
  );
  return getItem(env, caller, item.id);
}

/** Makes a resolution public (决议公开): a notice for the item's notice period, from today (China date). */
export async function publishResolution(
  env: Cloudflare.Env,
  caller: Caller,
  itemId: string,
  body: { title: string; body: string },
) {
  const item = await itemToRun(env, caller.principal, itemId);
  if (item.state !== "resolved")
    throw problems.conflict(
      "item-not-resolved",
      `A resolution is made public once passed; the item is ${item.state}`,
    );
  const record = await repo.itemRecord(env, item.id);
  if (currentNotice(record))
    throw problems.conflict("notice-already-public", "The resolution is already public");
  const procedure = JSON.parse(item.procedure) as Procedure;
  const today = chinaDate(Date.now());
  const notice: repo.NoticeRow = {
    id: crypto.randomUUID(),
    itemId: item.id,
    unitId: item.unitId,
    unitPath: item.unitPath,
    kind: "resolution",
    title: body.title,
    body: body.body,
    publishedOn: today,
    endsOn: noticeEndsOn(today, procedure.noticeDays),
    withdrawnAt: null,
    publishedAt: new Date().toISOString(),
  };
  await guardedWrite(
    env,
    [repo.updateItem(env, item, {}), repo.insertNotice(env, notice)],
    [
      auditBy(
        caller,
        "deliberation.notice",
        { type: "deliberation_item", id: item.id, scopePath: item.unitPath },
        {
          noticeId: notice.id,
          endsOn: notice.endsOn,
        },
      ),
    ],
    { mustChange: [0] },
  );
  return getItem(env, caller, item.id);
}

/** Objects to a notice during its notice period (409 after it); audited. */
export async function raiseObjection(env: Cloudflare.Env, caller: Caller, noticeId: string, text: string) {
  const notice = await repo.noticeById(env, noticeId);
  if (!notice || !onBranch(caller.principal, notice.unitPath)) throw problems.notFound("notice");
  if (notice.kind !== "resolution" || notice.withdrawnAt || chinaDate(Date.now()) > notice.endsOn)
    throw problems.conflict("notice-closed", "Objections are taken during a resolution's notice period");
  const row: repo.ObjectionRow = {
    id: crypto.randomUUID(),
    noticeId: notice.id,
    itemId: notice.itemId,
    text,
    raisedByUserId: caller.principal.userId,
    state: "open",
    answer: null,
    backTo: null,
    raisedAt: new Date().toISOString(),
    answeredAt: null,
  };
  await writeAudited(
    getDb(env),
    [repo.insertObjection(env, row)],
    [
      auditBy(
        caller,
        "deliberation.objection",
        { type: "deliberation_item", id: notice.itemId, scopePath: notice.unitPath },
        { objectionId: row.id },
      ),
    ],
  );
  return getItem(env, caller, notice.itemId);
}

/**
 * Answers an objection: dismissed, or upheld, which may send the item back to a step (`backTo`): that step
 * and those after it are voided, the notice withdrawn, and the item open again. Audited.
 */
export async function answerObjection(
  env: Cloudflare.Env,
  caller: Caller,
  objectionId: string,
  body: { upheld: boolean; answer: string; backTo?: Step },
) {
  const objection = await repo.objectionById(env, objectionId);
  if (!objection) throw problems.notFound("objection");
  const item = await itemToRun(env, caller.principal, objection.itemId);
  if (objection.state !== "open")
    throw problems.conflict("objection-answered", "The objection was already answered");
  if (body.backTo && !body.upheld)
    throw problems.badRequest("Only an upheld objection sends the item back", [
      { path: "backTo", message: "not upheld" },
    ]);
  if (body.backTo && item.state !== "resolved")
    throw problems.conflict(
      "item-not-resolved",
      `The item is ${item.state}; only a resolved item goes back a step`,
    );
  const now = new Date().toISOString();
  const statements = [
    repo.answerObjectionStatement(env, objection.id, {
      state: body.upheld ? "upheld" : "dismissed",
      answer: body.answer,
      backTo: body.backTo ?? null,
      answeredAt: now,
    }),
  ];
  if (body.backTo) {
    const from = STEPS.indexOf(body.backTo);
    statements.push(
      repo.voidSteps(env, item.id, STEPS.slice(from)),
      repo.withdrawNotices(env, item.id, now),
      repo.updateItem(env, item, { state: "open", resolvedOn: null }),
    );
  }
  await guardedWrite(
    env,
    statements,
    [
      auditBy(
        caller,
        "deliberation.objection-answer",
        { type: "deliberation_item", id: item.id, scopePath: item.unitPath },
        {
          objectionId: objection.id,
          upheld: body.upheld,
          backTo: body.backTo ?? null,
        },
      ),
    ],
    { mustChange: body.backTo ? [0, 3] : [0] },
  );
  return getItem(env, caller, item.id);
}

/**
 * Decides an item: its resolution passed, every step its procedure requires passed, its notice public,
 * its notice period over and no objection open. Otherwise 409 naming what is missing. Audited.
 */
export async function decideItem(env: Cloudflare.Env, caller: Caller, itemId: string) {
  const item = await itemToRun(env, caller.principal, itemId);
  if (item.state !== "resolved")
    throw problems.conflict(
      "item-not-resolved",
      `Only a resolved item is decided; the item is ${item.state}`,
    );
  const record = await repo.itemRecord(env, item.id);
  const current = currentNotice(record);
  const today = chinaDate(Date.now());
  const missing = missingForDecision(
    JSON.parse(item.procedure) as Procedure,
    passedSteps(record.steps),
    current ? { endsOn: current.notice.endsOn, openObjections: current.openObjections } : null,
    today,
  );
  if (missing) throw breach(409, missing);
  await guardedWrite(
    env,
    [repo.updateItem(env, item, { state: "decided", decidedOn: today })],
    [
      auditBy(
        caller,
        "deliberation.decide",
        { type: "deliberation_item", id: item.id, scopePath: item.unitPath },
        {},
      ),
    ],
    { mustChange: [0] },
  );
  return getItem(env, caller, item.id);
}

// ---------------------------------------------------------------------------------------------------------
// Carrying out: tasks, progress, the published result, satisfaction
// ---------------------------------------------------------------------------------------------------------

/** Adds a task to a resolved or decided item (an owner user or unit of the item's village); audited. */
export async function addTask(
  env: Cloudflare.Env,
  caller: Caller,
  itemId: string,
  body: { title: string; ownerUserId?: string; ownerUnitId?: string; dueOn: string },
) {
  const item = await itemToRun(env, caller.principal, itemId);
  if (item.state !== "resolved" && item.state !== "decided")
    throw problems.conflict("item-not-resolved", `Tasks carry out a resolution; the item is ${item.state}`);
  if (!body.ownerUserId === !body.ownerUnitId)
    throw problems.badRequest("A task has one owner: a user or a unit", [
      { path: "ownerUserId", message: "one of ownerUserId, ownerUnitId" },
    ]);
  if (body.ownerUserId) await assertUsersOnBranch(env, [body.ownerUserId], item.unitPath, "ownerUserId");
  if (body.ownerUnitId) {
    const unit = await unitPlace(env, body.ownerUnitId);
    if (!unit || !related(item.unitPath, unit.path))
      throw problems.badRequest("The owning unit is on the village's branch", [
        { path: "ownerUnitId", message: "not on the branch" },
      ]);
  }
  const createdAt = new Date().toISOString();
  const row: repo.TaskRow = {
    id: crypto.randomUUID(),
    itemId: item.id,
    unitId: item.unitId,
    unitPath: item.unitPath,
    title: body.title,
    ownerUserId: body.ownerUserId ?? null,
    ownerUnitId: body.ownerUnitId ?? null,
    dueOn: body.dueOn,
    progress: 0,
    doneOn: null,
    overdueNotified: false,
    version: 1,
    createdAt,
    slaStep: null,
    nextStepAt: taskDeadlines({ createdAt, dueOn: body.dueOn }).warnAt,
  };
  await guardedWrite(
    env,
    [repo.updateItem(env, item, {}), repo.insertTask(env, row)],
    [
      auditBy(
        caller,
        "deliberation.task",
        { type: "deliberation_item", id: item.id, scopePath: item.unitPath },
        { taskId: row.id, dueOn: row.dueOn },
      ),
    ],
    { mustChange: [0] },
  );
  return taskView(row);
}

/**
 * Reports a task's progress (its owner, or the village's centres), with a timeline entry. 100 % marks it
 * done, which needs its item decided (409 naming what the decision still lacks). Audited.
 */
export async function reportProgress(
  env: Cloudflare.Env,
  caller: Caller,
  taskId: string,
  body: { progress: number; note: string },
) {
  const p = caller.principal;
  const task = await repo.taskById(env, taskId);
  if (!task || !(task.ownerUserId === p.userId || onBranch(p, task.unitPath)))
    throw problems.notFound("task");
  const owner =
    task.ownerUserId === p.userId ||
    (task.ownerUnitId !== null && p.unitId === task.ownerUnitId) ||
    ((p.role === "center_staff" || p.role === "admin") && inScope(p.unitPath, task.unitPath));
  if (!owner) throw problems.forbidden("Only the task's owner or the village's centres report its progress");
  if (task.doneOn) throw problems.conflict("task-done", "The task is done");
  const item = (await repo.itemById(env, task.itemId))!;
  if (body.progress === 100 && item.state !== "decided") {
    const record = await repo.itemRecord(env, item.id);
    const current = currentNotice(record);
    const missing =
      item.state === "resolved"
        ? missingForDecision(
            JSON.parse(item.procedure) as Procedure,
            passedSteps(record.steps),
            current ? { endsOn: current.notice.endsOn, openObjections: current.openObjections } : null,
            chinaDate(Date.now()),
          )
        : null;
    throw problems.conflict(
      "item-not-decided",
      `A task is done once its item is decided; ${missing?.message ?? `the item is ${item.state}`}`,
    );
  }
  if (body.progress < task.progress)
    throw problems.badRequest("Progress does not go back", [
      { path: "progress", message: `below ${task.progress}` },
    ]);
  const now = new Date().toISOString();
  await guardedWrite(
    env,
    [
      repo.progressStatement(env, task, body.progress, body.progress === 100 ? chinaDate(now) : null),
      repo.insertTaskEntry(env, {
        id: crypto.randomUUID(),
        taskId: task.id,
        progress: body.progress,
        note: body.note,
        byUserId: p.userId,
        at: now,
      }),
    ],
    [
      auditBy(
        caller,
        "deliberation.progress",
        { type: "deliberation_task", id: task.id, scopePath: task.unitPath },
        { progress: body.progress },
      ),
    ],
    { mustChange: [0] },
  );
  return taskView((await repo.taskById(env, task.id))!);
}

/** Publishes the implementation result (实施结果公开) once every task is done; audited. */
export async function publishResult(
  env: Cloudflare.Env,
  caller: Caller,
  itemId: string,
  body: { title: string; body: string },
) {
  const item = await itemToRun(env, caller.principal, itemId);
  if (item.state !== "decided")
    throw problems.conflict(
      "item-not-decided",
      `A result is published for a decided item; the item is ${item.state}`,
    );
  const record = await repo.itemRecord(env, item.id);
  const open = record.tasks.filter((t) => !t.doneOn);
  if (record.tasks.length === 0 || open.length)
    throw problems.conflict(
      "tasks-open",
      record.tasks.length ? `${open.length} task(s) are not done` : "The resolution has no tasks yet",
    );
  const today = chinaDate(Date.now());
  const notice: repo.NoticeRow = {
    id: crypto.randomUUID(),
    itemId: item.id,
    unitId: item.unitId,
    unitPath: item.unitPath,
    kind: "result",
    title: body.title,
    body: body.body,
    publishedOn: today,
    endsOn: noticeEndsOn(today, (JSON.parse(item.procedure) as Procedure).noticeDays),
    withdrawnAt: null,
    publishedAt: new Date().toISOString(),
  };
  await guardedWrite(
    env,
    [
      repo.updateItem(env, item, { state: "result_published", resultOn: today, resultSummary: body.body }),
      repo.insertNotice(env, notice),
    ],
    [
      auditBy(
        caller,
        "deliberation.result",
        { type: "deliberation_item", id: item.id, scopePath: item.unitPath },
        { noticeId: notice.id },
      ),
    ],
    { mustChange: [0] },
  );
  return getItem(env, caller, item.id);
}

/** Records the caller's satisfaction with a published result (a repeat changes it); audited. */
export async function giveFeedback(
  env: Cloudflare.Env,
  caller: Caller,
  itemId: string,
  satisfaction: "satisfied" | "basically_satisfied" | "dissatisfied",
) {
  const item = await itemFor(env, caller.principal, itemId);
  if (item.state !== "result_published")
    throw problems.conflict("result-not-published", "Satisfaction is given on a published result");
  await writeAudited(
    getDb(env),
    [
      repo.upsertFeedback(env, {
        id: crypto.randomUUID(),
        itemId: item.id,
        unitPath: item.unitPath,
        satisfaction,
        byUserId: caller.principal.userId,
        at: new Date().toISOString(),
      }),
    ],
    [
      auditBy(
        caller,
        "deliberation.feedback",
        { type: "deliberation_item", id: item.id, scopePath: item.unitPath },
        { satisfaction },
      ),
    ],
  );
  return getItem(env, caller, item.id);
}

// ---------------------------------------------------------------------------------------------------------
// The public board and figures
// ---------------------------------------------------------------------------------------------------------

/**
 * A village's public notice board (村务公开): published resolutions and results and current notices, with the
 * counts of the passing vote. Built from columns that hold nothing personal: no attendee, voter, raiser or
 * objector. 404 for anything but a village.
 */
export async function publicBoard(env: Cloudflare.Env, unitId: string) {
  const { unit, notices, votes } = await repo.boardOf(env, unitId);
  if (unit?.level !== "village") throw problems.notFound("village");
  const today = chinaDate(Date.now());
  return {
    unit: { id: unit.id, name: unit.name },
    notices: notices.map((n) => {
      const v = votes.find((r) => r.itemId === n.itemId);
      return {
        id: n.id,
        kind: n.kind,
        title: n.title,
        body: n.body,
        publishedOn: n.publishedOn,
        endsOn: n.endsOn,
        current: today <= n.endsOn,
        item: { title: n.itemTitle, state: n.itemState as ItemState },
        resolution: v
          ? {
              meeting: v.meeting as MeetingKind,
              heldOn: v.heldOn,
              present: v.present,
              votes: { for: v.for, against: v.against, abstain: v.abstain },
            }
          : null,
      };
    }),
  };
}

/** Figures for a subtree and a period of China dates (`from` through `to`). */
export async function figuresOf(
  env: Cloudflare.Env,
  caller: Caller,
  unitId: string,
  from: string,
  to: string,
) {
  const unit = await unitInScope(env, caller.principal, unitId);
  if (to < from)
    throw problems.badRequest("The period ends after it starts", [{ path: "to", message: "before from" }]);
  const start = new Date(Date.parse(`${from}T00:00:00Z`) - 8 * 3_600_000).toISOString();
  const f = await repo.figuresIn(env, unit.path, start, repo.chinaDayEnd(to));
  const matters = Object.fromEntries(f.matters.map((m) => [m.outcome ?? "untriaged", m.n])) as Record<
    string,
    number
  >;
  const raised = f.matters.reduce((a, m) => a + m.n, 0);
  const share = (k: string) => (raised ? Math.round((100 * (matters[k] ?? 0)) / raised) : null);
  const satisfied = f.feedback.reduce((a, r) => a + (r.satisfaction === "dissatisfied" ? 0 : r.n), 0);
  const rated = f.feedback.reduce((a, r) => a + r.n, 0);
  return {
    unitId: unit.id,
    from,
    to,
    sessions: Object.fromEntries(f.sessions.map((s) => [s.kind, s.n])) as Record<string, number>,
    matters: {
      raised,
      byOutcome: matters,
      sharePercent: {
        answered: share("answered"),
        case: share("case"),
        agenda: share("agenda"),
        declined: share("declined"),
      },
    },
    itemsDecided: f.items.filter((i) => i.decidedOn).length,
    medianDaysProposalToResolution: median(
      f.items.flatMap((i) => (i.proposedOn && i.resolvedOn ? [daysBetween(i.proposedOn, i.resolvedOn)] : [])),
    ),
    medianDaysResolutionToResult: median(
      f.items.flatMap((i) => (i.resolvedOn && i.resultOn ? [daysBetween(i.resolvedOn, i.resultOn)] : [])),
    ),
    taskOnTimePercent: onTimeRate(f.tasks),
    satisfactionPercent: rated ? Math.round((100 * satisfied) / rated) : null,
  };
}

/**
 * Takes the time-limit steps due on deliberation tasks at `now` (`src/domain/task-deadlines.ts`): a warning
 * (`urge`) to the owner's unit and the village centre, overdue (`overdue`) to the village centre, and after the
 * grace period escalation (`escalated`) to the town centre. Each inbox item is written once per (task, step,
 * unit) by its dedupe key, and a step is recorded only if no other tick recorded one since the task was read,
 * so a cron that fires twice tells nobody twice. Run by the cron over an index range of the tasks' next look,
 * at most `limit` tasks a tick; returns how many tasks were looked at.
 */
export async function reportOverdueTasks(env: Cloudflare.Env, now: number, limit = 200): Promise<number> {
  const at = new Date(now).toISOString();
  const rows = await repo.tasksWithStepsDue(env, at, limit);
  const statements: InStatement[] = [];
  for (const { task, itemTitle, ownerUnit, ownerUserUnit } of rows) {
    const due = taskStepsDue(task, task.slaStep, now);
    const town = escalationTarget({ id: task.unitId, path: task.unitPath, level: "village" });
    const targets = {
      owner: ownerUnit?.id ? ownerUnit : ownerUserUnit?.id ? ownerUserUnit : null,
      village: { id: task.unitId, path: task.unitPath },
      town: town.ok ? { id: town.target.unitId, path: town.target.path } : null,
    };
    for (const notice of due.notices) {
      const unit = targets[notice.target];
      if (!unit) continue;
      statements.push(
        await insertInboxItemStatement({
          unitId: unit.id,
          unitPath: unit.path,
          kind: notice.kind,
          caseId: null,
          dedupeKey: taskNoticeKey(task.id, notice.step, unit.id),
          payload: {
            source: "deliberation",
            step: notice.step,
            taskId: task.id,
            itemId: task.itemId,
            title: task.title,
            itemTitle,
            dueOn: task.dueOn,
            ownerUserId: task.ownerUserId,
            ownerUnitId: task.ownerUnitId,
            villageId: task.unitId,
          },
          createdAt: at,
        }),
      );
    }
    statements.push(repo.taskStepStatement(env, task, due.last, due.nextAt));
  }
  await repo.commitTaskSteps(env, statements);
  return rows.length;
}

/**
 * A centre above the village (town and up) requires the village to review an item: an item in the village
 * centre's inbox (`supervision`), one per request; audited. The village's own centre may not (403).
 */
export async function requireReview(env: Cloudflare.Env, caller: Caller, itemId: string, reason: string) {
  const p = caller.principal;
  const item = await itemFor(env, p, itemId);
  if (!inScope(p.unitPath, item.unitPath) || p.unitPath === item.unitPath)
    throw problems.forbidden("A review is required by a centre above the village");
  const requestedAt = new Date().toISOString();
  const requestId = crypto.randomUUID();
  await writeAudited(
    getDb(env),
    [
      await insertInboxItemStatement({
        unitId: item.unitId,
        unitPath: item.unitPath,
        kind: "supervision",
        caseId: null,
        dedupeKey: `deliberation-review:${item.id}:${requestId}`,
        payload: {
          source: "deliberation",
          itemId: item.id,
          title: item.title,
          reason,
          requestedBy: p.userId,
        },
        createdAt: requestedAt,
      }),
    ],
    [
      auditBy(
        caller,
        "deliberation.review",
        { type: "deliberation_item", id: item.id, scopePath: item.unitPath },
        {
          reason,
        },
      ),
    ],
  );
  return { id: requestId, itemId: item.id, unitId: item.unitId, reason, requestedAt };
}
