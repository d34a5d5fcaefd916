import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { ROLLUP_COUNTERS, type RollupCounter } from "../../domain/case-figures";

const counters = Object.fromEntries(
  ROLLUP_COUNTERS.map((name) => [name, integer(name).notNull().default(0)]),
) as Record<RollupCounter, ReturnType<typeof integer>>;

/**
 * Case roll-ups (migration 0660): per unit, China day, case type and severity, the counts of that day's case
 * events and histograms of time to accept and to resolve (`ROLLUP_COUNTERS`). Each event counts in a row of
 * every ancestor of the owning unit, so a subtree's figures read that unit's rows only.
 */
export const caseRollups = sqliteTable(
  "case_rollups",
  {
    unitId: text("unit_id").notNull(),
    day: text("day").notNull(),
    type: text("type").notNull(),
    severity: text("severity").notNull(),
    ...counters,
  },
  (t) => [primaryKey({ columns: [t.unitId, t.day, t.type, t.severity] })],
);

/** Periodic bulletins (定期通报, migration 0661): one stored, versioned snapshot per centre, kind and period. */
export const bulletins = sqliteTable(
  "bulletins",
  {
    id: text("id").primaryKey(),
    unitId: text("unit_id").notNull(),
    unitPath: text("unit_path").notNull(),
    periodKind: text("period_kind", { enum: ["week", "month"] }).notNull(),
    periodFrom: text("period_from").notNull(),
    periodTo: text("period_to").notNull(),
    version: integer("version").notNull(),
    content: text("content").notNull(),
    generatedAt: text("generated_at").notNull(),
  },
  (t) => [
    uniqueIndex("bulletins_period_uq").on(t.unitId, t.periodKind, t.periodFrom, t.version),
    index("bulletins_unit_idx").on(t.unitId, t.periodFrom),
    index("bulletins_period_idx").on(t.periodKind, t.periodFrom),
  ],
);
