import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * Emergency events (应急事件) declared by a centre (town and above) over some subtrees. `version` guards
 * level changes, added units and the stand-down; every change is also a row of `emergency_event_log`.
 */
export const emergencyEvents = sqliteTable(
  "emergency_events",
  {
    id: text("id").primaryKey(),
    kind: text("kind").notNull(),
    level: text("level", { enum: ["I", "II", "III", "IV"] }).notNull(),
    status: text("status", { enum: ["active", "stood_down"] }).notNull(),
    title: text("title").notNull(),
    instructions: text("instructions").notNull(),
    commandUnitId: text("command_unit_id").notNull(),
    commandUnitPath: text("command_unit_path").notNull(),
    /** Minutes before an unreached household is escalated; null = the level's default. */
    reachIntervalMinutes: integer("reach_interval_minutes"),
    declaredBy: text("declared_by").notNull(),
    declaredAt: text("declared_at").notNull(),
    stoodDownAt: text("stood_down_at"),
    version: integer("version").notNull().default(1),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [index("emergency_events_command_idx").on(t.commandUnitPath, t.declaredAt)],
);

/** The affected subtrees of an event (one row per affected unit). */
export const emergencyEventUnits = sqliteTable(
  "emergency_event_units",
  {
    eventId: text("event_id").notNull(),
    unitId: text("unit_id").notNull(),
    unitPath: text("unit_path").notNull(),
    addedAt: text("added_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.eventId, t.unitId] }),
    index("emergency_event_units_path_idx").on(t.unitPath, t.eventId),
  ],
);

/** The append-only log of an event (triggers refuse UPDATE and DELETE): declared, raised, lowered, … */
export const emergencyEventLog = sqliteTable(
  "emergency_event_log",
  {
    eventId: text("event_id").notNull(),
    seq: integer("seq").notNull(),
    type: text("type").notNull(),
    at: text("at").notNull(),
    actorId: text("actor_id").notNull(),
    payload: text("payload").notNull(),
  },
  (t) => [primaryKey({ columns: [t.eventId, t.seq] })],
);

/** Shelters (安置点) registered for an event at a unit, with their capacity in people. */
export const emergencyShelters = sqliteTable(
  "emergency_shelters",
  {
    id: text("id").primaryKey(),
    eventId: text("event_id").notNull(),
    unitId: text("unit_id").notNull(),
    unitPath: text("unit_path").notNull(),
    name: text("name").notNull(),
    address: text("address").notNull(),
    capacity: integer("capacity").notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [index("emergency_shelters_event_idx").on(t.eventId, t.unitPath)],
);
