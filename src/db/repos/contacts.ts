import type { InStatement } from "@libsql/client/web";
import {
  and,
  asc,
  count,
  countDistinct,
  eq,
  gt,
  gte,
  inArray,
  isNull,
  lt,
  notExists,
  sql,
} from "drizzle-orm";
import { pathIds, subtreeRange } from "../../domain/units";
import { type Db, getDb } from "../../platform/db/client";
import { stmt } from "../../platform/db/statements";
import {
  contactPairings,
  contactProfiles,
  householdClassCounts,
  householdHelpers,
  households,
  unitSettings,
  units,
  users,
} from "../schema";
import type { UnitPlace } from "./unit-lookup";

/** A user and where they sit in the tree: what the three lines' scope checks and writes need. */
export interface UserPlace {
  id: string;
  role: string;
  displayName: string;
  unitId: string;
  unitPath: string;
}

export type PairingRow = Pick<
  typeof contactPairings.$inferSelect,
  "id" | "contactId" | "householdId" | "line" | "since" | "endedAt"
>;
export type ProfileRow = Pick<
  typeof contactProfiles.$inferSelect,
  "partyBranch" | "branchUnitId" | "deputyLevel" | "stationId"
>;

const pairingColumns = {
  id: contactPairings.id,
  contactId: contactPairings.contactId,
  householdId: contactPairings.householdId,
  line: contactPairings.line,
  since: contactPairings.since,
  endedAt: contactPairings.endedAt,
};

/** A user's place, or null when there is none. */
export async function findUser(env: Cloudflare.Env, id: string): Promise<UserPlace | null> {
  const [user] = await getDb(env)
    .select({
      id: users.id,
      role: users.role,
      displayName: users.displayName,
      unitId: users.unitId,
      unitPath: users.unitPath,
    })
    .from(users)
    .where(eq(users.id, id))
    .limit(1);
  return user ?? null;
}

/** Unit settings with `keys` on the path of a unit (the unit and its ancestors), with each unit's depth. */
export async function settingsOnPath(
  db: Db,
  unitPath: string,
  keys: readonly string[],
): Promise<Array<{ depth: number; key: string; value: string }>> {
  return db
    .select({ depth: units.depth, key: unitSettings.key, value: unitSettings.value })
    .from(unitSettings)
    .innerJoin(units, eq(units.id, unitSettings.unitId))
    .where(and(inArray(unitSettings.unitId, pathIds(unitPath)), inArray(unitSettings.key, [...keys])));
}

/** A party member's branch unit (from the profile; the member's own unit when none is set). */
export async function branchOf(
  db: Db,
  member: UserPlace,
): Promise<{ unitId: string; path: string; name: string | null }> {
  const [branch] = await db
    .select({ unitId: units.id, path: units.path, name: contactProfiles.partyBranch })
    .from(contactProfiles)
    .innerJoin(units, eq(units.id, contactProfiles.branchUnitId))
    .where(eq(contactProfiles.userId, member.id))
    .limit(1);
  return branch ?? { unitId: member.unitId, path: member.unitPath, name: null };
}

/**
 * Creates or updates a contact's profile: a field left out keeps its stored value.
 */
export function upsertProfile(
  db: Db,
  user: UserPlace & { role: (typeof contactProfiles.$inferInsert)["line"] },
  fields: Pick<typeof contactProfiles.$inferInsert, "partyBranch" | "branchUnitId" | "deputyLevel">,
  now: string,
): InStatement {
  // `excluded.<column>` (the row the insert proposed) has no query-builder spelling.
  const keep = (column: string) => sql.raw(`coalesce(excluded.${column}, ${column})`);
  return stmt(
    db
      .insert(contactProfiles)
      .values({
        userId: user.id,
        line: user.role,
        unitId: user.unitId,
        unitPath: user.unitPath,
        partyBranch: fields.partyBranch ?? null,
        branchUnitId: fields.branchUnitId ?? null,
        deputyLevel: fields.deputyLevel ?? null,
        updatedAt: now,
      })
      .onConflictDoUpdate({
        target: contactProfiles.userId,
        set: {
          partyBranch: keep("party_branch"),
          branchUnitId: keep("branch_unit_id"),
          deputyLevel: keep("deputy_level"),
          updatedAt: now,
        },
      }),
  );
}

/** A contact's profile fields (null when none is stored) and active pairings, oldest first. */
export async function profileOf(
  db: Db,
  userId: string,
): Promise<{ profile: ProfileRow | null; pairings: PairingRow[] }> {
  const [profiles, pairings] = await db.batch([
    db
      .select({
        partyBranch: contactProfiles.partyBranch,
        branchUnitId: contactProfiles.branchUnitId,
        deputyLevel: contactProfiles.deputyLevel,
        stationId: contactProfiles.stationId,
      })
      .from(contactProfiles)
      .where(eq(contactProfiles.userId, userId)),
    db
      .select(pairingColumns)
      .from(contactPairings)
      .where(and(eq(contactPairings.contactId, userId), isNull(contactPairings.endedAt)))
      .orderBy(asc(contactPairings.since), asc(contactPairings.id)),
  ]);
  return { profile: profiles[0] ?? null, pairings };
}

/** The households among `ids` (their paths), and which of them the contact is already actively paired with. */
export async function householdsForPairing(
  db: Db,
  contactId: string,
  ids: string[],
): Promise<{ paths: Map<string, string>; paired: Set<string> }> {
  const [found, active] = await db.batch([
    db
      .select({ id: households.id, unitPath: households.unitPath })
      .from(households)
      .where(inArray(households.id, ids)),
    db
      .select({ householdId: contactPairings.householdId })
      .from(contactPairings)
      .where(
        and(
          eq(contactPairings.contactId, contactId),
          inArray(contactPairings.householdId, ids),
          isNull(contactPairings.endedAt),
        ),
      ),
  ]);
  return {
    paths: new Map(found.map((h) => [h.id, h.unitPath])),
    paired: new Set(active.map((p) => p.householdId)),
  };
}

/** A new active pairing; a concurrent one for the same contact and household leaves it unwritten (0 rows). */
export function insertPairing(
  db: Db,
  row: PairingRow & { unitPath: string; createdBy: string },
): InStatement {
  return stmt(db.insert(contactPairings).values(row).onConflictDoNothing());
}

/** The contact's active pairing with a household, or null. */
export async function activePairing(
  db: Db,
  contactId: string,
  householdId: string,
): Promise<{ id: string; unitPath: string } | null> {
  const [pairing] = await db
    .select({ id: contactPairings.id, unitPath: contactPairings.unitPath })
    .from(contactPairings)
    .where(
      and(
        eq(contactPairings.contactId, contactId),
        eq(contactPairings.householdId, householdId),
        isNull(contactPairings.endedAt),
      ),
    )
    .limit(1);
  return pairing ?? null;
}

/** Ends an active pairing; changes no row when it has already ended. */
export function endPairing(db: Db, id: string, endedBy: string, now: string): InStatement {
  return stmt(
    db
      .update(contactPairings)
      .set({ endedAt: now, endedBy })
      .where(and(eq(contactPairings.id, id), isNull(contactPairings.endedAt))),
  );
}

/** The counts behind a subtree's coverage figures. */
export interface CoverageCounts {
  byClass: Record<string, number>;
  coveredByLine: Record<string, number>;
  anyCovered: number;
  redWithoutHelper: string[];
  overloaded: Array<{ contactId: string; displayName: string; role: string; households: number }>;
}

/**
 * Counts a subtree's households per class, households covered per line and by any line, red households
 * without an active helper, and contacts with more than `max` active pairings — in one round trip.
 */
export async function coverageCounts(db: Db, unit: UnitPlace, max: number): Promise<CoverageCounts> {
  const [lo, hi] = subtreeRange(unit.path);
  const active = and(
    isNull(contactPairings.endedAt),
    gte(contactPairings.unitPath, lo),
    lt(contactPairings.unitPath, hi),
  );
  const [classes, lines, anyLine, red, over] = await db.batch([
    // Households are counted per village: a grid's subtree (20–30 households) is counted directly.
    unit.level === "grid"
      ? db
          .select({ cls: households.class, n: count() })
          .from(households)
          .where(and(gte(households.unitPath, lo), lt(households.unitPath, hi)))
          .groupBy(households.class)
      : db
          .select({
            cls: householdClassCounts.class,
            n: sql<number>`sum(${householdClassCounts.n})`.mapWith(Number),
          })
          .from(householdClassCounts)
          .where(and(gte(householdClassCounts.unitPath, lo), lt(householdClassCounts.unitPath, hi)))
          .groupBy(householdClassCounts.class),
    db
      .select({ line: contactPairings.line, n: countDistinct(contactPairings.householdId) })
      .from(contactPairings)
      .where(active)
      .groupBy(contactPairings.line),
    db
      .select({ n: countDistinct(contactPairings.householdId) })
      .from(contactPairings)
      .where(active),
    db
      .select({ id: households.id })
      .from(households)
      .where(
        and(
          gte(households.unitPath, lo),
          lt(households.unitPath, hi),
          eq(households.class, "red"),
          notExists(
            db
              .select({ one: sql`1` })
              .from(householdHelpers)
              .where(and(eq(householdHelpers.householdId, households.id), isNull(householdHelpers.until))),
          ),
        ),
      )
      .orderBy(asc(households.id)),
    db
      .select({
        contactId: contactPairings.contactId,
        displayName: users.displayName,
        role: users.role,
        households: count(),
      })
      .from(contactPairings)
      .innerJoin(users, eq(users.id, contactPairings.contactId))
      .where(and(isNull(contactPairings.endedAt), gte(users.unitPath, lo), lt(users.unitPath, hi)))
      .groupBy(contactPairings.contactId)
      .having(gt(count(), max)),
  ]);
  return {
    byClass: Object.fromEntries(classes.map((r) => [r.cls, r.n])),
    coveredByLine: Object.fromEntries(lines.map((r) => [r.line, r.n])),
    anyCovered: anyLine[0]?.n ?? 0,
    redWithoutHelper: red.map((r) => r.id),
    overloaded: over,
  };
}

/** Whether the contact is actively paired with any of `householdIds`. */
export async function pairedWithAny(
  db: Db,
  contactId: string,
  householdIds: readonly string[],
): Promise<boolean> {
  if (householdIds.length === 0) return false;
  const [found] = await db
    .select({ id: contactPairings.id })
    .from(contactPairings)
    .where(
      and(
        eq(contactPairings.contactId, contactId),
        inArray(contactPairings.householdId, [...householdIds]),
        isNull(contactPairings.endedAt),
      ),
    )
    .limit(1);
  return found !== undefined;
}
