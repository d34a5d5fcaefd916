import type { InStatement } from "@libsql/client/web";
import { cityOfPath, type InboxKind } from "../../domain/escalation";
import { sha256Hex } from "../../platform/crypto/tokens";
import { type AuditEntry, writeAudited } from "../../platform/db/audit";
import type { Db } from "../../platform/db/client";

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

/** `INSERT OR IGNORE` of one inbox item: the unique dedupe key makes a redelivery a no-op. */
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

/** The statement that marks every open inbox item of a unit about a case as handled (and read). */
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
  const [unitRows, seenRows, cityRows] = await db.$client.batch(
    [
      {
        sql: `SELECT id, path FROM units WHERE id IN (${ids.map(() => "?").join(",") || "NULL"})`,
        args: ids,
      },
      {
        sql: `SELECT dedupe_key FROM inbox_items WHERE dedupe_key IN (${keys.map(() => "?").join(",")})`,
        args: keys,
      },
      "SELECT id, path FROM units WHERE parent_id IS NULL LIMIT 2",
    ],
    "read",
  );
  const paths = new Map(unitRows!.rows.map((r) => [String(r.id), String(r.path)]));
  const seen = new Set(seenRows!.rows.map((r) => String(r.dedupe_key)));
  const onlyCity = cityRows!.rows.length === 1 ? String(cityRows!.rows[0]!.path) : null;

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
