import type { InStatement } from "@libsql/client/web";
import { and, desc, eq, gte, lt, or, type SQL, sql } from "drizzle-orm";
import { subtreeRange } from "../../domain/units";
import type { Db } from "../../platform/db/client";
import { stmt } from "../../platform/db/statements";
import { residents, residentTransferRequests } from "../schema";

export type TransferRequestRow = typeof residentTransferRequests.$inferSelect;
export type TransferState = TransferRequestRow["state"];

/** The resident holding an ID-number HMAC, or undefined. */
export async function findResidentByIdHmac(db: Db, idNumberHmac: string) {
  return db.select().from(residents).where(eq(residents.idNumberHmac, idNumberHmac)).get();
}

/** One transfer request by id, or undefined. */
export async function findTransferRequest(db: Db, id: string): Promise<TransferRequestRow | undefined> {
  return db.select().from(residentTransferRequests).where(eq(residentTransferRequests.id, id)).get();
}

/**
 * The insert of a pending request; changes no row when the same resident already has a pending request into
 * the same household (the partial unique index), so run it as a guard.
 */
export function insertTransferRequestStatement(db: Db, row: TransferRequestRow): InStatement {
  return stmt(db.insert(residentTransferRequests).values(row).onConflictDoNothing());
}

/** The decision of a pending request; changes no row when it was decided meanwhile (run it as a guard). */
export function decideTransferRequestStatement(
  db: Db,
  id: string,
  decision: { state: "approved" | "refused"; by: string; note: string | null; at: string },
): InStatement {
  return stmt(
    db
      .update(residentTransferRequests)
      .set({
        state: decision.state,
        decidedBy: decision.by,
        decidedAt: decision.at,
        decisionNote: decision.note,
        updatedAt: decision.at,
      })
      .where(and(eq(residentTransferRequests.id, id), eq(residentTransferRequests.state, "pending"))),
  );
}

/** What a list of transfer requests is filtered by. */
export interface TransferFilter {
  /** The caller: their own requests are always listed. */
  userId: string;
  /** The subtree whose requests the caller decides (null when they decide none). */
  decidesUnder: string | null;
  state?: TransferState;
  after: { createdAt: string; id: string } | null;
  limit: number;
}

/** Transfer requests the caller made or decides, newest first (`limit` rows at most). */
export async function listTransferRequests(db: Db, f: TransferFilter): Promise<TransferRequestRow[]> {
  const t = residentTransferRequests;
  const visible: SQL[] = [eq(t.requestedBy, f.userId)];
  if (f.decidesUnder) {
    const [lo, hi] = subtreeRange(f.decidesUnder);
    visible.push(and(gte(t.approverPath, lo), lt(t.approverPath, hi))!);
  }
  return db
    .select()
    .from(t)
    .where(
      and(
        or(...visible),
        f.state ? eq(t.state, f.state) : undefined,
        f.after ? sql`(${t.createdAt}, ${t.id}) < (${f.after.createdAt}, ${f.after.id})` : undefined,
      ),
    )
    .orderBy(desc(t.createdAt), desc(t.id))
    .limit(f.limit);
}
