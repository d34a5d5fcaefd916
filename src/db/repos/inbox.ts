import type { InStatement } from "@libsql/client/web";
import { and, desc, eq, inArray, isNotNull, isNull, lt, or, type SQL, sql } from "drizzle-orm";
import { cityOfPath, type InboxKind } from "../../domain/escalation";
import { sha256Hex } from "../../platform/crypto/tokens";
import { type AuditEntry, writeAudited } from "../../platform/db/audit";
import { type Db, getDb } from "../../platform/db/client";
import { stmt } from "../../platform/db/statements";
import { inboxItems, units } from "../schema";

/** One inbox item to write. */
export interface NewInboxItem {
  unitId: string;
  unitPath: string;
  kind: InboxKind;
  caseId: string | null;
  dedupeKey: string;
  payload: Record<string, unknown>;
  createdAt: string;
}

/**
 * The id of the inbox item for a dedupe key: a UUID derived from its SHA-256, so writing the same item twice,
 * in any order, yields byte-identical rows.
 */
export async function inboxItemId(dedupeKey: string): Promise<string> {
  const h = await sha256Hex(`inbox:${dedupeKey}`);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((Number.parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * `INSERT OR IGNORE` of one inbox item: the unique dedupe key makes a redelivery a no-op. Raw SQL because it
 * is built without a database handle, for the consumers' own batches.
 */
export async function insertInboxItemStatement(item: NewInboxItem): Promise<InStatement> {
  return {
    sql: `INSERT OR IGNORE INTO inbox_items (id, unit_id, unit_path, kind, case_id, dedupe_key, payload, created_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    args: [
      await inboxItemId(item.dedupeKey),
      item.unitId,
      item.unitPath,
      item.kind,
      item.caseId,
      item.dedupeKey,
      JSON.stringify(item.payload),
      item.createdAt,
    ],
  };
}

/** An inbox item as stored, its payload parsed. */
export interface InboxItem {
  id: string;
  unitId: string;
  kind: InboxKind;
  caseId: string | null;
  payload: Record<string, unknown>;
  createdAt: string;
  readAt: string | null;
  handledAt: string | null;
}

/** Inbox states a list can filter on. */
export const INBOX_STATES = ["unread", "read", "open", "handled"] as const;
export type InboxState = (typeof INBOX_STATES)[number];

const STATE_WHERE: Record<InboxState, () => SQL | undefined> = {
  unread: () => and(isNull(inboxItems.readAt), isNull(inboxItems.handledAt)),
  read: () => and(isNotNull(inboxItems.readAt), isNull(inboxItems.handledAt)),
  open: () => isNull(inboxItems.handledAt),
  handled: () => isNotNull(inboxItems.handledAt),
};

/** Filters and keyset position of an inbox page. */
export interface InboxQuery {
  kind?: InboxKind;
  state?: InboxState;
  /** `(createdAt, id)` of the last item of the previous page. */
  after: readonly [string, string] | null;
  limit: number;
}

/** A unit's inbox items, newest first. */
export async function inboxPage(env: Cloudflare.Env, unitId: string, q: InboxQuery): Promise<InboxItem[]> {
  const rows = await getDb(env)
    .select({
      id: inboxItems.id,
      unitId: inboxItems.unitId,
      kind: inboxItems.kind,
      caseId: inboxItems.caseId,
      payload: inboxItems.payload,
      createdAt: inboxItems.createdAt,
      readAt: inboxItems.readAt,
      handledAt: inboxItems.handledAt,
    })
    .from(inboxItems)
    .where(
      and(
        eq(inboxItems.unitId, unitId),
        q.kind ? eq(inboxItems.kind, q.kind) : undefined,
        q.state ? STATE_WHERE[q.state]() : undefined,
        q.after
          ? or(
              lt(inboxItems.createdAt, q.after[0]),
              and(eq(inboxItems.createdAt, q.after[0]), lt(inboxItems.id, q.after[1])),
            )
          : undefined,
      ),
    )
    .orderBy(desc(inboxItems.createdAt), desc(inboxItems.id))
    .limit(q.limit);
  return rows.map((r) => ({ ...r, payload: JSON.parse(r.payload) as Record<string, unknown> }));
}

/**
 * The UPDATE that marks a unit's items read or handled (handled implies read), RETURNING the ids it changed:
 * items of other units and items already so marked are left alone.
 */
export function markInboxItemsStatement(
  db: Db,
  unitId: string,
  ids: readonly string[],
  as: "read" | "handled",
  at: string,
): InStatement {
  const mine = and(eq(inboxItems.unitId, unitId), inArray(inboxItems.id, [...ids]));
  const change =
    as === "read"
      ? db
          .update(inboxItems)
          .set({ readAt: at })
          .where(and(mine, isNull(inboxItems.readAt), isNull(inboxItems.handledAt)))
      : db
          .update(inboxItems)
          .set({ handledAt: at, readAt: sql`COALESCE(${inboxItems.readAt}, ${at})` })
          .where(and(mine, isNull(inboxItems.handledAt)));
  return stmt(change.returning({ id: inboxItems.id }));
}

/**
 * The statement that marks every open inbox item of a unit about a case as handled (and read). Raw SQL
 * because it is built without a database handle, for the projection consumer's own transaction.
 */
export function markInboxHandledForCaseStatement(unitId: string, caseId: string, at: string): InStatement {
  return {
    sql: `UPDATE inbox_items SET handled_at = ?, read_at = COALESCE(read_at, ?)
          WHERE unit_id = ? AND case_id = ? AND handled_at IS NULL`,
    args: [at, at, unitId, caseId],
  };
}

/**
 * Marks a unit's open inbox items about a case as handled: call it when the centre acts on the case (accepts,
 * dispatches, escalates, resolves…). Returns how many items it marked.
 *
 * @example
 * await markInboxHandledForCase(db, village.id, caseId);
 */
export async function markInboxHandledForCase(
  db: Db,
  unitId: string,
  caseId: string,
  at: string = new Date().toISOString(),
): Promise<number> {
  const result = await db.$client.execute(markInboxHandledForCaseStatement(unitId, caseId, at));
  return result.rowsAffected;
}

/** A message that exhausted its retries, to be recorded. */
export interface DeadLetter {
  queue: string;
  messageId: string;
  attempts: number;
  body: unknown;
  /** Audit action, e.g. `escalation.dead-letter`. */
  action: string;
  objectType: string;
  objectId: string | null;
  caseId: string | null;
  /** Units the letter concerns, most relevant first; the first one known to the registry places the alert. */
  unitIds: string[];
  /** Put the alert in the inbox of that unit's city centre (`city`), or of the unit itself (`unit`). */
  alertAt: "city" | "unit";
  summary: Record<string, unknown>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Records dead letters: one failed audit row each and an `alert` inbox item (keyed by queue and message id, so
 * a redelivered dead letter adds nothing), all in one audited transaction. When no unit of a letter is known,
 * the alert goes to the only city if there is exactly one; the audit row is written regardless.
 */
export async function recordDeadLetters(db: Db, letters: readonly DeadLetter[]): Promise<void> {
  if (letters.length === 0) return;
  const ids = [...new Set(letters.flatMap((l) => l.unitIds).filter((id) => UUID.test(id)))];
  const keys = letters.map((l) => `alert:${l.queue}:${l.messageId}`);
  const [unitRows, seenRows, cityRows] = await db.batch([
    db
      .select({ id: units.id, path: units.path })
      .from(units)
      .where(inArray(units.id, ids.length ? ids : [""])),
    db
      .select({ dedupeKey: inboxItems.dedupeKey })
      .from(inboxItems)
      .where(inArray(inboxItems.dedupeKey, keys)),
    db.select({ id: units.id, path: units.path }).from(units).where(isNull(units.parentId)).limit(2),
  ]);
  const paths = new Map(unitRows.map((r) => [r.id, r.path]));
  const seen = new Set(seenRows.map((r) => r.dedupeKey));
  const onlyCity = cityRows.length === 1 ? cityRows[0]!.path : null;

  const statements: InStatement[] = [];
  const audits: AuditEntry[] = [];
  for (const [i, letter] of letters.entries()) {
    const key = keys[i]!;
    if (seen.has(key)) continue;
    seen.add(key);
    const unitPath = letter.unitIds.map((id) => paths.get(id)).find((p) => p !== undefined) ?? null;
    let alertPath: string | null = onlyCity;
    if (unitPath !== null) {
      alertPath = letter.alertAt === "unit" ? unitPath : `/${cityOfPath(unitPath)}/`;
    }
    const detail = {
      queue: letter.queue,
      messageId: letter.messageId,
      attempts: letter.attempts,
      ...letter.summary,
      body: JSON.stringify(letter.body ?? null).slice(0, 4000),
    };
    audits.push({
      actorId: null,
      actorRole: null,
      scopePath: unitPath ?? alertPath ?? "/",
      action: letter.action,
      objectType: letter.objectType,
      objectId: letter.objectId,
      outcome: "failure",
      requestId: null,
      detail,
    });
    if (alertPath !== null) {
      const alertUnitId = alertPath.split("/").filter(Boolean).pop()!;
      statements.push(
        await insertInboxItemStatement({
          unitId: alertUnitId,
          unitPath: alertPath,
          kind: "alert",
          caseId: letter.caseId,
          dedupeKey: key,
          payload: { alert: letter.action, ...detail },
          createdAt: new Date().toISOString(),
        }),
      );
    }
  }
  if (audits.length === 0) return;
  await writeAudited(db, statements, audits);
}
