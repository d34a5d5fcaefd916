import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * Directives (指令) a centre sends down its subtree. Targets are either named units (`target_unit_ids`) or
 * every unit of some levels under the issuer (`target_levels`); `target_count` is how many receipts the
 * fan-out will write, fixed when the directive is issued.
 */
export const directives = sqliteTable(
  "directives",
  {
    id: text("id").primaryKey(),
    issuerUnitId: text("issuer_unit_id").notNull(),
    issuerUnitPath: text("issuer_unit_path").notNull(),
    issuedBy: text("issued_by").notNull(),
    title: text("title").notNull(),
    body: text("body").notNull(),
    priority: text("priority", { enum: ["normal", "urgent", "critical"] }).notNull(),
    dueAt: text("due_at").notNull(),
    targetUnitIds: text("target_unit_ids"),
    targetLevels: text("target_levels"),
    targetCount: integer("target_count").notNull(),
    attachmentIds: text("attachment_ids").notNull().default("[]"),
    createdAt: text("created_at").notNull(),
    /** Set once the fan-out messages are on the queue; the watchdog re-sends those still null. */
    fanoutQueuedAt: text("fanout_queued_at"),
    // Emergency orders (migration 0650): the event an order serves and its acknowledgement deadline.
    eventId: text("event_id"),
    ackDueAt: text("ack_due_at"),
  },
  (t) => [
    index("directives_issuer_idx").on(t.issuerUnitPath, t.createdAt),
    index("directives_created_idx").on(t.createdAt, t.id),
    index("directives_fanout_idx").on(t.createdAt).where(sql`${t.fanoutQueuedAt} IS NULL`),
  ],
);

/**
 * One receipt per (directive, target unit). The fan-out inserts them with INSERT OR IGNORE, so a
 * redelivered fan-out message writes nothing twice. `(directive_id, unit_path, level, grid_level, state)`
 * covers the completion counts of any subtree with one index range scan.
 */
export const directiveReceipts = sqliteTable(
  "directive_receipts",
  {
    directiveId: text("directive_id").notNull(),
    unitId: text("unit_id").notNull(),
    unitPath: text("unit_path").notNull(),
    level: text("level").notNull(),
    gridLevel: integer("grid_level"),
    state: text("state", { enum: ["delivered", "acknowledged", "completed", "overdue"] }).notNull(),
    dueAt: text("due_at").notNull(),
    deliveredAt: text("delivered_at").notNull(),
    acknowledgedAt: text("acknowledged_at"),
    acknowledgedBy: text("acknowledged_by"),
    completedAt: text("completed_at"),
    completedBy: text("completed_by"),
    completedLate: integer("completed_late", { mode: "boolean" }),
    report: text("report"),
    evidence: text("evidence"),
    overdueAt: text("overdue_at"),
    // Emergency orders (migration 0650): the acknowledgement deadline, and when its miss was escalated.
    ackDueAt: text("ack_due_at"),
    ackEscalatedAt: text("ack_escalated_at"),
  },
  (t) => [
    primaryKey({ columns: [t.directiveId, t.unitId] }),
    index("directive_receipts_counts_idx").on(t.directiveId, t.unitPath, t.level, t.gridLevel, t.state),
    index("directive_receipts_unit_idx").on(t.unitId, t.state, t.directiveId),
    index("directive_receipts_due_idx").on(t.dueAt).where(sql`${t.state} IN ('delivered', 'acknowledged')`),
  ],
);

/**
 * Reminders raised for receipts (催办): one per (directive, unit, kind), written by the overdue watchdog,
 * read by the receiving unit's inbox.
 */
export const directiveReminders = sqliteTable(
  "directive_reminders",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    directiveId: text("directive_id").notNull(),
    unitId: text("unit_id").notNull(),
    unitPath: text("unit_path").notNull(),
    kind: text("kind", { enum: ["overdue"] }).notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("directive_reminders_uq").on(t.directiveId, t.unitId, t.kind),
    index("directive_reminders_unit_idx").on(t.unitId, t.createdAt),
  ],
);

/**
 * Receipt counts per (directive, level, grid level, state), kept by triggers on `directive_receipts` (see
 * migration 0400), so the issuer's completion counts are a read of a few rows, not a count of 45,000.
 */
export const directiveReceiptCounts = sqliteTable(
  "directive_receipt_counts",
  {
    directiveId: text("directive_id").notNull(),
    level: text("level").notNull(),
    gridLevel: integer("grid_level").notNull(),
    state: text("state").notNull(),
    n: integer("n").notNull(),
  },
  (t) => [primaryKey({ columns: [t.directiveId, t.level, t.gridLevel, t.state] })],
);
