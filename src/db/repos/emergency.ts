import type { InStatement } from "@libsql/client/web";
import { and, asc, eq, gte, inArray, isNull, lt, or, type SQL } from "drizzle-orm";
import type { ResponseLevel } from "../../domain/emergency";
import { subtreeRange } from "../../domain/units";
import type { Db } from "../../platform/db/client";
import { stmt } from "../../platform/db/statements";
import {
  cases,
  contactPairings,
  emergencyEventLog,
  emergencyEvents,
  emergencyEventUnits,
  emergencyShelters,
  householdHelpers,
  households,
  residents,
  units,
  users,
} from "../schema";

/** An event as stored, with its affected units. */
export type EventRow = typeof emergencyEvents.$inferSelect;
export interface EventRecord extends EventRow {
  units: Array<{ unitId: string; unitPath: string }>;
}

/** An entry of an event's log. */
export type EventLogEntry = typeof emergencyEventLog.$inferSelect;

/** A shelter as stored. */
export type ShelterRow = typeof emergencyShelters.$inferSelect;

/** The insert of an event. */
export function insertEventStatement(db: Db, row: EventRow): InStatement {
  return stmt(db.insert(emergencyEvents).values(row));
}

/** The inserts of affected units (an already affected unit is kept as it was). */
export function insertEventUnitsStatement(
  db: Db,
  eventId: string,
  affected: Array<{ id: string; path: string }>,
  at: string,
): InStatement {
  return stmt(
    db
      .insert(emergencyEventUnits)
      .values(affected.map((u) => ({ eventId, unitId: u.id, unitPath: u.path, addedAt: at })))
      .onConflictDoNothing(),
  );
}

/**
 * Appends to the event's log with the next seq, computed inside the statement so that two changes in flight
 * cannot take the same one (the primary key refuses the loser). Raw SQL: INSERT … SELECT with MAX()+1.
 */
export function appendLogStatement(
  eventId: string,
  type: string,
  actorId: string,
  at: string,
  payload: Record<string, unknown>,
): InStatement {
  return {
    sql: `INSERT INTO emergency_event_log (event_id, seq, type, at, actor_id, payload)
          SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ? FROM emergency_event_log WHERE event_id = ?`,
    args: [eventId, type, at, actorId, JSON.stringify(payload), eventId],
  };
}

/** A version-guarded change of an event's level, status or stand-down time. */
export function updateEventStatement(
  db: Db,
  id: string,
  version: number,
  set: { level?: ResponseLevel; status?: "active" | "stood_down"; stoodDownAt?: string },
  at: string,
): InStatement {
  return stmt(
    db
      .update(emergencyEvents)
      .set({ ...set, version: version + 1, updatedAt: at })
      .where(and(eq(emergencyEvents.id, id), eq(emergencyEvents.version, version))),
  );
}

/** One event with its affected units, or null. */
export async function findEvent(db: Db, id: string): Promise<EventRecord | null> {
  const [row] = await db.select().from(emergencyEvents).where(eq(emergencyEvents.id, id)).limit(1);
  if (!row) return null;
  const affected = await db
    .select({ unitId: emergencyEventUnits.unitId, unitPath: emergencyEventUnits.unitPath })
    .from(emergencyEventUnits)
    .where(eq(emergencyEventUnits.eventId, id));
  return { ...row, units: affected };
}

/** Events whose commanding unit lies in `scopePath`, or that affect units inside it or above it; newest first. */
export async function eventsVisibleIn(db: Db, scopePath: string, limit: number): Promise<EventRow[]> {
  const [lo, hi] = subtreeRange(scopePath);
  const affecting = db
    .select({ id: emergencyEventUnits.eventId })
    .from(emergencyEventUnits)
    .where(
      or(
        and(gte(emergencyEventUnits.unitPath, lo), lt(emergencyEventUnits.unitPath, hi)),
        ancestorOf(scopePath),
      ),
    );
  return db
    .select()
    .from(emergencyEvents)
    .where(
      or(
        and(gte(emergencyEvents.commandUnitPath, lo), lt(emergencyEvents.commandUnitPath, hi)),
        inArray(emergencyEvents.id, affecting),
      ),
    )
    .orderBy(asc(emergencyEvents.status), asc(emergencyEvents.declaredAt))
    .limit(limit);
}

/** Affected units that are ancestors of `path` (an event over a county affects every grid in it). */
function ancestorOf(path: string): SQL | undefined {
  const ancestors: string[] = [];
  for (let i = path.indexOf("/", 1); i > 0 && i < path.length; i = path.indexOf("/", i + 1)) {
    ancestors.push(path.slice(0, i + 1));
  }
  return ancestors.length ? inArray(emergencyEventUnits.unitPath, ancestors) : undefined;
}

/** The event's log, oldest first. */
export function eventLog(db: Db, id: string): Promise<EventLogEntry[]> {
  return db
    .select()
    .from(emergencyEventLog)
    .where(eq(emergencyEventLog.eventId, id))
    .orderBy(asc(emergencyEventLog.seq));
}

/** Units by id (id, path, level), for checking affected and commanding units. */
export async function unitsByIds(
  db: Db,
  ids: string[],
): Promise<Map<string, { id: string; path: string; level: string; name: string }>> {
  if (!ids.length) return new Map();
  const rows = await db
    .select({ id: units.id, path: units.path, level: units.level, name: units.name })
    .from(units)
    .where(inArray(units.id, ids));
  return new Map(rows.map((r) => [r.id, r]));
}

/** Every grid unit inside the given subtrees (one index range scan each), by path. */
export async function gridsUnder(db: Db, paths: string[]): Promise<Array<{ id: string; path: string }>> {
  const out: Array<{ id: string; path: string }> = [];
  for (const p of paths) {
    const [lo, hi] = subtreeRange(p);
    out.push(
      ...(await db
        .select({ id: units.id, path: units.path })
        .from(units)
        .where(and(eq(units.level, "grid"), gte(units.path, lo), lt(units.path, hi)))
        .orderBy(asc(units.path))),
    );
  }
  return out;
}

/**
 * Everything the rosters of these grids need, set-based in one round trip (one read batch of four queries,
 * each joined to the grids' households): the households, their residents, their active helpers and their
 * active three-line contacts with names and phones. The cost is the same for 5 grids or 200, so the roster
 * builder reads many grids at once.
 */
export async function rosterSources(db: Db, gridIds: string[]) {
  const inGrids = inArray(households.unitId, gridIds);
  const [hs, rs, helpers, pairings] = await db.batch([
    db
      .select({
        id: households.id,
        unitId: households.unitId,
        address: households.address,
        class: households.class,
        memberCount: households.memberCount,
      })
      .from(households)
      .where(inGrids),
    db
      .select({
        id: residents.id,
        householdId: residents.householdId,
        name: residents.name,
        relationship: residents.relationship,
        tags: residents.tags,
        phoneEnc: residents.phoneEnc,
        phoneMasked: residents.phoneMasked,
      })
      .from(residents)
      .innerJoin(households, eq(households.id, residents.householdId))
      .where(inGrids),
    db
      .select({
        householdId: householdHelpers.householdId,
        userId: householdHelpers.userId,
        line: householdHelpers.line,
        name: users.displayName,
        phone: users.phone,
      })
      .from(householdHelpers)
      .innerJoin(households, eq(households.id, householdHelpers.householdId))
      .innerJoin(users, eq(users.id, householdHelpers.userId))
      .where(and(inGrids, isNull(householdHelpers.until))),
    db
      .select({
        householdId: contactPairings.householdId,
        userId: contactPairings.contactId,
        line: contactPairings.line,
        name: users.displayName,
        phone: users.phone,
      })
      .from(contactPairings)
      .innerJoin(households, eq(households.id, contactPairings.householdId))
      .innerJoin(users, eq(users.id, contactPairings.contactId))
      .where(and(inGrids, isNull(contactPairings.endedAt))),
  ]);
  return { households: hs, residents: rs, helpers, pairings };
}

/** The insert of a shelter. */
export function insertShelterStatement(db: Db, row: ShelterRow): InStatement {
  return stmt(db.insert(emergencyShelters).values(row));
}

/** The event's shelters. */
export function sheltersOf(db: Db, eventId: string): Promise<ShelterRow[]> {
  return db.select().from(emergencyShelters).where(eq(emergencyShelters.eventId, eventId));
}

/** The projected state of cases (those not projected yet are missing). */
export async function caseStates(db: Db, ids: string[]): Promise<Map<string, string>> {
  if (!ids.length) return new Map();
  const rows = await db
    .select({ id: cases.id, state: cases.state })
    .from(cases)
    .where(inArray(cases.id, ids));
  return new Map(rows.map((r) => [r.id, r.state]));
}
