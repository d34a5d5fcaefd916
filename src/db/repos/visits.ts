import type { InStatement } from "@libsql/client/web";
import { and, desc, eq, sql } from "drizzle-orm";
import type { Cadence } from "../../domain/service-plan";
import type { Db } from "../../platform/db/client";
import { stmt } from "../../platform/db/statements";
import { visits } from "../schema";

export type VisitRow = typeof visits.$inferSelect;

/** Records a contact with a household. */
export function insertVisitStatement(db: Db, visit: VisitRow): InStatement {
  return stmt(db.insert(visits).values(visit));
}

/**
 * Moves a household's last contact and next due date after a contact at `at`: the due date is one cadence
 * (of the class in force at `now`) after the latest of the contacts and the class's start.
 */
export function touchHouseholdStatement(
  householdId: string,
  at: string,
  now: string,
  cadence: Cadence,
): InStatement {
  const days = `(CASE (CASE WHEN override_class IS NOT NULL AND override_until > :now THEN override_class ELSE computed_class END)
                  WHEN 'green' THEN :g WHEN 'yellow' THEN :y ELSE :r END)`;
  // Raw: the due date is computed from the stored class and last contact in the write itself, so a contact
  // recorded while the class changes is scheduled on what is stored, not on what was read.
  return {
    sql: `UPDATE households SET
            next_visit_due = CASE WHEN ${days} IS NULL THEN NULL
              ELSE strftime('%Y-%m-%dT%H:%M:%fZ', max(coalesce(last_visit_at, ''), :at, class_since), '+' || ${days} || ' days') END,
            last_visit_at = max(coalesce(last_visit_at, ''), :at),
            version = version + 1, updated_at = :now
          WHERE id = :id`,
    args: { id: householdId, at, now, g: cadence.green, y: cadence.yellow, r: cadence.red },
  };
}

/** A page of a household's contacts, newest first (`limit` rows at most). */
export async function listVisits(
  db: Db,
  householdId: string,
  after: { visitedAt: string; id: string } | null,
  limit: number,
): Promise<VisitRow[]> {
  return db
    .select()
    .from(visits)
    .where(
      and(
        eq(visits.householdId, householdId),
        after ? sql`(${visits.visitedAt}, ${visits.id}) < (${after.visitedAt}, ${after.id})` : undefined,
      ),
    )
    .orderBy(desc(visits.visitedAt), desc(visits.id))
    .limit(limit);
}
