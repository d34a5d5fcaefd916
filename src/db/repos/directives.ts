import type { InStatement } from "@libsql/client/web";
import { and, asc, desc, eq, exists, gt, gte, inArray, isNull, lt, or, type SQL, sql } from "drizzle-orm";
import {
  type DirectivePriority,
  FANOUT_CHUNK,
  foldCounts,
  OPEN_RECEIPT_STATES,
  type ReceiptState,
} from "../../domain/directives";
import { subtreeRange, type UnitLevel } from "../../domain/units";
import { type Db, getDb } from "../../platform/db/client";
import { stmt } from "../../platform/db/statements";
import { sendInBatches } from "../../platform/queues/send";
import { directiveReceiptCounts, directiveReceipts, directives, units } from "../schema";

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

/** A directive as stored, its JSON columns parsed. */
export interface DirectiveRecord {
  id: string;
  issuerUnitId: string;
  issuerUnitPath: string;
  issuedBy: string;
  title: string;
  body: string;
  priority: DirectivePriority;
  dueAt: string;
  targetUnitIds: string[] | null;
  targetLevels: UnitLevel[] | null;
  targetCount: number;
  attachmentIds: string[];
  createdAt: string;
  fanoutQueuedAt: string | null;
  /** An emergency order's event and acknowledgement deadline (null for ordinary directives). */
  eventId?: string | null;
  ackDueAt?: string | null;
}

/** A target unit's receipt of a directive, its evidence list parsed. */
export interface ReceiptRecord {
  directiveId: string;
  unitId: string;
  unitPath: string;
  level: string;
  gridLevel: number | null;
  state: ReceiptState;
  dueAt: string;
  deliveredAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  completedAt: string | null;
  completedBy: string | null;
  completedLate: boolean | null;
  report: string | null;
  evidenceIds: string[];
  overdueAt: string | null;
  ackDueAt?: string | null;
  ackEscalatedAt?: string | null;
}

const parseList = <T>(text: string | null): T[] | null => (text === null ? null : (JSON.parse(text) as T[]));

function directiveOf(row: typeof directives.$inferSelect): DirectiveRecord {
  return {
    ...row,
    targetUnitIds: parseList<string>(row.targetUnitIds),
    targetLevels: parseList<UnitLevel>(row.targetLevels),
    attachmentIds: parseList<string>(row.attachmentIds) ?? [],
  };
}

function receiptOf(row: typeof directiveReceipts.$inferSelect): ReceiptRecord {
  const { evidence, ...rest } = row;
  return { ...rest, evidenceIds: parseList<string>(evidence) ?? [] };
}

/** The keyset position `(createdAt, id)` of the last directive of a page, newest first. */
export type DirectiveCursor = readonly [string, string];

const olderThan = (after: DirectiveCursor | null): SQL | undefined =>
  after
    ? or(
        lt(directives.createdAt, after[0]),
        and(eq(directives.createdAt, after[0]), lt(directives.id, after[1])),
      )
    : undefined;

/** The paths of the units among `ids` that exist, by id. */
export async function unitPathsByIds(
  env: Cloudflare.Env,
  ids: readonly string[],
): Promise<Map<string, string>> {
  // json_each: up to 5,000 ids in one parameter, where an IN list would hit the bound-variable limit.
  const rows = await getDb(env)
    .select({ id: units.id, path: units.path })
    .from(units)
    .where(inArray(units.id, sql`(SELECT value FROM json_each(${JSON.stringify(ids)}))`));
  return new Map(rows.map((r) => [r.id, r.path]));
}

/** The INSERT of a new directive. */
export function insertDirectiveStatement(db: Db, d: DirectiveRecord): InStatement {
  return stmt(
    db.insert(directives).values({
      ...d,
      targetUnitIds: d.targetUnitIds ? JSON.stringify(d.targetUnitIds) : null,
      targetLevels: d.targetLevels ? JSON.stringify(d.targetLevels) : null,
      attachmentIds: JSON.stringify(d.attachmentIds),
    }),
  );
}

/** Directives a unit received, newest first, each with that unit's receipt (optionally in one state). */
export async function receivedDirectives(
  env: Cloudflare.Env,
  unitId: string,
  state: ReceiptState | undefined,
  after: DirectiveCursor | null,
  limit: number,
): Promise<Array<{ directive: DirectiveRecord; receipt: ReceiptRecord }>> {
  const rows = await getDb(env)
    .select({ directive: directives, receipt: directiveReceipts })
    .from(directiveReceipts)
    .innerJoin(directives, eq(directives.id, directiveReceipts.directiveId))
    .where(
      and(
        eq(directiveReceipts.unitId, unitId),
        state ? eq(directiveReceipts.state, state) : undefined,
        olderThan(after),
      ),
    )
    .orderBy(desc(directives.createdAt), desc(directives.id))
    .limit(limit);
  return rows.map((r) => ({ directive: directiveOf(r.directive), receipt: receiptOf(r.receipt) }));
}

/** Directives issued by units of the subtree `scopePath`, newest first. */
export async function issuedDirectives(
  env: Cloudflare.Env,
  scopePath: string,
  after: DirectiveCursor | null,
  limit: number,
): Promise<DirectiveRecord[]> {
  const [lo, hi] = subtreeRange(scopePath);
  const rows = await getDb(env)
    .select()
    .from(directives)
    .where(and(gte(directives.issuerUnitPath, lo), lt(directives.issuerUnitPath, hi), olderThan(after)))
    .orderBy(desc(directives.createdAt), desc(directives.id))
    .limit(limit);
  return rows.map(directiveOf);
}

/** A directive and its whole receipt counts from the trigger-kept counters, in one round trip. */
export async function directiveWithCounts(env: Cloudflare.Env, directiveId: string) {
  const db = getDb(env);
  const [found, counters] = await db.batch([
    db.select().from(directives).where(eq(directives.id, directiveId)).limit(1),
    db
      .select({
        level: directiveReceiptCounts.level,
        gridLevel: directiveReceiptCounts.gridLevel,
        state: directiveReceiptCounts.state,
        n: directiveReceiptCounts.n,
      })
      .from(directiveReceiptCounts)
      .where(and(eq(directiveReceiptCounts.directiveId, directiveId), gt(directiveReceiptCounts.n, 0))),
  ]);
  return { directive: found[0] ? directiveOf(found[0]) : null, counts: foldCounts(counters) };
}

/**
 * A page of a directive's receipts inside `scopePath` by unit path (after `afterPath`), with what the caller
 * may see of the directive: the issuer's path, and whether any receipt lies in the subtree. One round trip.
 */
export async function receiptsInScope(
  env: Cloudflare.Env,
  directiveId: string,
  scopePath: string,
  page: { state?: ReceiptState; afterPath: string | null; limit: number },
): Promise<{ issuerUnitPath: string | null; anyInScope: boolean; receipts: ReceiptRecord[] }> {
  const db = getDb(env);
  const [lo, hi] = subtreeRange(scopePath);
  const inSubtree = and(
    eq(directiveReceipts.directiveId, directiveId),
    gte(directiveReceipts.unitPath, lo),
    lt(directiveReceipts.unitPath, hi),
  );
  const [found, rows] = await db.batch([
    db
      .select({
        issuerUnitPath: directives.issuerUnitPath,
        anyInScope: sql<number>`${exists(db.select({ one: sql`1` }).from(directiveReceipts).where(inSubtree))}`,
      })
      .from(directives)
      .where(eq(directives.id, directiveId)),
    db
      .select()
      .from(directiveReceipts)
      .where(
        and(
          inSubtree,
          page.state ? eq(directiveReceipts.state, page.state) : undefined,
          page.afterPath !== null ? gt(directiveReceipts.unitPath, page.afterPath) : undefined,
        ),
      )
      .orderBy(asc(directiveReceipts.unitPath))
      .limit(page.limit),
  ]);
  return {
    issuerUnitPath: found[0]?.issuerUnitPath ?? null,
    anyInScope: Number(found[0]?.anyInScope ?? 0) === 1,
    receipts: rows.map(receiptOf),
  };
}

/** One receipt, or null. */
export async function findReceipt(
  env: Cloudflare.Env,
  directiveId: string,
  unitId: string,
): Promise<ReceiptRecord | null> {
  const [row] = await getDb(env)
    .select()
    .from(directiveReceipts)
    .where(and(eq(directiveReceipts.directiveId, directiveId), eq(directiveReceipts.unitId, unitId)))
    .limit(1);
  return row ? receiptOf(row) : null;
}

/**
 * The UPDATE that moves a receipt from `current` to `next`, guarded on the state and acknowledgement it was
 * read with: it changes no row if someone acted on the receipt in between.
 */
export function receiptUpdateStatement(db: Db, current: ReceiptRecord, next: ReceiptRecord): InStatement {
  return stmt(
    db
      .update(directiveReceipts)
      .set({
        state: next.state,
        acknowledgedAt: next.acknowledgedAt,
        acknowledgedBy: next.acknowledgedBy,
        completedAt: next.completedAt,
        completedBy: next.completedBy,
        completedLate: next.completedLate,
        report: next.report,
        evidence: next.completedAt === null ? null : JSON.stringify(next.evidenceIds),
      })
      .where(
        and(
          eq(directiveReceipts.directiveId, current.directiveId),
          eq(directiveReceipts.unitId, current.unitId),
          eq(directiveReceipts.state, current.state),
          current.acknowledgedAt === null
            ? isNull(directiveReceipts.acknowledgedAt)
            : eq(directiveReceipts.acknowledgedAt, current.acknowledgedAt),
        ),
      ),
  );
}

const OPEN_STATES_SQL = OPEN_RECEIPT_STATES.map((s) => `'${s}'`).join(", ");

/**
 * Counts the units of `levels` under `issuerPath` and cuts them, in path order, into keyset ranges of
 * `FANOUT_CHUNK` units: one query that returns one row per range, not one per unit (raw SQL for the window
 * functions).
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
 * Raw SQL: an INSERT … SELECT over a join with json_each, built without a database for the consumer's batch.
 */
export function receiptInsert(message: FanoutMessage, deliveredAt: string): InStatement {
  const columns = `INSERT OR IGNORE INTO directive_receipts
      (directive_id, unit_id, unit_path, level, grid_level, state, due_at, delivered_at, ack_due_at)
    SELECT d.id, u.id, u.path, u.level, u.grid_level, 'delivered', d.due_at, ?, d.ack_due_at
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
  const rows = await db
    .select({
      level: directiveReceipts.level,
      gridLevel: directiveReceipts.gridLevel,
      state: directiveReceipts.state,
      n: sql<number>`count(*)`.mapWith(Number),
    })
    .from(directiveReceipts)
    .where(
      and(
        eq(directiveReceipts.directiveId, directiveId),
        gte(directiveReceipts.unitPath, lo),
        lt(directiveReceipts.unitPath, hi),
      ),
    )
    .groupBy(directiveReceipts.level, directiveReceipts.gridLevel, directiveReceipts.state);
  return foldCounts(rows);
}

/**
 * Marks open receipts past their due time as overdue and raises one reminder for each, at most `limit` per
 * call, in one write transaction. A range over the partial due-time index: never a scan of all receipts.
 * Returns how many receipts became overdue. Raw SQL: two set-based statements over the same rowid subquery.
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
  const rows = await db
    .select({
      id: directives.id,
      issuerUnitPath: directives.issuerUnitPath,
      targetUnitIds: directives.targetUnitIds,
      targetLevels: directives.targetLevels,
    })
    .from(directives)
    .where(and(isNull(directives.fanoutQueuedAt), lt(directives.createdAt, before)))
    .orderBy(asc(directives.createdAt))
    .limit(limit);
  return rows.map((r) => ({
    ...r,
    targetUnitIds: parseList<string>(r.targetUnitIds),
    targetLevels: parseList<string>(r.targetLevels),
  }));
}

/**
 * Sends a directive's fan-out messages in byte-aware batches (at most 100 messages and 256 KB per sendBatch)
 * and records that they are queued.
 */
export async function enqueueFanout(
  db: Db,
  queue: Pick<Queue, "sendBatch">,
  directiveId: string,
  messages: FanoutMessage[],
): Promise<void> {
  await sendInBatches(queue, messages);
  await db
    .update(directives)
    .set({ fanoutQueuedAt: new Date().toISOString() })
    .where(and(eq(directives.id, directiveId), isNull(directives.fanoutQueuedAt)));
}
