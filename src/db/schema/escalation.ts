import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * A centre's (or grid's) inbox: escalations, supervision and urging notices, overdue notices, cases sent down,
 * and system alerts. Written by the `escalations` consumer (and its dead-letter consumer) with
 * `INSERT OR IGNORE` on `dedupe_key`, so a redelivered message never makes a second item.
 */
export const inboxItems = sqliteTable(
  "inbox_items",
  {
    id: text("id").primaryKey(),
    unitId: text("unit_id").notNull(),
    unitPath: text("unit_path").notNull(),
    kind: text("kind", {
      enum: ["escalated", "supervision", "overdue", "dispatched", "urge", "alert", "bulletin"],
    }).notNull(),
    caseId: text("case_id"),
    dedupeKey: text("dedupe_key").notNull(),
    payload: text("payload").notNull(),
    createdAt: text("created_at").notNull(),
    readAt: text("read_at"),
    handledAt: text("handled_at"),
  },
  (t) => [
    uniqueIndex("inbox_items_dedupe_uq").on(t.dedupeKey),
    index("inbox_items_unit_idx").on(t.unitId, t.createdAt, t.id),
    index("inbox_items_unit_kind_idx").on(t.unitId, t.kind, t.createdAt, t.id),
    index("inbox_items_case_idx").on(t.caseId, t.unitId),
  ],
);

/** Outgoing webhook endpoints a centre registered for the other "9+X" systems. The secret is stored sealed. */
export const webhookEndpoints = sqliteTable(
  "webhook_endpoints",
  {
    id: text("id").primaryKey(),
    unitId: text("unit_id").notNull(),
    unitPath: text("unit_path").notNull(),
    url: text("url").notNull(),
    events: text("events").notNull(),
    description: text("description"),
    secretSealed: text("secret_sealed").notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: text("created_at").notNull(),
    disabledAt: text("disabled_at"),
  },
  (t) => [index("webhook_endpoints_unit_idx").on(t.unitPath, t.createdAt, t.id)],
);

/** One row per (event, endpoint): the outcome of its latest delivery attempt. */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    endpointId: text("endpoint_id").notNull(),
    eventId: text("event_id").notNull(),
    eventKind: text("event_kind").notNull(),
    status: text("status", { enum: ["delivered", "failing", "dead", "skipped"] }).notNull(),
    attempts: integer("attempts").notNull(),
    lastStatus: integer("last_status"),
    lastError: text("last_error"),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("webhook_deliveries_uq").on(t.endpointId, t.eventId),
    index("webhook_deliveries_endpoint_idx").on(t.endpointId, t.updatedAt),
  ],
);

/**
 * Each GridDesk's next deadline step as last projected (desk id = owning unit id), so the watchdog can find
 * desks whose alarm is overdue without scanning cases. Rows only move forward in `as_of`.
 */
export const deskAlarms = sqliteTable(
  "desk_alarms",
  {
    deskId: text("desk_id").primaryKey(),
    nextAlarmAt: text("next_alarm_at"),
    asOf: text("as_of").notNull(),
  },
  (t) => [index("desk_alarms_next_idx").on(t.nextAlarmAt)],
);
