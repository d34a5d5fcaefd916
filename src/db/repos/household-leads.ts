import type { InStatement } from "@libsql/client/web";
import { and, asc, eq, gt, gte, isNotNull, isNull, lt, type SQL } from "drizzle-orm";
import type { Db } from "../../platform/db/client";
import { stmt } from "../../platform/db/statements";
import {
  contactPairings,
  leadFlags,
  leadRatings,
  leadSubsidyItems,
  residents,
  unitSettings,
  users,
} from "../schema";
import { reportedCasesOfMonth } from "./cases";

export type SubsidyItemRow = typeof leadSubsidyItems.$inferSelect;
export type RatingRow = typeof leadRatings.$inferSelect;
export type FlagRow = typeof leadFlags.$inferSelect;

/** Sets a unit's setting, replacing the value it held. */
export function upsertSetting(db: Db, unitId: string, key: string, value: string, now: string): InStatement {
  return stmt(
    db
      .insert(unitSettings)
      .values({ unitId, key, value, updatedAt: now })
      .onConflictDoUpdate({
        target: [unitSettings.unitId, unitSettings.key],
        set: { value, updatedAt: now },
      }),
  );
}

/** A new subsidy item (an event, or a settled case); a case settled before leaves it unwritten (0 rows). */
export function insertSubsidyItem(db: Db, row: SubsidyItemRow): InStatement {
  return stmt(db.insert(leadSubsidyItems).values(row).onConflictDoNothing());
}

/** Whether a resident lives in one of the households the lead is actively paired with. */
export async function isLeadsResident(db: Db, leadId: string, residentId: string): Promise<boolean> {
  const [found] = await db
    .select({ id: residents.id })
    .from(residents)
    .innerJoin(contactPairings, eq(contactPairings.householdId, residents.householdId))
    .where(
      and(
        eq(residents.id, residentId),
        eq(contactPairings.contactId, leadId),
        eq(contactPairings.line, "household_lead"),
        isNull(contactPairings.endedAt),
      ),
    )
    .limit(1);
  return found !== undefined;
}

/** A new rating; a resident's second rating of the lead in one period leaves it unwritten (0 rows). */
export function insertRating(db: Db, row: RatingRow): InStatement {
  return stmt(db.insert(leadRatings).values(row).onConflictDoNothing());
}

/** The ratings a lead received in a period. */
export async function ratingsOf(db: Db, leadId: string, period: string): Promise<number[]> {
  const rows = await db
    .select({ rating: leadRatings.rating })
    .from(leadRatings)
    .where(and(eq(leadRatings.leadId, leadId), eq(leadRatings.period, period)));
  return rows.map((r) => r.rating);
}

/** What a lead's month statement is made of. */
export interface StatementRows {
  /** Cases the lead reported in the month or that were first accepted in it, as projected, by report time. */
  handled: Array<{ id: string; title: string; state: string; reportedAt: string; acceptedAt: string | null }>;
  /** The month's subsidy items (events and settled cases), by time. */
  items: SubsidyItemRow[];
  ratings: number[];
  openFlag: FlagRow | null;
}

/**
 * The rows of a lead's month statement, in one round trip. `range` is the lead's subtree and `bounds` the
 * month's instants `[from, to)`.
 */
export async function statementRows(
  db: Db,
  lead: { id: string },
  month: string,
  range: [string, string],
  bounds: [string, string],
): Promise<StatementRows> {
  const [handled, items, ratings, flags] = await db.batch([
    // A lead reports only inside their own subtree, so the owning path range bounds the scan.
    reportedCasesOfMonth(db, lead.id, range, bounds),
    db
      .select()
      .from(leadSubsidyItems)
      .where(and(eq(leadSubsidyItems.leadId, lead.id), eq(leadSubsidyItems.month, month)))
      .orderBy(asc(leadSubsidyItems.occurredAt), asc(leadSubsidyItems.id)),
    db
      .select({ rating: leadRatings.rating })
      .from(leadRatings)
      .where(and(eq(leadRatings.leadId, lead.id), eq(leadRatings.period, month))),
    db
      .select()
      .from(leadFlags)
      .where(and(eq(leadFlags.leadId, lead.id), isNull(leadFlags.clearedAt))),
  ]);
  return { handled, items, ratings: ratings.map((r) => r.rating), openFlag: flags[0] ?? null };
}

/** A new open flag; a lead already flagged leaves it unwritten (0 rows). */
export function insertFlag(db: Db, row: Omit<FlagRow, "clearedAt">): InStatement {
  return stmt(db.insert(leadFlags).values(row).onConflictDoNothing());
}

/** Clears a lead's open flag; changes no row when there is none. */
export function clearFlag(db: Db, leadId: string, now: string): InStatement {
  return stmt(
    db
      .update(leadFlags)
      .set({ clearedAt: now })
      .where(and(eq(leadFlags.leadId, leadId), isNull(leadFlags.clearedAt))),
  );
}

/** One household lead of a subtree, with their active households and open flag. */
export interface LeadSummaryRow {
  leadId: string;
  displayName: string;
  unitId: string;
  households: number;
  flag: Pick<FlagRow, "period" | "averageRating" | "reason" | "flaggedAt"> | null;
}

/**
 * A page of the household leads of the subtree `range`, by id after `afterId`; `flagged` keeps only those
 * with (true) or without (false) an open flag.
 */
export async function leadsOf(
  db: Db,
  range: [string, string],
  options: { flagged?: boolean; afterId: string | null; limit: number },
): Promise<LeadSummaryRow[]> {
  const conditions: Array<SQL | undefined> = [
    eq(users.role, "household_lead"),
    gte(users.unitPath, range[0]),
    lt(users.unitPath, range[1]),
    options.flagged === true ? isNotNull(leadFlags.leadId) : undefined,
    options.flagged === false ? isNull(leadFlags.leadId) : undefined,
    options.afterId === null ? undefined : gt(users.id, options.afterId),
  ];
  return db
    .select({
      leadId: users.id,
      displayName: users.displayName,
      unitId: users.unitId,
      households: db.$count(
        contactPairings,
        and(
          eq(contactPairings.contactId, users.id),
          eq(contactPairings.line, "household_lead"),
          isNull(contactPairings.endedAt),
        ),
      ),
      // Left-joined: null when the lead has no open flag.
      flag: {
        period: leadFlags.period,
        averageRating: leadFlags.averageRating,
        reason: leadFlags.reason,
        flaggedAt: leadFlags.flaggedAt,
      },
    })
    .from(users)
    .leftJoin(leadFlags, and(eq(leadFlags.leadId, users.id), isNull(leadFlags.clearedAt)))
    .where(and(...conditions))
    .orderBy(asc(users.id))
    .limit(options.limit);
}
