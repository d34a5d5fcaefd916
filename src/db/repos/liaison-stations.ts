import type { InStatement } from "@libsql/client/web";
import { and, asc, eq, gt, gte, inArray, lt, lte, or, type SQL, sql } from "drizzle-orm";
import type { ActivityKind, StationLevel } from "../../domain/liaison";
import { subtreeRange } from "../../domain/units";
import { getDb } from "../../platform/db/client";
import { stmt } from "../../platform/db/statements";
import { activityMatters, contactProfiles, liaisonStations, stationActivities, users } from "../schema";

/** A liaison station as stored. */
export type StationRow = typeof liaisonStations.$inferSelect;
/** A station activity as stored (`attendance` is JSON text). */
export type ActivityRow = typeof stationActivities.$inferSelect;
/** A reception-day matter as stored. */
export type MatterRow = typeof activityMatters.$inferSelect;

/** A station, and the station the user `userId` is attached to (if any), in one round trip. */
export async function stationAndAttachment(
  env: Cloudflare.Env,
  stationId: string,
  userId: string,
): Promise<{ station: StationRow | null; attachedTo: string | null }> {
  const db = getDb(env);
  const [station, profile] = await db.batch([
    db.select().from(liaisonStations).where(eq(liaisonStations.id, stationId)),
    db
      .select({ stationId: contactProfiles.stationId })
      .from(contactProfiles)
      .where(eq(contactProfiles.userId, userId)),
  ]);
  return { station: station[0] ?? null, attachedTo: profile[0]?.stationId ?? null };
}

/** The deputies attached to a station, by user id. */
export function stationDeputies(env: Cloudflare.Env, stationId: string) {
  return getDb(env)
    .select({ userId: users.id, displayName: users.displayName, unitId: users.unitId })
    .from(contactProfiles)
    .innerJoin(users, eq(users.id, contactProfiles.userId))
    .where(and(eq(contactProfiles.stationId, stationId), eq(users.role, "deputy")))
    .orderBy(asc(users.id));
}

/** The statement that opens a station (for an audited write). */
export function insertStation(env: Cloudflare.Env, row: StationRow): InStatement {
  return stmt(getDb(env).insert(liaisonStations).values(row));
}

/** A page of the stations in a subtree, by id (`limit` rows at most). */
export function stationsInSubtree(
  env: Cloudflare.Env,
  unitPath: string,
  afterId: string | null,
  limit: number,
) {
  const [lo, hi] = subtreeRange(unitPath);
  return getDb(env)
    .select({
      id: liaisonStations.id,
      name: liaisonStations.name,
      level: liaisonStations.level,
      unitId: liaisonStations.unitId,
      createdAt: liaisonStations.createdAt,
    })
    .from(liaisonStations)
    .where(
      and(
        gte(liaisonStations.unitPath, lo),
        lt(liaisonStations.unitPath, hi),
        afterId === null ? undefined : gt(liaisonStations.id, afterId),
      ),
    )
    .orderBy(asc(liaisonStations.id))
    .limit(limit);
}

/** Users by id with their role and unit, for attaching deputies. */
export function usersByIds(env: Cloudflare.Env, ids: readonly string[]) {
  return getDb(env)
    .select({ id: users.id, role: users.role, unitId: users.unitId, unitPath: users.unitPath })
    .from(users)
    .where(inArray(users.id, [...ids]));
}

/** The statement that attaches a deputy to a station (creating their profile; a deputy has one station). */
export function attachDeputy(
  env: Cloudflare.Env,
  deputy: { userId: string; unitId: string; unitPath: string; level: StationLevel | null },
  stationId: string,
  at: string,
): InStatement {
  return stmt(
    getDb(env)
      .insert(contactProfiles)
      .values({
        userId: deputy.userId,
        line: "deputy",
        unitId: deputy.unitId,
        unitPath: deputy.unitPath,
        deputyLevel: deputy.level,
        stationId,
        updatedAt: at,
      })
      .onConflictDoUpdate({
        target: contactProfiles.userId,
        set: {
          stationId: sql`excluded.station_id`,
          // A deputy's level, once known, is theirs: attaching elsewhere does not change it.
          deputyLevel: sql`coalesce(${contactProfiles.deputyLevel}, excluded.deputy_level)`,
          updatedAt: sql`excluded.updated_at`,
        },
      }),
  );
}

/** The statement that schedules an activity. */
export function insertActivity(env: Cloudflare.Env, row: ActivityRow): InStatement {
  return stmt(getDb(env).insert(stationActivities).values(row));
}

/** An activity of a station, or null. */
export async function activityOf(
  env: Cloudflare.Env,
  stationId: string,
  activityId: string,
): Promise<ActivityRow | null> {
  const [row] = await getDb(env)
    .select()
    .from(stationActivities)
    .where(and(eq(stationActivities.id, activityId), eq(stationActivities.stationId, stationId)));
  return row ?? null;
}

/** Filters of a station's calendar. */
export interface CalendarFilter {
  stationId: string;
  from?: string;
  to?: string;
  kind?: ActivityKind;
  after: readonly [string, string] | null;
  limit: number;
}

/** A page of a station's calendar by scheduled time (`limit` rows at most). */
export function calendarPage(env: Cloudflare.Env, f: CalendarFilter) {
  const a = stationActivities;
  return getDb(env)
    .select()
    .from(a)
    .where(
      and(
        eq(a.stationId, f.stationId),
        f.from ? gte(a.scheduledAt, f.from) : undefined,
        f.to ? lt(a.scheduledAt, f.to) : undefined,
        f.kind ? eq(a.kind, f.kind) : undefined,
        f.after
          ? or(gt(a.scheduledAt, f.after[0]), and(eq(a.scheduledAt, f.after[0]), gt(a.id, f.after[1])))
          : undefined,
      ),
    )
    .orderBy(asc(a.scheduledAt), asc(a.id))
    .limit(f.limit);
}

/** Which of `userIds` are attached to the station. */
export async function attachedDeputies(
  env: Cloudflare.Env,
  stationId: string,
  userIds: readonly string[],
): Promise<Set<string>> {
  if (userIds.length === 0) return new Set();
  const rows = await getDb(env)
    .select({ id: contactProfiles.userId })
    .from(contactProfiles)
    .where(and(eq(contactProfiles.stationId, stationId), inArray(contactProfiles.userId, [...userIds])));
  return new Set(rows.map((r) => r.id));
}

/** The statement that records an activity's attendance and record. */
export function recordActivityStatement(
  env: Cloudflare.Env,
  activityId: string,
  attendance: readonly string[],
  record: string | null,
): InStatement {
  return stmt(
    getDb(env)
      .update(stationActivities)
      .set({ attendance: JSON.stringify(attendance), record })
      .where(eq(stationActivities.id, activityId)),
  );
}

/**
 * The matters an activity shows: a reception day's own; a reporting day's those raised at the reception days
 * after the previous reporting day, up to this one. Other days show none.
 */
export async function mattersOfActivity(env: Cloudflare.Env, activity: ActivityRow): Promise<MatterRow[]> {
  const db = getDb(env);
  const m = activityMatters;
  if (activity.kind === "reception") {
    return db.select().from(m).where(eq(m.activityId, activity.id)).orderBy(asc(m.createdAt), asc(m.id));
  }
  if (activity.kind !== "reporting") return [];
  const a = stationActivities;
  const previous = db
    .select({ at: sql<string>`max(${a.scheduledAt})` })
    .from(a)
    .where(
      and(
        eq(a.stationId, activity.stationId),
        eq(a.kind, "reporting"),
        lt(a.scheduledAt, activity.scheduledAt),
      ),
    );
  const since: SQL = sql`coalesce((${previous}), '')`;
  const rows = await db
    .select({ matter: m })
    .from(m)
    .innerJoin(a, eq(a.id, m.activityId))
    .where(
      and(
        eq(m.stationId, activity.stationId),
        lte(a.scheduledAt, activity.scheduledAt),
        gt(a.scheduledAt, since),
      ),
    )
    .orderBy(asc(a.scheduledAt), asc(m.createdAt), asc(m.id));
  return rows.map((r) => r.matter);
}

/** A matter by id, or null. */
export async function matterById(env: Cloudflare.Env, matterId: string): Promise<MatterRow | null> {
  const [row] = await getDb(env).select().from(activityMatters).where(eq(activityMatters.id, matterId));
  return row ?? null;
}

/** The statement that records a matter and its case; a repeat of the same id changes nothing. */
export function insertMatter(env: Cloudflare.Env, row: MatterRow): InStatement {
  return stmt(getDb(env).insert(activityMatters).values(row).onConflictDoNothing());
}
