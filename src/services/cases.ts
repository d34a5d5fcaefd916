import type { ContentfulStatusCode } from "hono/utils/http-status";
import { caseOwners, searchCases, unitRefs } from "../db/repos/cases";
import { loadSlaRulesBook } from "../db/repos/sla-policy";
import { type DuplicateHint, hintsVisibleTo } from "../domain/case-duplicates";
import { caseIdFor } from "../domain/case-id";
import { type CaseCommand, canSeeCase, SLA_POLICY_NEEDED } from "../domain/case-lifecycle";
import type { Actor, CaseRecord, CaseState, Mediation, NewCase, UnitRef } from "../domain/case-model";
import type { SlaRulesBook } from "../domain/sla";
import { inScope } from "../domain/units";
import { deskOfCase, deskOfUnit, legacyDeskOf } from "../durable/grid-desk/address";
import type {
  CaseWithTimeline,
  CommandResult,
  DeskFailure,
  GridDesk,
  ReportAnswer,
  ReportItem,
} from "../durable/grid-desk/grid-desk";
import type { Principal } from "../env";
import { getDb, isDbUnavailable } from "../platform/db/client";
import { auditDenial } from "../platform/db/denials";
import { assertInScope } from "../platform/http/auth";
import { staleVersion } from "../platform/http/if-match";
import { Problem, problems } from "../platform/http/problem";
import { timedStub } from "../platform/http/timing";
import { assertFitsOneMessage } from "../platform/queues/send";
import type { Caller } from "./caller";

export type { Caller };

// ---------------------------------------------------------------------------------------------------------
// Finding a case's GridDesk.
//
// A case lives in the GridDesk of its owning unit for life (dispatch and escalation change the responsible
// unit, never the owner), and its id carries that desk's key (`src/domain/case-id.ts`): reading, commanding
// and attaching go straight to the desk the id names, with no directory read and no cache.
//
// Legacy: cases reported before ids were keyed have plain UUIDs and live in desks named by their unit id.
// For those (and for a keyed-looking id its desk does not hold) we look, in order, in the desk of the
// caller's hint `?gridId=`, of the case directory in libSQL (the projection's `owning_unit_id`; skipped if
// libSQL is down), and of the caller's own unit. A desk that does not own the case says so, and we try the
// next; a wrong hint can only cost a probe, never return a wrong case.
// ---------------------------------------------------------------------------------------------------------

/** The GridDesk of an owning unit, its calls timed for Server-Timing. */
export function deskOf(env: Cloudflare.Env, owningUnitId: string): DurableObjectStub<GridDesk> {
  return timedStub(deskOfUnit(env, owningUnitId));
}

const deskUnavailable = () =>
  new Problem(503, "grid-desk-unavailable", "The case desk is unavailable; try again shortly", {
    headers: { "retry-after": "1" },
  });

function logDeskError(caller: Pick<Caller, "requestId">, error: unknown): void {
  console.error(
    JSON.stringify({ requestId: caller.requestId, kind: "grid-desk-error", error: String(error) }),
  );
}

/**
 * Calls a desk (or the evidence bucket beside it), turning a runtime failure into a 503 problem: a GridDesk
 * error is never a 500.
 */
export async function callDesk<T>(caller: Caller, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof Problem) throw error;
    logDeskError(caller, error);
    throw deskUnavailable();
  }
}

/** Legacy desks (named by unit id) that may hold a case with a plain id: the hint, the directory, the caller's unit. */
async function* legacyOwners(env: Cloudflare.Env, caller: Caller, caseId: string, hint?: string) {
  const tried = new Set<string>();
  const fresh = (id: string | undefined | null): id is string => {
    if (!id || tried.has(id)) return false;
    tried.add(id);
    return true;
  };
  if (fresh(hint)) yield hint;
  let fromDirectory: string | undefined;
  try {
    fromDirectory = (await caseOwners(env, [caseId])).get(caseId);
  } catch (error) {
    if (!isDbUnavailable(error)) throw error;
  }
  if (fresh(fromDirectory)) yield fromDirectory;
  const own = caller.principal.unitId;
  if (fresh(own)) yield own;
}

const isNotHere = (r: unknown) =>
  typeof r === "object" && r !== null && (r as DeskFailure).ok === false && (r as DeskFailure).status === 404;

/**
 * Runs `attempt` against the desk of `caseId`: the one its id names, else (legacy ids) the desks that may
 * own it, until one answers with something other than "not here" (null or a 404 failure); 404 if none does.
 *
 * @example
 * const found = await withCaseDesk(env, caller, caseId, hint, (desk) => desk.getCase(caseId));
 */
export async function withCaseDesk<T>(
  env: Cloudflare.Env,
  caller: Caller,
  caseId: string,
  hint: string | undefined,
  attempt: (desk: DurableObjectStub<GridDesk>) => Promise<T | null>,
): Promise<T> {
  const keyed = deskOfCase(env, caseId);
  if (keyed) {
    const result = await callDesk(caller, () => attempt(timedStub(keyed)));
    if (result !== null && !isNotHere(result)) return result;
  }
  for await (const owner of legacyOwners(env, caller, caseId, hint)) {
    const result = await callDesk(caller, () => attempt(timedStub(legacyDeskOf(env, owner))));
    if (result === null || isNotHere(result)) continue;
    return result;
  }
  throw problems.notFound("case");
}

/** The acting user as the lifecycle sees them. */
export function actorOf(p: Principal): Actor {
  return {
    userId: p.userId,
    role: p.role,
    unitId: p.unitId,
    unitPath: p.unitPath,
    unitLevel: p.unitLevel as Actor["unitLevel"],
  };
}

/** Turns a desk refusal into its problem; a stale version is the one 412 of `if-match.ts`. */
export function deskProblem(failure: DeskFailure): Problem {
  if (failure.status === 412) return staleVersion(failure.currentVersion, "case");
  return new Problem(failure.status, failure.code, failure.detail);
}

/** A case with its timeline, live from its desk, wherever it is (404 if none has it). */
export function loadCase(
  env: Cloudflare.Env,
  caller: Caller,
  caseId: string,
  hint?: string,
): Promise<CaseWithTimeline> {
  return withCaseDesk(
    env,
    caller,
    caseId,
    hint,
    (desk) => desk.getCase(caseId) as Promise<CaseWithTimeline | null>,
  );
}

/** A case with its timeline from its desk, or null if no desk has it (scope is the caller's check). */
export async function findCase(
  env: Cloudflare.Env,
  caller: Caller,
  caseId: string,
  hint?: string,
): Promise<CaseWithTimeline | null> {
  try {
    return await loadCase(env, caller, caseId, hint);
  } catch (error) {
    if (error instanceof Problem && error.status === 404) return null;
    throw error;
  }
}

/** A case the caller may see, with its timeline and the duplicate hints the caller may read; 404 otherwise. */
export async function visibleCase(
  env: Cloudflare.Env,
  caller: Caller,
  caseId: string,
  hint?: string,
): Promise<CaseWithTimeline & { duplicates: DuplicateHint[]; hiddenDuplicates: number }> {
  const found = await loadCase(env, caller, caseId, hint);
  if (!canSeeCase(actorOf(caller.principal), found.record)) {
    await auditCaseDenial(env, caller, found.record);
    throw problems.notFound("case");
  }
  return { ...found, ...hintsVisibleTo(caller.principal, found.duplicates ?? []) };
}

/**
 * Records an out-of-scope read of a case (one row per user, case and minute). The read never needs libSQL,
 * so while libSQL is down the refusal is only logged: it must not turn the 404 into a 503.
 */
async function auditCaseDenial(env: Cloudflare.Env, caller: Caller, record: CaseRecord): Promise<void> {
  const entry = {
    actorId: caller.principal.userId,
    actorRole: caller.principal.role,
    scopePath: record.owningUnit.path,
    action: "case.read",
    objectType: "case",
    objectId: record.id,
    reason: "out_of_scope",
    requestId: caller.requestId,
  };
  try {
    await auditDenial(env, entry);
  } catch (error) {
    if (!isDbUnavailable(error)) throw error;
    console.error(JSON.stringify({ kind: "denial-not-audited", ...entry }));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Reporting: one flow for the single report, the offline sync and the matters of a liaison station.
// ---------------------------------------------------------------------------------------------------------

/** One report for `reportCases`: the new case (with the client's id), its owning unit, and its request fingerprint. */
export interface CaseReport {
  /** The case as reported; its `id` is the client's, and the case gets `caseIdFor(ownerId, id)`. */
  input: NewCase;
  ownerId: string;
  /** Fingerprint of the request: a repeat with the same one replays, a different one with the same id is 422. */
  requestHash: string;
}

/** What became of one report: created, a replay of the first result, or a refusal as a problem's parts. */
export type ReportOutcome =
  | {
      ok: true;
      outcome: "created" | "replayed";
      record: CaseRecord;
      /** Possible duplicates the reporter may read; `hiddenDuplicates` counts the others. */
      duplicates: DuplicateHint[];
      hiddenDuplicates: number;
    }
  | { ok: false; status: ContentfulStatusCode; code: string; detail: string; retryAfter?: boolean };

const refused = (status: ContentfulStatusCode, code: string, detail: string): ReportOutcome => ({
  ok: false,
  status,
  code,
  detail,
});

const unavailableOutcome = (): ReportOutcome => ({
  ok: false,
  status: 503,
  code: "grid-desk-unavailable",
  detail: "The case desk is unavailable; retry this report",
  retryAfter: true,
});

/**
 * Reports cases: the one path by which a case comes into being. Every report is checked to fit the queue
 * message it will become (413 otherwise, before anything is stored) and gets its case id from its owning
 * unit and the client's id (`caseIdFor`: the same client id in two units is two cases). Reports then go to
 * their owners' GridDesks, one call per desk, which check the owning unit is in the caller's subtree, create
 * them idempotently (a repeat replays the first result; another report under the same id is 422) with the
 * time-limit rules the desk keeps and duplicate hints from its own cases, and record the `reported` event,
 * the case's audit trail. Nothing here reads libSQL, except the owning unit of a desk that has never had a
 * case (not the caller's own unit, not in `owners`); so with libSQL down reports still go in, to every desk
 * that has seen a case before. One outcome per report, in order.
 *
 * @param owners owning units already resolved (and checked) by the caller
 */
export async function reportCases(
  env: Cloudflare.Env,
  caller: Caller,
  reports: readonly CaseReport[],
  owners?: ReadonlyMap<string, UnitRef>,
): Promise<ReportOutcome[]> {
  return reportCasesAs(env, caller.requestId, actorOf(caller.principal), reports, owners);
}

/**
 * `reportCases` for an actor who is not a staff principal: a resident reporting through their own channel,
 * whose actor's unit is the grid the matter is reported into (where its location or their household lies).
 * The same path, the same desks, the same checks; only who acts differs.
 */
export async function reportCasesAs(
  env: Cloudflare.Env,
  requestId: string,
  actor: Actor,
  reports: readonly CaseReport[],
  owners?: ReadonlyMap<string, UnitRef>,
): Promise<ReportOutcome[]> {
  const caller = { requestId };
  const p = actor;
  const outcomes: ReportOutcome[] = new Array(reports.length);
  const known = new Map(owners ?? []);
  known.set(p.unitId, { id: p.unitId, path: p.unitPath, level: p.unitLevel });
  const groups = new Map<string, Array<{ index: number; item: ReportItem }>>();
  for (const [index, report] of reports.entries()) {
    const owner = known.get(report.ownerId);
    if (owner && !inScope(p.unitPath, owner.path)) {
      outcomes[index] = refused(404, "not-found", "No such unit");
      continue;
    }
    const tooLarge = messageSizeProblem(report.input);
    if (tooLarge) {
      outcomes[index] = tooLarge;
      continue;
    }
    const input = { ...report.input, id: caseIdFor(report.ownerId, report.input.id) };
    const group = groups.get(report.ownerId) ?? [];
    group.push({ index, item: { input, requestHash: report.requestHash } });
    groups.set(report.ownerId, group);
  }

  await Promise.all(
    [...groups].map(async ([ownerId, group]) => {
      const items = group.map((g) => g.item);
      const desk = deskOf(env, ownerId);
      let answer: ReportAnswer;
      try {
        answer = (await desk.report(items, actor, known.get(ownerId) ?? null)) as ReportAnswer;
        if (!answer.ok) {
          // A desk that never had a case: its unit comes from the registry, once.
          const unit = (await unitRefs(env, [ownerId])).get(ownerId);
          if (!unit || !inScope(p.unitPath, unit.path)) {
            for (const g of group) outcomes[g.index] = refused(404, "not-found", "No such unit");
            return;
          }
          answer = (await desk.report(items, actor, unit)) as ReportAnswer;
        }
      } catch (error) {
        if (error instanceof Problem) throw error;
        logDeskError(caller, error);
        for (const g of group) outcomes[g.index] = unavailableOutcome();
        return;
      }
      if (!answer.ok) {
        for (const g of group) outcomes[g.index] = unavailableOutcome();
        return;
      }
      answer.results.forEach((result, i) => {
        const g = group[i]!;
        outcomes[g.index] = result.ok
          ? {
              ok: true,
              outcome: result.outcome,
              record: result.record,
              ...hintsVisibleTo(p, result.duplicates),
            }
          : refused(result.status, result.code, result.detail);
      });
    }),
  );
  return outcomes;
}

/** The problem of a refused report, for the endpoints that answer one report. */
export function reportProblem(outcome: Extract<ReportOutcome, { ok: false }>): Problem {
  return new Problem(outcome.status, outcome.code, outcome.detail, {
    ...(outcome.retryAfter ? { headers: { "retry-after": "1" } } : {}),
  });
}

/**
 * 413 for a report too large for the queue message it becomes: the `case-events` message carries the case
 * record and its `reported` event, each holding the report's content, so the content is counted twice.
 */
function messageSizeProblem(input: NewCase): ReportOutcome | null {
  try {
    assertFitsOneMessage({ record: input, event: input }, "The report");
    return null;
  } catch (error) {
    if (!(error instanceof Problem)) throw error;
    return refused(error.status, "message-too-large", error.message);
  }
}

/** A report as the API takes it (`POST /v1/cases`, each report of `POST /v1/cases/sync`). */
export interface ReportBody {
  id?: string;
  /** The owning unit; default: the reporter's own. */
  gridId?: string;
  type: NewCase["type"];
  severity: NewCase["severity"];
  title: string;
  description: string;
  location?: NonNullable<NewCase["location"]>;
  householdIds: string[];
  residentIds: string[];
  mediation?: Mediation;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

/** SHA-256 of a text, as hex. */
export async function sha256Hex(text: string): Promise<string> {
  return hex(await sha256(text));
}

/** The case id an Idempotency-Key stands for: a UUIDv8 from SHA-256(user, key), so each user has their own keys. */
async function idForKey(userId: string, key: string): Promise<string> {
  const b = (await sha256(`grid321-case\n${userId}\n${key}`)).slice(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = hex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** JSON with sorted keys, so equal requests hash equally whatever their key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The report of an API body: its case, its owner and the fingerprint of (reporter, owner, content). */
async function reportOf(p: Principal, id: string, body: ReportBody): Promise<CaseReport> {
  const ownerId = body.gridId ?? p.unitId;
  const { id: _id, gridId: _grid, ...content } = body;
  return {
    ownerId,
    requestHash: hex(await sha256(canonical({ reporter: p.userId, owner: ownerId, content }))),
    input: {
      id,
      type: body.type,
      severity: body.severity,
      title: body.title,
      description: body.description,
      location: body.location ?? null,
      householdIds: body.householdIds,
      residentIds: body.residentIds,
      mediation: body.mediation ?? null,
    },
  };
}

/**
 * `POST /v1/cases`: one report, idempotent by its `id` or the caller's `Idempotency-Key`. Throws the
 * problem of a refusal; returns the created or replayed case with its duplicate hints.
 */
export async function reportCase(
  env: Cloudflare.Env,
  caller: Caller,
  body: ReportBody,
  idempotencyKey?: string,
): Promise<Extract<ReportOutcome, { ok: true }>> {
  const p = caller.principal;
  if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
    throw problems.badRequest("Idempotency-Key is 1–200 visible ASCII characters", [
      { path: "header.idempotency-key", message: "invalid" },
    ]);
  }
  const id =
    body.id ??
    (idempotencyKey !== undefined ? await idForKey(p.userId, idempotencyKey) : crypto.randomUUID());
  const [outcome] = await reportCases(env, caller, [await reportOf(p, id, body)]);
  if (!outcome!.ok) throw reportProblem(outcome!);
  return outcome!;
}

/** `POST /v1/cases/sync`: reports made offline, each with its own id; one outcome per report, in order. */
export async function syncReports(
  env: Cloudflare.Env,
  caller: Caller,
  bodies: ReadonlyArray<ReportBody & { id: string }>,
): Promise<ReportOutcome[]> {
  const reports = await Promise.all(bodies.map((body) => reportOf(caller.principal, body.id, body)));
  return reportCases(env, caller, reports);
}

// ---------------------------------------------------------------------------------------------------------
// Reading and commanding cases
// ---------------------------------------------------------------------------------------------------------

/** Filters of `GET /v1/cases`. */
export interface CaseSearch {
  unitId?: string;
  state?: CaseState;
  type?: string;
  severity?: string;
  from?: string;
  to?: string;
  q?: string;
  after: readonly [string, string] | null;
  limit: number;
}

/** Projected cases in the caller's subtree (or a unit's inside it), newest first; `limit` rows at most. */
export async function searchCasesInScope(
  env: Cloudflare.Env,
  caller: Caller,
  search: CaseSearch,
): Promise<CaseRecord[]> {
  const p = caller.principal;
  let scopePath = p.unitPath;
  if (search.unitId && search.unitId !== p.unitId) {
    const unit = (await unitRefs(env, [search.unitId])).get(search.unitId);
    assertInScope(p, unit?.path, "unit");
    scopePath = unit!.path;
  }
  // Stored times are `toISOString()` text; compare like with like ("…:08Z" sorts after "…:08.674Z").
  const from = search.from && new Date(search.from).toISOString();
  const to = search.to && new Date(search.to).toISOString();
  return searchCases(env, { ...search, from, to, scopePath });
}

/** A grid's cases, live from its GridDesk (scope from the desk's own unit, or the registry for a new desk). */
export async function gridCases(
  env: Cloudflare.Env,
  caller: Caller,
  gridId: string,
  options: { state?: CaseState; limit: number; after: [string, string] | null },
): Promise<CaseRecord[]> {
  const desk = deskOf(env, gridId);
  if (gridId !== caller.principal.unitId) {
    let unit: UnitRef | null | undefined = await callDesk(
      caller,
      () => desk.owningUnit() as Promise<UnitRef | null>,
    );
    unit ??= (await unitRefs(env, [gridId])).get(gridId);
    assertInScope(caller.principal, unit?.path, "unit");
  }
  return callDesk(caller, () => desk.listCases(options) as Promise<CaseRecord[]>);
}

/** A case command as the API asks for it; unit ids and merge targets are resolved here. */
export type CommandRequest =
  | Exclude<CaseCommand, { action: "dispatch" | "send_down" | "merge" | "attach" }>
  | { action: "merge"; intoCaseId: string; note: string | null }
  | { action: "dispatch"; unitId: string; department: string | null; note: string | null }
  | { action: "send_down"; unitId: string; reason: string; deadline: string | null };

async function targetUnit(env: Cloudflare.Env, unitId: string): Promise<UnitRef> {
  const unit = (await unitRefs(env, [unitId])).get(unitId);
  if (!unit) throw problems.badRequest("No such unit", [{ path: "unitId", message: "not found" }]);
  return unit;
}

/** The command the desk runs for a request, and the unit paths whose time-limit policy it will likely need. */
async function commandOf(
  env: Cloudflare.Env,
  caller: Caller,
  request: CommandRequest,
): Promise<{ command: CaseCommand; policyPaths: string[] }> {
  switch (request.action) {
    case "accept":
      // The accepting unit (on the case's path, so in the desk's own rules) starts the resolve clock.
      return { command: request, policyPaths: [] };
    case "dispatch": {
      const unit = await targetUnit(env, request.unitId);
      return {
        command: {
          action: "dispatch",
          target: { ...unit, department: request.department },
          note: request.note,
        },
        policyPaths: [unit.path],
      };
    }
    case "send_down": {
      const unit = await targetUnit(env, request.unitId);
      const { unitId: _unit, ...rest } = request;
      return { command: { ...rest, target: unit }, policyPaths: [unit.path] };
    }
    case "merge": {
      const target = await loadCase(env, caller, request.intoCaseId).catch((e: unknown) => {
        if (e instanceof Problem && e.status === 404) return null;
        throw e;
      });
      if (!target || !canSeeCase(actorOf(caller.principal), target.record)) {
        throw problems.badRequest("No such case to merge into", [
          { path: "intoCaseId", message: "not found" },
        ]);
      }
      if (target.record.state === "merged" || target.record.state === "rejected") {
        throw problems.conflict("merge-target", `The target case is ${target.record.state}`);
      }
      return { command: request, policyPaths: [] };
    }
    default:
      return { command: request, policyPaths: [] };
  }
}

/**
 * Runs a command on a case at `expectedVersion` (the client's If-Match) and returns the case after it.
 * The desk keeps the time-limit rules of its own path (which holds the accepting and escalation units), so
 * most commands read nothing from libSQL. A dispatch or send-down names its target unit, whose policy is read
 * with it. If the desk answers that it needs another unit's policy nothing was written, and the command is
 * sent once more with that policy; if libSQL cannot give it, that clock runs on the defaults. A stale
 * version is 412.
 */
export async function runCommand(
  env: Cloudflare.Env,
  caller: Caller,
  caseId: string,
  hint: string | undefined,
  expectedVersion: number,
  request: CommandRequest,
): Promise<CaseRecord> {
  const actor = actorOf(caller.principal);
  const { command, policyPaths } = await commandOf(env, caller, request);
  let book: SlaRulesBook = policyPaths.length
    ? await loadSlaRulesBook(getDb(env), policyPaths)
    : { unitIds: [], rules: {} };
  // The book above sits over the desk's own rules; an empty one asks the desk to say what it lacks.
  let result: CommandResult;
  for (let attempt = 0; ; attempt++) {
    const sla = book;
    result = await withCaseDesk<CommandResult>(
      env,
      caller,
      caseId,
      hint,
      (desk) => desk.command(caseId, command, actor, expectedVersion, sla) as Promise<CommandResult>,
    );
    if (result.ok || result.code !== SLA_POLICY_NEEDED || !result.policyPath || attempt > 0) break;
    book = await loadSlaRulesBook(getDb(env), [result.policyPath]);
  }
  if (!result.ok) throw deskProblem(result);
  return result.record;
}
