import type { InStatement } from "@libsql/client/web";
import { and, asc, eq, isNotNull, isNull, lte } from "drizzle-orm";
import { ackEscalationTargets } from "../../domain/emergency-orders";
import type { Db } from "../../platform/db/client";
import { stmt } from "../../platform/db/statements";
import { directiveReceipts, directives } from "../schema";
import { insertInboxItemStatement } from "./inbox";

/** An emergency order's receipt whose acknowledgement deadline passed unacknowledged and unescalated. */
export interface MissedAck {
  directiveId: string;
  unitId: string;
  unitPath: string;
  ackDueAt: string;
  title: string;
  eventId: string | null;
}

/**
 * Open receipts past their acknowledgement deadline, not yet escalated, oldest deadline first: a range over the
 * partial index `directive_receipts_ack_due_idx` (migration 0650), which holds only such receipts.
 */
export async function missedAcks(db: Db, now: string, limit: number): Promise<MissedAck[]> {
  const rows = await db
    .select({
      directiveId: directiveReceipts.directiveId,
      unitId: directiveReceipts.unitId,
      unitPath: directiveReceipts.unitPath,
      ackDueAt: directiveReceipts.ackDueAt,
      title: directives.title,
      eventId: directives.eventId,
    })
    .from(directiveReceipts)
    .innerJoin(directives, eq(directives.id, directiveReceipts.directiveId))
    .where(
      and(
        isNotNull(directiveReceipts.ackDueAt),
        isNull(directiveReceipts.acknowledgedAt),
        isNull(directiveReceipts.ackEscalatedAt),
        lte(directiveReceipts.ackDueAt, now),
      ),
    )
    .orderBy(asc(directiveReceipts.ackDueAt))
    .limit(limit);
  return rows.map((r) => ({ ...r, ackDueAt: r.ackDueAt! }));
}

/**
 * The statements escalating one missed acknowledgement: an inbox item for the grid's village and town
 * centres (dedupe key per receipt and centre, so a repeat writes nothing), then the receipt marked escalated
 * (guarded, so it leaves the partial index once and for all).
 */
export async function escalateMissedAckStatements(db: Db, m: MissedAck, now: string): Promise<InStatement[]> {
  const items = await Promise.all(
    ackEscalationTargets(m.unitPath).map((t) =>
      insertInboxItemStatement({
        unitId: t.unitId,
        unitPath: t.unitPath,
        kind: "escalated",
        caseId: null,
        dedupeKey: `directive-ack-missed:${m.directiveId}:${m.unitId}:${t.unitId}`,
        payload: {
          title: `应急指令未按时签收：${m.title}`,
          directiveId: m.directiveId,
          emergency: m.eventId,
          gridId: m.unitId,
          ackDueAt: m.ackDueAt,
        },
        createdAt: now,
      }),
    ),
  );
  return [
    ...items,
    stmt(
      db
        .update(directiveReceipts)
        .set({ ackEscalatedAt: now })
        .where(
          and(
            eq(directiveReceipts.directiveId, m.directiveId),
            eq(directiveReceipts.unitId, m.unitId),
            isNull(directiveReceipts.ackEscalatedAt),
          ),
        ),
    ),
  ];
}

/**
 * Escalates up to `limit` missed acknowledgements in one write transaction; returns how many receipts were
 * escalated. A rerun finds none of them again (the mark) and the inbox dedupe keys make a repeat harmless.
 */
export async function escalateMissedAcks(db: Db, now: string, limit = 500): Promise<number> {
  const missed = await missedAcks(db, now, limit);
  if (!missed.length) return 0;
  const statements = (await Promise.all(missed.map((m) => escalateMissedAckStatements(db, m, now)))).flat();
  await db.$client.batch(statements, "write");
  return missed.length;
}
