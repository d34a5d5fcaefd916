import type { InStatement, ResultSet } from "@libsql/client/web";
import { and, asc, eq, sql } from "drizzle-orm";
import type { Db } from "../../platform/db/client";
import { stmt } from "../../platform/db/statements";
import {
  cases,
  contactCaseLinks,
  partyFulfilments,
  partyPledges,
  partyPointEntries,
  partyReviews,
  visits,
} from "../schema";

export type PledgeRow = Omit<typeof partyPledges.$inferSelect, "unitPath">;
export type FulfilmentRow = Omit<typeof partyFulfilments.$inferSelect, "unitPath">;
export type EntryRow = Omit<typeof partyPointEntries.$inferSelect, "memberId">;
export type ReviewRow = Omit<typeof partyReviews.$inferSelect, "unitPath">;
export type ReviewRating = ReviewRow["rating"];

const pledgeColumns = {
  id: partyPledges.id,
  memberId: partyPledges.memberId,
  year: partyPledges.year,
  text: partyPledges.text,
  target: partyPledges.target,
  dueDate: partyPledges.dueDate,
  createdAt: partyPledges.createdAt,
};
const fulfilmentColumns = {
  id: partyFulfilments.id,
  memberId: partyFulfilments.memberId,
  pledgeId: partyFulfilments.pledgeId,
  year: partyFulfilments.year,
  evidenceKind: partyFulfilments.evidenceKind,
  evidenceId: partyFulfilments.evidenceId,
  note: partyFulfilments.note,
  points: partyFulfilments.points,
  createdAt: partyFulfilments.createdAt,
  status: partyFulfilments.status,
  decidedBy: partyFulfilments.decidedBy,
  decidedAt: partyFulfilments.decidedAt,
};
const entryColumns = {
  seq: partyPointEntries.seq,
  year: partyPointEntries.year,
  points: partyPointEntries.points,
  reason: partyPointEntries.reason,
  sourceKind: partyPointEntries.sourceKind,
  sourceId: partyPointEntries.sourceId,
  createdBy: partyPointEntries.createdBy,
  createdAt: partyPointEntries.createdAt,
};
const reviewColumns = {
  id: partyReviews.id,
  memberId: partyReviews.memberId,
  year: partyReviews.year,
  rating: partyReviews.rating,
  note: partyReviews.note,
  reviewedBy: partyReviews.reviewedBy,
  createdAt: partyReviews.createdAt,
};

/** A new pledge. */
export function insertPledge(db: Db, row: PledgeRow & { unitPath: string }): InStatement {
  return stmt(db.insert(partyPledges).values(row));
}

/** A member's pledges (by due date) and fulfilments (by time) of a year. */
export async function pledgesOf(
  db: Db,
  memberId: string,
  year: number,
): Promise<{ pledges: PledgeRow[]; fulfilments: FulfilmentRow[] }> {
  const [pledges, fulfilments] = await db.batch([
    db
      .select(pledgeColumns)
      .from(partyPledges)
      .where(and(eq(partyPledges.memberId, memberId), eq(partyPledges.year, year)))
      .orderBy(asc(partyPledges.dueDate), asc(partyPledges.id)),
    db
      .select(fulfilmentColumns)
      .from(partyFulfilments)
      .where(and(eq(partyFulfilments.memberId, memberId), eq(partyFulfilments.year, year)))
      .orderBy(asc(partyFulfilments.createdAt), asc(partyFulfilments.id)),
  ]);
  return { pledges, fulfilments };
}

/** The year of a member's pledge, or null when the member has no such pledge. */
export async function pledgeYear(db: Db, pledgeId: string, memberId: string): Promise<number | null> {
  const [pledge] = await db
    .select({ year: partyPledges.year })
    .from(partyPledges)
    .where(and(eq(partyPledges.id, pledgeId), eq(partyPledges.memberId, memberId)))
    .limit(1);
  return pledge?.year ?? null;
}

/** A visit as evidence: who made it and when. */
export async function visitEvidence(
  db: Db,
  visitId: string,
): Promise<{ visitor: string; at: string } | null> {
  const [visit] = await db
    .select({ visitor: visits.visitorUserId, at: visits.visitedAt })
    .from(visits)
    .where(eq(visits.id, visitId))
    .limit(1);
  return visit ?? null;
}

/** A case as evidence (as projected), with the kinds of the member's contact logs linked to it. */
export async function caseEvidence(
  db: Db,
  memberId: string,
  caseId: string,
): Promise<{
  found: { type: string; reporterId: string; state: string; at: string } | null;
  links: string[];
}> {
  const [found, links] = await db.batch([
    db
      .select({ type: cases.type, reporterId: cases.reporterId, state: cases.state, at: cases.createdAt })
      .from(cases)
      .where(eq(cases.id, caseId)),
    db
      .select({ kind: contactCaseLinks.kind })
      .from(contactCaseLinks)
      .where(and(eq(contactCaseLinks.contactId, memberId), eq(contactCaseLinks.caseId, caseId))),
  ]);
  return { found: found[0] ?? null, links: links.map((l) => l.kind) };
}

/** A new pending fulfilment; one whose evidence the member already claimed leaves it unwritten (0 rows). */
export function insertFulfilment(db: Db, row: FulfilmentRow & { unitPath: string }): InStatement {
  return stmt(db.insert(partyFulfilments).values(row).onConflictDoNothing());
}

/** A member's fulfilment with its unit path, or null when the member has no such fulfilment. */
export async function fulfilmentOf(
  db: Db,
  fulfilmentId: string,
  memberId: string,
): Promise<(FulfilmentRow & { unitPath: string }) | null> {
  const [row] = await db
    .select({ ...fulfilmentColumns, unitPath: partyFulfilments.unitPath })
    .from(partyFulfilments)
    .where(and(eq(partyFulfilments.id, fulfilmentId), eq(partyFulfilments.memberId, memberId)))
    .limit(1);
  return row ?? null;
}

/** Decides a pending fulfilment; changes no row when it was decided already (by a concurrent request too). */
export function decideFulfilment(
  db: Db,
  fulfilmentId: string,
  decision: { status: "confirmed" | "rejected"; decidedBy: string; decidedAt: string },
): InStatement {
  return stmt(
    db
      .update(partyFulfilments)
      .set(decision)
      .where(and(eq(partyFulfilments.id, fulfilmentId), eq(partyFulfilments.status, "pending"))),
  );
}

/** A new ledger entry (the ledger is append-only); the statement returns its `seq`. */
export function insertEntry(db: Db, entry: Omit<typeof partyPointEntries.$inferInsert, "seq">): InStatement {
  return stmt(db.insert(partyPointEntries).values(entry).returning({ seq: partyPointEntries.seq }));
}

/** The `seq` an entry insert returned. */
export function insertedSeq(result: ResultSet): number {
  const seq = result.rows[0]?.seq;
  if (typeof seq !== "number") throw new Error("the ledger insert returned no seq");
  return seq;
}

/** The year of a member's ledger entry, or null when the member has no such entry. */
export async function entryYear(db: Db, seq: number, memberId: string): Promise<number | null> {
  const [entry] = await db
    .select({ year: partyPointEntries.year })
    .from(partyPointEntries)
    .where(and(eq(partyPointEntries.seq, seq), eq(partyPointEntries.memberId, memberId)))
    .limit(1);
  return entry?.year ?? null;
}

/** A member's ledger of a year, in order, and the year's review (null when none). */
export async function ledgerOf(
  db: Db,
  memberId: string,
  year: number,
): Promise<{ entries: EntryRow[]; review: ReviewRow | null }> {
  const [entries, reviews] = await db.batch([
    db
      .select(entryColumns)
      .from(partyPointEntries)
      .where(and(eq(partyPointEntries.memberId, memberId), eq(partyPointEntries.year, year)))
      .orderBy(asc(partyPointEntries.seq)),
    db
      .select(reviewColumns)
      .from(partyReviews)
      .where(and(eq(partyReviews.memberId, memberId), eq(partyReviews.year, year))),
  ]);
  return { entries, review: reviews[0] ?? null };
}

/** A new review; a member's second review of a year leaves it unwritten (0 rows). */
export function insertReview(db: Db, row: ReviewRow & { unitPath: string }): InStatement {
  return stmt(db.insert(partyReviews).values(row).onConflictDoNothing());
}

/** One member's place in a subtree's ranking. */
export interface RankedRow {
  rank: number;
  memberId: string;
  displayName: string;
  unitId: string;
  total: number;
  review: ReviewRating | null;
}

/**
 * A page of the party members of the subtree `[lo, hi)` ranked by their points of a year (members without
 * entries rank with 0), highest first, ties by member id, after the keyset position `after`.
 */
export async function rankMembers(
  db: Db,
  range: [string, string],
  year: number,
  after: { total: number; memberId: string } | null,
  limit: number,
): Promise<RankedRow[]> {
  const [lo, hi] = range;
  // Raw: RANK() runs over the whole subtree before the page is cut, so a later page keeps the first's ranks.
  return db.all<RankedRow>(sql`
    WITH totals AS (
      SELECT u.id AS memberId, u.display_name AS displayName, u.unit_id AS unitId,
        coalesce((SELECT sum(e.points) FROM party_point_entries e WHERE e.member_id = u.id AND e.year = ${year}), 0) AS total
      FROM users u WHERE u.role = 'party_member' AND u.unit_path >= ${lo} AND u.unit_path < ${hi}
    ), ranked AS (SELECT *, RANK() OVER (ORDER BY total DESC) AS rank FROM totals)
    SELECT r.rank, r.memberId, r.displayName, r.unitId, r.total,
      (SELECT rating FROM party_reviews v WHERE v.member_id = r.memberId AND v.year = ${year}) AS review
    FROM ranked r
    WHERE ${after === null ? sql`1` : sql`r.total < ${after.total} OR (r.total = ${after.total} AND r.memberId > ${after.memberId})`}
    ORDER BY r.total DESC, r.memberId LIMIT ${limit}`);
}
