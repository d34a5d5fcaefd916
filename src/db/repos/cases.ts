import { and, asc, between, desc, eq, gte, inArray, isNotNull, lt, min, ne, or, type SQL } from "drizzle-orm";
import {
  boundingBox,
  DUPLICATE_RADIUS_M,
  DUPLICATE_WINDOW_MS,
  type DuplicateHint,
  distanceMeters,
  isPossibleDuplicate,
  villageOfPath,
} from "../../domain/case-duplicates";
import { type CaseRecord, type CaseType, OPEN_STATES, type UnitRef } from "../../domain/case-model";
import type { SlaRulesBook } from "../../domain/sla";
import { pathIds } from "../../domain/units";
import { type Db, getDb } from "../../platform/db/client";
import { containsText } from "../../platform/db/statements";
import { caseEvents, cases, unitSettings, units } from "../schema";
import { SLA_POLICY_KEY, slaRulesBookOf } from "./sla-policy";

export type { DuplicateHint };

/**
 * Units by id (id, path, level), for owning units and dispatch targets. One round trip.
 *
 * @example
 * const owner = (await unitRefs(env, [gridId])).get(gridId);
 */
export async function unitRefs(env: Cloudflare.Env, ids: readonly string[]): Promise<Map<string, UnitRef>> {
  if (ids.length === 0) return new Map();
  const rows = await getDb(env)
    .select({ id: units.id, path: units.path, level: units.level })
    .from(units)
    .where(inArray(units.id, [...ids]));
  return new Map(rows.map((r) => [r.id, r]));
}

/** The case directory: the owning unit of each of `ids` the projection already holds (id → unit id). */
export async function caseOwners(env: Cloudflare.Env, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await getDb(env)
    .select({ id: cases.id, owningUnitId: cases.owningUnitId })
    .from(cases)
    .where(inArray(cases.id, [...ids]));
  return new Map(rows.map((r) => [r.id, r.owningUnitId]));
}

/** Where a new report stands, for duplicate hints: its id, type, owning unit and position, and the time. */
export interface DuplicateProbe {
  id: string;
  type: CaseType;
  owningUnit: UnitRef;
  lat: number;
  lng: number;
  now: number;
}

/** Candidate duplicates of a report (prefiltered by village, type, time, state and a lat/lng box), or null. */
function duplicateCandidates(env: Cloudflare.Env, probe: DuplicateProbe) {
  const villageId = villageOfPath(probe.owningUnit.path);
  if (villageId === null) return null;
  const box = boundingBox(probe, DUPLICATE_RADIUS_M);
  return getDb(env)
    .select({
      id: cases.id,
      type: cases.type,
      state: cases.state,
      villageId: cases.villageId,
      lat: cases.lat,
      lng: cases.lng,
      createdAt: cases.createdAt,
      title: cases.title,
      owningUnitId: cases.owningUnitId,
    })
    .from(cases)
    .where(
      and(
        eq(cases.villageId, villageId),
        eq(cases.type, probe.type),
        between(cases.lat, box.minLat, box.maxLat),
        between(cases.lng, box.minLng, box.maxLng),
        gte(cases.createdAt, new Date(probe.now - DUPLICATE_WINDOW_MS).toISOString()),
        ne(cases.id, probe.id),
        inArray(cases.state, [...OPEN_STATES]),
      ),
    )
    .limit(100);
}

type CandidateRow = Awaited<NonNullable<ReturnType<typeof duplicateCandidates>>>[number];

/** The nearest true duplicates among candidate rows, at most 10. */
function duplicatesOf(rows: CandidateRow[], probe: DuplicateProbe): DuplicateHint[] {
  const villageId = villageOfPath(probe.owningUnit.path);
  const report = { id: probe.id, type: probe.type, villageId, lat: probe.lat, lng: probe.lng };
  return rows
    .map((r) => ({ ...r, type: r.type as CaseType, state: r.state as CaseRecord["state"] }))
    .filter((candidate) => isPossibleDuplicate(report, candidate, probe.now))
    .map((candidate) => ({
      id: candidate.id,
      title: candidate.title,
      state: candidate.state,
      owningUnitId: candidate.owningUnitId,
      distanceM: Math.round(distanceMeters(probe, { lat: candidate.lat!, lng: candidate.lng! })),
      createdAt: candidate.createdAt,
    }))
    .sort((a, b) => a.distanceM - b.distanceM)
    .slice(0, 10);
}

/** What reporting a batch of cases reads from libSQL before the desks write. */
export interface ReportReads {
  /** Case ids already in the directory, with their owning unit. */
  directory: Map<string, string>;
  /** The time-limit rules of every owning unit and its ancestors. */
  sla: SlaRulesBook;
  /** Duplicate hints per probed report id. */
  duplicates: Map<string, DuplicateHint[]>;
}

/**
 * Everything reporting needs from the projection and the registry, in ONE round trip: which of the ids are
 * already taken (and by which owner), the time-limit rules on the owners' paths, and the open cases near each
 * located report. Throws when libSQL cannot answer; callers decide whether to go on without it.
 */
export async function readForReports(
  env: Cloudflare.Env,
  ids: readonly string[],
  ownerPaths: readonly string[],
  probes: readonly DuplicateProbe[],
): Promise<ReportReads> {
  const db = getDb(env);
  const unitIds = [...new Set(ownerPaths.flatMap((p) => pathIds(p)))];
  const located = probes.flatMap((probe) => {
    const query = duplicateCandidates(env, probe);
    return query ? [{ probe, query }] : [];
  });
  const [directory, rules, ...candidates] = await db.batch([
    db
      .select({ id: cases.id, owningUnitId: cases.owningUnitId })
      .from(cases)
      .where(inArray(cases.id, ids.length ? [...ids] : [""])),
    db
      .select({ unit_id: unitSettings.unitId, value: unitSettings.value })
      .from(unitSettings)
      .where(
        and(
          eq(unitSettings.key, SLA_POLICY_KEY),
          inArray(unitSettings.unitId, unitIds.length ? unitIds : [""]),
        ),
      ),
    ...located.map((l) => l.query),
  ]);
  return {
    directory: new Map(directory.map((r) => [r.id, r.owningUnitId])),
    sla: unitIds.length ? slaRulesBookOf(unitIds, rules) : { unitIds: [], rules: {} },
    duplicates: new Map(
      located.map((l, i) => [l.probe.id, duplicatesOf(candidates[i] as CandidateRow[], l.probe)]),
    ),
  };
}

/** Filters of the projected case search. */
export interface CaseListFilter {
  /** Subtree whose cases (by owning or responsible unit) are listed. */
  scopePath: string;
  state?: string;
  type?: string;
  severity?: string;
  /** Stored-time text (`toISOString()`), compared like with like. */
  from?: string;
  to?: string;
  q?: string;
  after: readonly [string, string] | null;
  limit: number;
}

/**
 * A page of projected cases in a subtree, newest first (`limit` rows). A case is in the subtree when its
 * owning or its responsible unit path is inside `scopePath`; each test is a range scan on its own index.
 */
export async function searchCases(env: Cloudflare.Env, f: CaseListFilter): Promise<CaseRecord[]> {
  // Paths are ids and slashes; "~" sorts after every character they use.
  const hi = `${f.scopePath}~`;
  const where: Array<SQL | undefined> = [
    or(
      and(gte(cases.owningUnitPath, f.scopePath), lt(cases.owningUnitPath, hi)),
      and(gte(cases.responsibleUnitPath, f.scopePath), lt(cases.responsibleUnitPath, hi)),
    ),
    f.state ? eq(cases.state, f.state) : undefined,
    f.type ? eq(cases.type, f.type) : undefined,
    f.severity ? eq(cases.severity, f.severity) : undefined,
    f.from ? gte(cases.createdAt, f.from) : undefined,
    f.to ? lt(cases.createdAt, f.to) : undefined,
    f.q
      ? or(
          containsText(cases.title, f.q),
          containsText(cases.description, f.q),
          containsText(cases.address, f.q),
        )
      : undefined,
    f.after
      ? or(lt(cases.createdAt, f.after[0]), and(eq(cases.createdAt, f.after[0]), lt(cases.id, f.after[1])))
      : undefined,
  ];
  const rows = await getDb(env)
    .select({ doc: cases.doc })
    .from(cases)
    .where(and(...where))
    .orderBy(desc(cases.createdAt), desc(cases.id))
    .limit(f.limit);
  return rows.map((r) => JSON.parse(r.doc) as CaseRecord);
}

/** The states of projected cases by id (cases not yet projected are absent). */
export async function projectedStates(
  env: Cloudflare.Env,
  ids: readonly string[],
): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await getDb(env)
    .select({ id: cases.id, state: cases.state })
    .from(cases)
    .where(inArray(cases.id, [...ids]));
  return new Map(rows.map((r) => [r.id, r.state]));
}

/**
 * The cases `reporterId` reported in the subtree `range` that a month `[from, to)` weighs: reported in it, or
 * first accepted in it (reported earlier); with the time of the first `accepted` event (null while none).
 * Returned unexecuted, so a caller can put it in its own batch.
 */
export function reportedCasesOfMonth(
  db: Db,
  reporterId: string,
  range: readonly [string, string],
  bounds: readonly [string, string],
) {
  const acceptedAt = min(caseEvents.at);
  return db
    .select({
      id: cases.id,
      title: cases.title,
      state: cases.state,
      reportedAt: cases.createdAt,
      acceptedAt,
    })
    .from(cases)
    .leftJoin(caseEvents, and(eq(caseEvents.caseId, cases.id), eq(caseEvents.type, "accepted")))
    .where(
      and(
        gte(cases.owningUnitPath, range[0]),
        lt(cases.owningUnitPath, range[1]),
        eq(cases.reporterId, reporterId),
        lt(cases.createdAt, bounds[1]),
      ),
    )
    .groupBy(cases.id)
    .having(or(gte(cases.createdAt, bounds[0]), and(gte(acceptedAt, bounds[0]), lt(acceptedAt, bounds[1]))))
    .orderBy(asc(cases.createdAt), asc(cases.id));
}

/** Who is on a case's timeline: its reporter and every (actor, event type) of its projected events; null when not projected. */
export async function caseActors(
  db: Db,
  caseId: string,
): Promise<{ reporterId: string; events: Array<{ actorId: string | null; type: string }> } | null> {
  const [found, events] = await db.batch([
    db.select({ reporterId: cases.reporterId }).from(cases).where(eq(cases.id, caseId)),
    db
      .selectDistinct({ actorId: caseEvents.actorId, type: caseEvents.type })
      .from(caseEvents)
      .where(and(eq(caseEvents.caseId, caseId), isNotNull(caseEvents.actorId))),
  ]);
  return found[0] ? { reporterId: found[0].reporterId, events } : null;
}
