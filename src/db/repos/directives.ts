import type { InStatement } from "@libsql/client/web";
import { FANOUT_CHUNK, foldCounts, OPEN_RECEIPT_STATES } from "../../domain/directives";
import { subtreeRange } from "../../domain/units";
import type { Db } from "../../platform/db/client";

/** One fan-out job on the `directives` queue: a keyset range of target units, or a list of named ones. */
export type FanoutMessage =
  | { kind: "directive-fanout"; directiveId: string; levels: string[]; from: string; to: string }
  | { kind: "directive-fanout"; directiveId: string; unitIds: string[] };

/** Named target units per fan-out message (keeps a message far below the 128 KB limit). */
const IDS_PER_MESSAGE = 1_000;

/** The stored directive a fan-out needs. */
export interface FanoutDirective {
  id: string;
  issuerUnitPath: string;
  targetUnitIds: string[] | null;
  targetLevels: string[] | null;
}

const OPEN_STATES_SQL = OPEN_RECEIPT_STATES.map((s) => `'${s}'`).join(", ");

/**
 * Counts the units of `levels` under `issuerPath` and cuts them, in path order, into keyset ranges of
 * `FANOUT_CHUNK` units: one query that returns one row per range, not one per unit.
 */
export async function levelFanoutPlan(
  db: Db,
  directiveId: string,
  issuerPath: string,
  levels: string[],
  chunk = FANOUT_CHUNK,
): Promise<{ count: number; messages: FanoutMessage[] }> {
  const [lo, hi] = subtreeRange(issuerPath);
  const rs = await db.$client.execute({
    sql: `SELECT path, rn, total FROM (
            SELECT path, row_number() OVER (ORDER BY path) - 1 AS rn, count(*) OVER () AS total
            FROM units WHERE path > ? AND path < ? AND level IN (SELECT value FROM json_each(?))
          ) WHERE rn % ? = 0 ORDER BY path`,
    args: [lo, hi, JSON.stringify(levels), chunk],
  });
  const starts = rs.rows.map((r) => String(r.path));
  const count = rs.rows.length ? Number(rs.rows[0]!.total) : 0;
  const messages: FanoutMessage[] = starts.map((from, i) => ({
    kind: "directive-fanout",
    directiveId,
    levels,
    from,
    to: starts[i + 1] ?? hi,
  }));
  return { count, messages };
}

/** Fan-out messages for named target units, `IDS_PER_MESSAGE` per message. */
export function unitFanoutPlan(directiveId: string, unitIds: string[]): FanoutMessage[] {
  const messages: FanoutMessage[] = [];
  for (let i = 0; i < unitIds.length; i += IDS_PER_MESSAGE) {
    messages.push({ kind: "directive-fanout", directiveId, unitIds: unitIds.slice(i, i + IDS_PER_MESSAGE) });
  }
  return messages;
}

/** The fan-out messages of a stored directive (used again by the watchdog when a send was lost). */
export async function fanoutPlan(db: Db, d: FanoutDirective): Promise<FanoutMessage[]> {
  if (d.targetUnitIds) return unitFanoutPlan(d.id, d.targetUnitIds);
  return (await levelFanoutPlan(db, d.id, d.issuerUnitPath, d.targetLevels ?? [])).messages;
}

/**
 * The set-based INSERT of one fan-out message's receipts. INSERT OR IGNORE on (directive, unit) makes a
 * redelivered message harmless; the issuer's path bounds every range so nothing outside its subtree is hit.
 */
export function receiptInsert(message: FanoutMessage, deliveredAt: string): InStatement {
  const columns = `INSERT OR IGNORE INTO directive_receipts
      (directive_id, unit_id, unit_path, level, grid_level, state, due_at, delivered_at)
    SELECT d.id, u.id, u.path, u.level, u.grid_level, 'delivered', d.due_at, ?
    FROM directives d JOIN units u`;
  if ("unitIds" in message) {
    return {
      sql: `${columns} ON u.id IN (SELECT value FROM json_each(?))
            WHERE d.id = ? AND u.path > d.issuer_unit_path AND substr(u.path, 1, length(d.issuer_unit_path)) = d.issuer_unit_path`,
      args: [deliveredAt, JSON.stringify(message.unitIds), message.directiveId],
    };
  }
  return {
    sql: `${columns} ON u.path >= ? AND u.path < ? AND u.level IN (SELECT value FROM json_each(?))
          WHERE d.id = ? AND u.path > d.issuer_unit_path AND substr(u.path, 1, length(d.issuer_unit_path)) = d.issuer_unit_path`,
    args: [deliveredAt, message.from, message.to, JSON.stringify(message.levels), message.directiveId],
  };
}

/** Completion counts of a directive's receipts inside `scopePath`, by level: one GROUP BY over a covering index. */
export async function receiptCounts(db: Db, directiveId: string, scopePath: string) {
  const [lo, hi] = subtreeRange(scopePath);
  const rs = await db.$client.execute({
    sql: `SELECT level, grid_level AS gridLevel, state, count(*) AS n FROM directive_receipts
          WHERE directive_id = ? AND unit_path >= ? AND unit_path < ?
          GROUP BY level, grid_level, state`,
    args: [directiveId, lo, hi],
  });
  return foldCounts(
    rs.rows.map((r) => ({
      level: String(r.level),
      gridLevel: r.gridLevel === null ? null : Number(r.gridLevel),
      state: String(r.state),
      n: Number(r.n),
    })),
  );
}

/**
 * A directive row (selected by `directiveSql`) and its whole receipt counts from the trigger-kept counters,
 * in one round trip.
 */
export async function directiveWithCounts(db: Db, directiveSql: string, directiveId: string) {
  const [directive, counters] = await db.$client.batch(
    [
      { sql: directiveSql, args: [directiveId] },
      {
        sql: `SELECT level, grid_level AS gridLevel, state, n FROM directive_receipt_counts
              WHERE directive_id = ? AND n > 0`,
        args: [directiveId],
      },
    ],
    "read",
  );
  return {
    row: directive!.rows[0] as Record<string, unknown> | undefined,
    counts: foldCounts(
      counters!.rows.map((r) => ({
        level: String(r.level),
        gridLevel: Number(r.gridLevel),
        state: String(r.state),
        n: Number(r.n),
      })),
    ),
  };
}

/**
 * Marks open receipts past their due time as overdue and raises one reminder for each, at most `limit` per
 * call, in one write transaction. A range over the partial due-time index: never a scan of all receipts.
 * Returns how many receipts became overdue.
 */
export async function markOverdueReceipts(db: Db, now: string, limit = 5_000): Promise<number> {
  const due = `SELECT rowid FROM directive_receipts WHERE state IN (${OPEN_STATES_SQL}) AND due_at <= ?
               ORDER BY due_at LIMIT ?`;
  const [, updated] = await db.$client.batch(
    [
      {
        sql: `INSERT OR IGNORE INTO directive_reminders (directive_id, unit_id, unit_path, kind, created_at)
              SELECT directive_id, unit_id, unit_path, 'overdue', ? FROM directive_receipts WHERE rowid IN (${due})`,
        args: [now, now, limit],
      },
      {
        sql: `UPDATE directive_receipts SET state = 'overdue', overdue_at = ? WHERE rowid IN (${due})`,
        args: [now, now, limit],
      },
    ],
    "write",
  );
  return updated!.rowsAffected;
}

/** Directives whose fan-out was never confirmed on the queue, created before `before`. */
export async function unqueuedDirectives(db: Db, before: string, limit = 50): Promise<FanoutDirective[]> {
  const rs = await db.$client.execute({
    sql: `SELECT id, issuer_unit_path AS issuerUnitPath, target_unit_ids AS targetUnitIds, target_levels AS targetLevels
          FROM directives WHERE fanout_queued_at IS NULL AND created_at < ? ORDER BY created_at LIMIT ?`,
    args: [before, limit],
  });
  return rs.rows.map((r) => ({
    id: String(r.id),
    issuerUnitPath: String(r.issuerUnitPath),
    targetUnitIds: r.targetUnitIds ? (JSON.parse(String(r.targetUnitIds)) as string[]) : null,
    targetLevels: r.targetLevels ? (JSON.parse(String(r.targetLevels)) as string[]) : null,
  }));
}

/** Sends a directive's fan-out messages (100 per sendBatch) and records that they are queued. */
export async function enqueueFanout(
  db: Db,
  queue: Pick<Queue, "sendBatch">,
  directiveId: string,
  messages: FanoutMessage[],
): Promise<void> {
  for (let i = 0; i < messages.length; i += 100) {
    await queue.sendBatch(messages.slice(i, i + 100).map((body) => ({ body, contentType: "json" as const })));
  }
  await db.$client.execute({
    sql: "UPDATE directives SET fanout_queued_at = ? WHERE id = ? AND fanout_queued_at IS NULL",
    args: [new Date().toISOString(), directiveId],
  });
}
