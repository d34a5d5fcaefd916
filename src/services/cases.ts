import type { ContentfulStatusCode } from "hono/utils/http-status";
import { caseOwners, type DuplicateProbe, readForReports, searchCases, unitRefs } from "../db/repos/cases";
import { loadSlaRulesBook } from "../db/repos/sla-policy";
import type { DuplicateHint } from "../domain/case-duplicates";
import { type CaseCommand, canSeeCase, SLA_POLICY_NEEDED } from "../domain/case-lifecycle";
import type { Actor, CaseRecord, CaseState, Mediation, NewCase, UnitRef } from "../domain/case-model";
import type { SlaRulesBook } from "../domain/sla";
import { inScope } from "../domain/units";
import type {
  CaseWithTimeline,
  CommandResult,
  CreateInput,
  CreateResult,
  DeskFailure,
  GridDesk,
} from "../durable/grid-desk/grid-desk";
import type { Principal } from "../env";
import { getDb, isDbUnavailable } from "../platform/db/client";
import { assertInScope } from "../platform/http/auth";
import { staleVersion } from "../platform/http/if-match";
import { Problem, problems } from "../platform/http/problem";
import { assertFitsOneMessage } from "../platform/queues/send";
import type { Caller } from "./caller";

export type { Caller };

// ---------------------------------------------------------------------------------------------------------
// Finding a case's GridDesk.
//
// A case lives in the GridDesk of its owning unit for life (dispatch and escalation change the responsible
// unit, never the owner), so "which desk?" has one answer that never goes stale. We look for it, in order:
//  1. this isolate's memory of ids it has already located (safe to cache forever: the owner never changes);
//  2. the caller's hint `?gridId=` (clients keep the owning grid of the cases they hold);
//  3. the case directory in libSQL (the projection's `cases.owning_unit_id`) — skipped if libSQL is down;
//  4. the caller's own unit (a grid worker's own cases, even before the projection has caught up).
// Each probe asks a desk; a desk that does not own the case says so, and we try the next. The answer is
// always read from the desk itself, so a wrong hint can only cost a probe, never return a wrong case.
// ---------------------------------------------------------------------------------------------------------

const located = new Map<string, string>();
const LOCATED_MAX = 50_000;

/** Forgets every located case (tests use it to exercise the directory and the hints). */
export function forgetLocatedCases(): void {
  located.clear();
}

function remember(caseId: string, owningUnitId: string): void {
  if (located.size >= LOCATED_MAX) located.delete(located.keys().next().value!);
  located.set(caseId, owningUnitId);
}

/** The GridDesk of an owning unit. */
export function deskOf(env: Cloudflare.Env, owningUnitId: string): DurableObjectStub<GridDesk> {
  return env.GRID_DESK.get(env.GRID_DESK.idFromName(owningUnitId));
}

const deskUnavailable = () =>
  new Problem(503, "grid-desk-unavailable", "The case desk is unavailable; try again shortly", {
    headers: { "retry-after": "1" },
  });

function logDeskError(caller: Caller, error: unknown): void {
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

async function* candidateOwners(env: Cloudflare.Env, caller: Caller, caseId: string, hint?: string) {
  const tried = new Set<string>();
  const fresh = (id: string | undefined | null): id is string => {
    if (!id || tried.has(id)) return false;
    tried.add(id);
    return true;
  };
  const cached = located.get(caseId);
  if (fresh(cached)) yield cached;
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
 * Runs `attempt` against the desks that may own `caseId` until one answers with something other than
 * "not here" (null or a 404 failure); 404 if none does.
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
  for await (const owner of candidateOwners(env, caller, caseId, hint)) {
    const result = await callDesk(caller, () => attempt(deskOf(env, owner)));
    if (result === null || isNotHere(result)) continue;
    remember(caseId, owner);
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

/** A case the caller may see, with its timeline; 404 otherwise. */
export async function visibleCase(
  env: Cloudflare.Env,
  caller: Caller,
  caseId: string,
  hint?: string,
): Promise<CaseWithTimeline> {
  const found = await loadCase(env, caller, caseId, hint);
  if (!canSeeCase(actorOf(caller.principal), found.record)) throw problems.notFound("case");
  return found;
}

// ---------------------------------------------------------------------------------------------------------
// Reporting: one flow for the single report, the offline sync and the matters of a liaison station.
// ---------------------------------------------------------------------------------------------------------

/** One report for `reportCases`: the new case (its id included), its owning unit, and its request fingerprint. */
export interface CaseReport {
  input: NewCase;
  ownerId: string;
  /** Fingerprint of the request: a repeat with the same one replays, a different one with the same id is 422. */
  requestHash: string;
}

/** What became of one report: created, a replay of the first result, or a refusal as a problem's parts. */
export type ReportOutcome =
  | { ok: true; outcome: "created" | "replayed"; record: CaseRecord; duplicates: DuplicateHint[] }
  | { ok: false; status: ContentfulStatusCode; code: string; detail: string; retryAfter?: boolean };

const refused = (status: ContentfulStatusCode, code: string, detail: string): ReportOutcome => ({
  ok: false,
  status,
  code,
  detail,
});

/**
 * Reports cases: the one path by which a case comes into being. Every report is checked to fit the queue
 * message it will become (413 otherwise, before anything is stored), gets its owning unit (in the caller's
 * subtree), is checked against the case directory (an id already owned elsewhere is 422), and gets the
 * time-limit rules of its owning unit and the duplicate hints near it, all read in one round trip. Reports
 * then go to their owners' GridDesks, one call per desk, which create them idempotently (a repeat replays the
 * first result) and record the `reported` event, the case's audit trail. If libSQL is down the reports still
 * go in, with no hints and clocks on the default policy. One outcome per report, in order.
 *
 * @param owners owning units already resolved (and checked) by the caller; others are read from the registry
 */
export async function reportCases(
  env: Cloudflare.Env,
  caller: Caller,
  reports: readonly CaseReport[],
  owners?: ReadonlyMap<string, UnitRef>,
): Promise<ReportOutcome[]> {
  const p = caller.principal;
  const outcomes: ReportOutcome[] = new Array(reports.length);
  const units =
    owners ??
    (await ownersOf(
      env,
      p,
      reports.map((r) => r.ownerId),
    ));
  const accepted: Array<{ index: number; report: CaseReport; owner: UnitRef }> = [];
  for (const [index, report] of reports.entries()) {
    const owner = units.get(report.ownerId);
    if (!owner || !inScope(p.unitPath, owner.path)) {
      outcomes[index] = refused(404, "not-found", "No such unit");
      continue;
    }
    const tooLarge = messageSizeProblem(report.input);
    if (tooLarge) outcomes[index] = tooLarge;
    else accepted.push({ index, report, owner });
  }

  const now = Date.now();
  const probes: DuplicateProbe[] = accepted.flatMap(({ report, owner }) => {
    const { lat, lng } = report.input.location ?? {};
    return lat !== undefined && lng !== undefined
      ? [{ id: report.input.id, type: report.input.type, owningUnit: owner, lat, lng, now }]
      : [];
  });
  let reads = {
    directory: new Map<string, string>(),
    sla: { unitIds: [], rules: {}, unavailable: true } as SlaRulesBook,
    duplicates: new Map<string, DuplicateHint[]>(),
  };
  if (accepted.length) {
    try {
      reads = await readForReports(
        env,
        accepted.map((a) => a.report.input.id),
        accepted.map((a) => a.owner.path),
        probes,
      );
    } catch (error) {
      // The projection is an aid here: with libSQL down the reports still go in, without hints.
      if (!isDbUnavailable(error)) throw error;
    }
  }

  const groups = new Map<string, Array<{ index: number; item: CreateInput }>>();
  const seenOwner = new Map<string, string>();
  for (const { index, report, owner } of accepted) {
    const id = report.input.id;
    const knownOwner = reads.directory.get(id) ?? seenOwner.get(id);
    if (knownOwner !== undefined && knownOwner !== owner.id) {
      outcomes[index] = refused(
        422,
        "idempotency-key-reused",
        "This case id or Idempotency-Key was already used for a different report",
      );
      continue;
    }
    seenOwner.set(id, owner.id);
    const group = groups.get(owner.id) ?? [];
    group.push({
      index,
      item: {
        input: report.input,
        owningUnit: owner,
        requestHash: report.requestHash,
        duplicates: reads.duplicates.get(id) ?? [],
      },
    });
    groups.set(owner.id, group);
  }

  const actor = actorOf(p);
  await Promise.all(
    [...groups].map(async ([ownerId, group]) => {
      let results: CreateResult[];
      try {
        results = (await deskOf(env, ownerId).createMany(
          group.map((g) => g.item),
          actor,
          reads.sla,
        )) as CreateResult[];
      } catch (error) {
        logDeskError(caller, error);
        for (const g of group) {
          outcomes[g.index] = {
            ...refused(503, "grid-desk-unavailable", "The case desk is unavailable; retry this report"),
            retryAfter: true,
          } as ReportOutcome;
        }
        return;
      }
      results.forEach((result, i) => {
        const g = group[i]!;
        if (result.ok) remember(g.item.input.id, ownerId);
        outcomes[g.index] = result.ok ? result : refused(result.status, result.code, result.detail);
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

/** Owning units: the caller's own unit from the token, others from the registry (one query, none if all own). */
async function ownersOf(
  env: Cloudflare.Env,
  p: Principal,
  ids: readonly string[],
): Promise<Map<string, UnitRef>> {
  const others = [...new Set(ids.filter((id) => id !== p.unitId))];
  const found = await unitRefs(env, others);
  found.set(p.unitId, { id: p.unitId, path: p.unitPath, level: p.unitLevel as UnitRef["level"] });
  return found;
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

/** A grid's cases, live from its GridDesk (scope from the registry, or from the desk when libSQL is down). */
export async function gridCases(
  env: Cloudflare.Env,
  caller: Caller,
  gridId: string,
  options: { state?: CaseState; limit: number; after: [string, string] | null },
): Promise<CaseRecord[]> {
  const desk = deskOf(env, gridId);
  if (gridId !== caller.principal.unitId) {
    let unit: UnitRef | null | undefined;
    try {
      unit = (await unitRefs(env, [gridId])).get(gridId);
    } catch (error) {
      if (!isDbUnavailable(error)) throw error;
      unit = await callDesk(caller, () => desk.owningUnit() as Promise<UnitRef | null>);
    }
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
      // The accepting unit becomes responsible: its policy starts the resolve clock.
      return { command: request, policyPaths: [caller.principal.unitPath] };
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
 * Time-limit policies are read here, never inside the desk: the command names the units whose policy a new
 * clock will likely need (the accepting unit, a dispatch target). If the desk answers that it needs another
 * unit's policy (an escalation, a reopened case) nothing was written, and the command is sent once more with
 * that policy. If libSQL is down the desk runs the clock on the defaults. A stale version is 412.
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
