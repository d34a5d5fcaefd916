import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * Per GridDesk: the highest desk sequence number (dseq) the projection has seen, and
 * the highest up to which it holds every event (`projectedDseq`, advanced only contiguously: gaps wait). A desk
 * lags while `deskDseq > projectedDseq`; then `laggingSince` is set and `oldestUnprojectedAt` is the time of the
 * earliest event held beyond the gap (the missing ones are at least as old).
 */
export const projectionDesks = sqliteTable(
  "projection_desks",
  {
    /** The desk's Durable Object id (`DurableObjectId.toString()`). */
    deskId: text("desk_id").primaryKey(),
    /** The desk's owning unit, and its path (for scope). */
    unitId: text("unit_id").notNull(),
    unitPath: text("unit_path").notNull(),
    deskDseq: integer("desk_dseq").notNull(),
    projectedDseq: integer("projected_dseq").notNull().default(0),
    oldestUnprojectedAt: text("oldest_unprojected_at"),
    laggingSince: text("lagging_since"),
    updatedAt: text("updated_at").notNull(),
    pokedAt: text("poked_at"),
  },
  (t) => [
    index("projection_desks_lag_idx").on(t.laggingSince, t.deskId).where(sql`${t.laggingSince} IS NOT NULL`),
  ],
);

/** The dseqs a desk's projection holds beyond its watermark, waiting for the gap before them to fill. */
export const projectionEvents = sqliteTable(
  "projection_events",
  {
    deskId: text("desk_id").notNull(),
    dseq: integer("dseq").notNull(),
    caseId: text("case_id").notNull(),
    seq: integer("seq").notNull(),
    at: text("at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.deskId, t.dseq] })],
);

/**
 * Webhook offers written in the same libSQL write that projected their events, deleted once handed to the
 * `webhooks` queue; the cron sweep sends those a failed send left behind. `event` is the WebhookEvent (JSON).
 */
export const webhookOutbox = sqliteTable(
  "webhook_outbox",
  {
    eventId: text("event_id").primaryKey(),
    event: text("event").notNull(),
    createdAt: text("created_at").notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: text("next_attempt_at").notNull(),
  },
  (t) => [index("webhook_outbox_next_idx").on(t.nextAttemptAt)],
);
