import type { InStatement } from "@libsql/client/web";
import { desc, eq } from "drizzle-orm";
import type { Db } from "../../platform/db/client";
import { stmt } from "../../platform/db/statements";
import { cases, contactCaseLinks, visits } from "../schema";

export type CaseLinkRow = Omit<typeof contactCaseLinks.$inferSelect, "unitPath">;

const linkColumns = {
  id: contactCaseLinks.id,
  contactId: contactCaseLinks.contactId,
  caseId: contactCaseLinks.caseId,
  kind: contactCaseLinks.kind,
  visitId: contactCaseLinks.visitId,
  note: contactCaseLinks.note,
  createdBy: contactCaseLinks.createdBy,
  createdAt: contactCaseLinks.createdAt,
};

/** What a link is checked against: the case as projected, and the visit (when one is named). */
export async function linkTargets(
  db: Db,
  caseId: string,
  visitId: string | null,
): Promise<{
  found: { type: string; owningPath: string; responsiblePath: string; doc: string } | null;
  visit: { householdId: string; visitor: string } | null;
}> {
  const caseQuery = db
    .select({
      type: cases.type,
      owningPath: cases.owningUnitPath,
      responsiblePath: cases.responsibleUnitPath,
      doc: cases.doc,
    })
    .from(cases)
    .where(eq(cases.id, caseId));
  if (!visitId) {
    const [found] = await caseQuery;
    return { found: found ?? null, visit: null };
  }
  const [found, visit] = await db.batch([
    caseQuery,
    db
      .select({ householdId: visits.householdId, visitor: visits.visitorUserId })
      .from(visits)
      .where(eq(visits.id, visitId)),
  ]);
  return { found: found[0] ?? null, visit: visit[0] ?? null };
}

/** A new link; one that exists for the same contact, case and kind leaves it unwritten (0 rows). */
export function insertLink(db: Db, row: CaseLinkRow & { unitPath: string }): InStatement {
  return stmt(db.insert(contactCaseLinks).values(row).onConflictDoNothing());
}

/** A contact's links, newest first (up to 200). */
export async function linksOf(db: Db, contactId: string): Promise<CaseLinkRow[]> {
  return db
    .select(linkColumns)
    .from(contactCaseLinks)
    .where(eq(contactCaseLinks.contactId, contactId))
    .orderBy(desc(contactCaseLinks.createdAt), desc(contactCaseLinks.id))
    .limit(200);
}
