import {
  and,
  asc,
  between,
  desc,
  eq,
  gt,
  gte,
  inArray,
  isNotNull,
  lt,
  min,
  ne,
  or,
  type SQL,
} from "drizzle-orm";
import {
  boundingBox,
  DUPLICATE_RADIUS_M,
  DUPLICATE_WINDOW_MS,
  type DuplicateHint,
  type DuplicateReport,
  duplicateHintsAmong,
  type ScopedDuplicateHint,
  villageOfPath,
} from "../../domain/case-duplicates";
import { type CaseRecord, OPEN_STATES, type UnitRef } from "../../domain/case-model";
import { DESK_LEVELS, subtreeRange } from "../../domain/units";
import { type Db, getDb } from "../../platform/db/client";
import { containsText } from "../../platform/db/statements";
import { caseEvents, cases, units } from "../schema";

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

/**
 * Village-wide duplicate hints for reports (cases just created by a desk), from the projection: open cases of
 * the same type in the same village, reported in the last 7 days, within 200 m, nearest first (the desk
 * computes them after the create, outside its transaction; the projection consumer may call it as well). One
 * round trip for all reports; reports above village level or without a position get none.
 *
 * @example
 * const hints = await villageDuplicateHints(env, [{ id, type, owningUnitPath, lat, lng }], Date.now());
 */
export async function villageDuplicateHints(
  env: Cloudflare.Env,
  reports: readonly DuplicateReport[],
  now: number,
): Promise<Map<string, ScopedDuplicateHint[]>> {
  const db = getDb(env);
  const located = reports.flatMap((report) => {
    const villageId = villageOfPath(report.owningUnitPath);
    if (villageId === null) return [];
    const box = boundingBox(report, DUPLICATE_RADIUS_M);
    const query = db
      .select({ doc: cases.doc })
      .from(cases)
      .where(
        and(
          eq(cases.villageId, villageId),
          eq(cases.type, report.type),
          between(cases.lat, box.minLat, box.maxLat),
          between(cases.lng, box.minLng, box.maxLng),
          gte(cases.createdAt, new Date(now - DUPLICATE_WINDOW_MS).toISOString()),
          ne(cases.id, report.id),
          inArray(cases.state, [...OPEN_STATES]),
        ),
      )
      .limit(100);
    return [{ report, query }];
  });
  const found = new Map<string, ScopedDuplicateHint[]>(reports.map((r) => [r.id, []]));
  if (located.length === 0) return found;
  const [first, ...rest] = located.map((l) => l.query);
  const results = await db.batch([first!, ...rest]);
  located.forEach(({ report }, i) => {
    const records = results[i]!.map((r) => JSON.parse(r.doc) as CaseRecord);
    found.set(report.id, duplicateHintsAmong(report, records, now));
  });
  return found;
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

/**
 * One page of the units below (and at) `unitPath` that own cases (villages and grids), by path after
 * `afterPath`: the desks a time-limit policy change at `unitPath` concerns. An index range over `path`.
 */
export async function owningUnitsBelow(
  db: Db,
  unitPath: string,
  afterPath: string | null,
  limit: number,
): Promise<UnitRef[]> {
  const [lo, hi] = subtreeRange(unitPath);
  return db
    .select({ id: units.id, path: units.path, level: units.level })
    .from(units)
    .where(
      and(
        afterPath === null ? gte(units.path, lo) : gt(units.path, afterPath),
        lt(units.path, hi),
        inArray(units.level, [...DESK_LEVELS]),
      ),
    )
    .orderBy(asc(units.path))
    .limit(limit);
}
