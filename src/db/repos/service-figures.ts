import { and, gte, lt, sql } from "drizzle-orm";
import { subtreeRange } from "../../domain/units";
import type { Db } from "../../platform/db/client";
import { directiveReceipts, directives, leadSubsidyItems, partyPointEntries, users } from "../schema";

/** Receipt counts of the directives a subtree's units issued in `[start, end)`, and their median times. */
export interface DirectiveTotals {
  issued: number;
  receipts: number;
  acknowledged: number;
  completed: number;
  completedLate: number;
  overdue: number;
  minutesToAcknowledge: number | null;
  minutesToComplete: number | null;
}

const issuedIn = (lo: string, hi: string, start: string, end: string) =>
  and(
    gte(directives.issuerUnitPath, lo),
    lt(directives.issuerUnitPath, hi),
    gte(directives.createdAt, start),
    lt(directives.createdAt, end),
  );

/**
 * The median of a receipt duration (minutes from delivery to `column`) over the directives issued in the
 * period. Raw SQL: SQLite has no median, so one ORDER BY … LIMIT 1 OFFSET (n-1)/2 picks the lower middle.
 */
async function medianMinutes(
  db: Db,
  column: "acknowledged_at" | "completed_at",
  lo: string,
  hi: string,
  start: string,
  end: string,
): Promise<number | null> {
  const minutes = sql.raw(`(julianday(r.${column}) - julianday(r.delivered_at)) * 1440`);
  const from = sql`FROM directive_receipts r JOIN directives d ON d.id = r.directive_id
    WHERE d.issuer_unit_path >= ${lo} AND d.issuer_unit_path < ${hi} AND d.created_at >= ${start} AND d.created_at < ${end}
      AND ${sql.raw(`r.${column}`)} IS NOT NULL`;
  const rows = await db.all<{ m: number }>(sql`SELECT ${minutes} AS m ${from} ORDER BY m
    LIMIT 1 OFFSET (SELECT (count(*) - 1) / 2 ${from})`);
  return rows[0] ? Math.round(Number(rows[0].m)) : null;
}

/** Directive figures of the subtree `path` for the instants `[start, end)`. */
export async function directiveTotals(
  db: Db,
  path: string,
  start: string,
  end: string,
): Promise<DirectiveTotals> {
  const [lo, hi] = subtreeRange(path);
  const [issued, receipts, minutesToAcknowledge, minutesToComplete] = await Promise.all([
    db.$count(directives, issuedIn(lo, hi, start, end)),
    db
      .select({
        receipts: sql<number>`count(*)`.mapWith(Number),
        acknowledged: sql<number>`count(${directiveReceipts.acknowledgedAt})`.mapWith(Number),
        completed: sql<number>`count(${directiveReceipts.completedAt})`.mapWith(Number),
        completedLate: sql<number>`coalesce(sum(${directiveReceipts.completedLate}), 0)`.mapWith(Number),
        overdue: sql<number>`coalesce(sum(${directiveReceipts.state} = 'overdue'), 0)`.mapWith(Number),
      })
      .from(directiveReceipts)
      .innerJoin(directives, sql`${directives.id} = ${directiveReceipts.directiveId}`)
      .where(issuedIn(lo, hi, start, end)),
    medianMinutes(db, "acknowledged_at", lo, hi, start, end),
    medianMinutes(db, "completed_at", lo, hi, start, end),
  ]);
  return { issued, ...receipts[0]!, minutesToAcknowledge, minutesToComplete };
}

/** Party points recorded in `[start, end)` for the party members of the subtree `path`: sum and entries. */
export async function partyPointTotals(db: Db, path: string, start: string, end: string) {
  const [lo, hi] = subtreeRange(path);
  const [row] = await db
    .select({
      points: sql<number>`coalesce(sum(${partyPointEntries.points}), 0)`.mapWith(Number),
      entries: sql<number>`count(*)`.mapWith(Number),
      members: sql<number>`count(DISTINCT ${partyPointEntries.memberId})`.mapWith(Number),
    })
    .from(partyPointEntries)
    .innerJoin(users, sql`${users.id} = ${partyPointEntries.memberId}`)
    .where(
      and(
        gte(users.unitPath, lo),
        lt(users.unitPath, hi),
        gte(partyPointEntries.createdAt, start),
        lt(partyPointEntries.createdAt, end),
      ),
    );
  return row!;
}

/** Household-lead subsidy items that occurred in `[start, end)` in the subtree `path`: amount and count. */
export async function leadSubsidyTotals(db: Db, path: string, start: string, end: string) {
  const [lo, hi] = subtreeRange(path);
  const [row] = await db
    .select({
      amountFen: sql<number>`coalesce(sum(${leadSubsidyItems.amountFen}), 0)`.mapWith(Number),
      items: sql<number>`count(*)`.mapWith(Number),
      leads: sql<number>`count(DISTINCT ${leadSubsidyItems.leadId})`.mapWith(Number),
    })
    .from(leadSubsidyItems)
    .where(
      and(
        gte(leadSubsidyItems.unitPath, lo),
        lt(leadSubsidyItems.unitPath, hi),
        gte(leadSubsidyItems.occurredAt, start),
        lt(leadSubsidyItems.occurredAt, end),
      ),
    );
  return row!;
}
