import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * The libSQL projection of cases, written only by the `case-events` consumer (the GridDesks own the truth).
 * `seq` is the case's latest projected event: an upsert applies only when it brings a newer one. Both the
 * owning and the responsible unit path are kept, because a case is in scope for either subtree.
 */
export const cases = sqliteTable(
  "cases",
  {
    id: text("id").primaryKey(),
    owningUnitId: text("owning_unit_id").notNull(),
    owningUnitPath: text("owning_unit_path").notNull(),
    villageId: text("village_id"),
    responsibleUnitId: text("responsible_unit_id").notNull(),
    responsibleUnitPath: text("responsible_unit_path").notNull(),
    responsibleLevel: text("responsible_level").notNull(),
    responsibleDepartment: text("responsible_department"),
    coordinatorUnitId: text("coordinator_unit_id"),
    type: text("type").notNull(),
    severity: text("severity").notNull(),
    state: text("state").notNull(),
    title: text("title").notNull(),
    description: text("description").notNull(),
    address: text("address"),
    lat: real("lat"),
    lng: real("lng"),
    reporterId: text("reporter_id").notNull(),
    version: integer("version").notNull(),
    seq: integer("seq").notNull(),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
    closedAt: text("closed_at"),
    projectedAt: text("projected_at").notNull(),
    doc: text("doc").notNull(),
    // Time limits and escalation (migration 0310), for the resolution-level figures.
    resolvedAt: text("resolved_at"),
    resolvedLevel: text("resolved_level"),
    overdue: integer("overdue").notNull().default(0),
    escalationCount: integer("escalation_count").notNull().default(0),
  },
  (t) => [
    index("cases_owning_path_idx").on(t.owningUnitPath, t.createdAt),
    index("cases_responsible_path_idx").on(t.responsibleUnitPath, t.createdAt),
    // Duplicate hints: same village and type, then a latitude band of ±200 m (a range scan, not the village).
    index("cases_village_type_lat_idx").on(t.villageId, t.type, t.lat),
    index("cases_created_idx").on(t.createdAt, t.id),
    // Partial, open cases only (migrations/0662_cases_open_age_index.sql): the oldest open cases of a subtree.
    index("cases_open_age_idx")
      .on(t.createdAt, t.id, t.owningUnitPath)
      .where(sql`state IN ('reported', 'accepted', 'dispatched', 'in_progress', 'reopened')`),
  ],
);

/** Every case event, keyed by (case id, seq): redelivered events are ignored. The case audit trail. */
export const caseEvents = sqliteTable(
  "case_events",
  {
    caseId: text("case_id").notNull(),
    seq: integer("seq").notNull(),
    type: text("type").notNull(),
    actorId: text("actor_id"),
    actorRole: text("actor_role"),
    actorUnitId: text("actor_unit_id"),
    at: text("at").notNull(),
    payload: text("payload").notNull(),
  },
  (t) => [primaryKey({ columns: [t.caseId, t.seq] }), index("case_events_at_idx").on(t.at)],
);
