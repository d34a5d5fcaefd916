import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * SQL for the `n`-th id (0 = city) of a materialized path column, so a denormalized ancestor id follows the
 * path when a subtree moves (a generated column instead of one more column to rewrite).
 */
export function pathSegmentSql(column: string, n: number): string {
  let rest = `substr(${column}, 2)`;
  for (let i = 0; i < n; i++) rest = `substr(${rest}, instr(${rest}, '/') + 1)`;
  return `substr(${rest}, 1, instr(${rest}, '/') - 1)`;
}

/**
 * Households (户) in a level-2 or level-3 grid. `class` is the effective class as of the last write or
 * reclassification; reads recompute it with the override's expiry (see `effectiveClass`). `red_tags`
 * is the distinct red tags of the members, kept in step with residents in the same write, so a
 * set-based reclassification never joins residents. `next_visit_due` is denormalized for the overdue
 * range queries.
 */
export const households = sqliteTable(
  "households",
  {
    id: text("id").primaryKey(),
    unitId: text("unit_id").notNull(),
    unitPath: text("unit_path").notNull(),
    villageId: text("village_id")
      .notNull()
      .generatedAlwaysAs(sql.raw(pathSegmentSql("unit_path", 3)), { mode: "stored" }),
    address: text("address").notNull(),
    latitude: real("latitude"),
    longitude: real("longitude"),
    headName: text("head_name").notNull(),
    incomePerCapita: integer("income_per_capita").notNull(),
    incomeStable: integer("income_stable", { mode: "boolean" }).notNull(),
    safeYearsMask: integer("safe_years_mask").notNull().default(0),
    notes: text("notes"),
    redTags: text("red_tags").notNull().default("[]"),
    memberCount: integer("member_count").notNull().default(0),
    computedClass: text("computed_class", { enum: ["green", "yellow", "red"] }).notNull(),
    class: text("class", { enum: ["green", "yellow", "red"] }).notNull(),
    classReasons: text("class_reasons").notNull(),
    classSince: text("class_since").notNull(),
    classifiedAt: text("classified_at").notNull(),
    overrideClass: text("override_class", { enum: ["green", "yellow", "red"] }),
    overrideReason: text("override_reason"),
    overrideUntil: text("override_until"),
    overrideBy: text("override_by"),
    lastVisitAt: text("last_visit_at"),
    nextVisitDue: text("next_visit_due"),
    version: integer("version").notNull().default(1),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    index("households_path_idx").on(t.unitPath, t.id),
    index("households_village_idx").on(t.villageId, t.incomePerCapita),
    index("households_due_idx")
      .on(t.nextVisitDue, t.id, t.unitPath, t.class)
      .where(sql`${t.nextVisitDue} IS NOT NULL`),
    index("households_path_due_idx").on(t.unitPath, t.nextVisitDue).where(sql`${t.nextVisitDue} IS NOT NULL`),
    index("households_override_idx")
      .on(t.overrideUntil, t.unitPath)
      .where(sql`${t.overrideClass} IS NOT NULL`),
    index("households_class_since_idx").on(t.classSince),
    index("households_unit_idx").on(t.unitId),
  ],
);

/**
 * Households per village and class (`unit_id` = the village, `unit_path` = its path), kept by triggers on
 * `households` (see migration 0100), so the class counts of a town, a county or the city are a sum over at
 * most 5,916 villages rather than a scan of every household. Below a village, counts come from the households.
 */
export const householdClassCounts = sqliteTable(
  "household_class_counts",
  {
    unitId: text("unit_id").notNull(),
    unitPath: text("unit_path").notNull(),
    class: text("class").notNull(),
    n: integer("n").notNull(),
  },
  (t) => [
    uniqueIndex("household_class_counts_uq").on(t.unitId, t.class),
    index("household_class_counts_path_idx").on(t.unitPath, t.class, t.n),
  ],
);

/**
 * Residents (人). ID numbers, phones and full birth dates are stored only as AES-GCM ciphertext (the ID
 * number also as a keyed HMAC for lookup and uniqueness); in plaintext only what keeps an ID number at
 * 182,500 candidates: the birth year (`birth_date` reads `1975-**-**`) and the region-only mask
 * `6109**************` (see `domain/pii.ts`). Rows written before migration 0520 without an ID number may
 * still hold a full `birth_date` until their next write.
 */
export const residents = sqliteTable(
  "residents",
  {
    id: text("id").primaryKey(),
    householdId: text("household_id").notNull(),
    unitPath: text("unit_path").notNull(),
    name: text("name").notNull(),
    gender: text("gender", { enum: ["male", "female"] }).notNull(),
    /** The birth year as `YYYY-**-**` (a full date only in rows older than migration 0520 without an ID number). */
    birthDateMasked: text("birth_date").notNull(),
    birthYear: integer("birth_year").generatedAlwaysAs(sql`CAST(substr(birth_date, 1, 4) AS INTEGER)`, {
      mode: "virtual",
    }),
    birthDateEnc: text("birth_date_enc"),
    idNumberEnc: text("id_number_enc"),
    idNumberHmac: text("id_number_hmac"),
    idNumberMasked: text("id_number_masked"),
    phoneEnc: text("phone_enc"),
    phoneMasked: text("phone_masked"),
    relationship: text("relationship").notNull(),
    tags: text("tags").notNull().default("[]"),
    version: integer("version").notNull().default(1),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    index("residents_household_idx").on(t.householdId),
    uniqueIndex("residents_id_hmac_uq").on(t.idNumberHmac),
    index("residents_path_idx").on(t.unitPath),
  ],
);

/**
 * Contacts with a household (走访): a visit, a phone call or a reception, by a grid worker or a three-line
 * contact. One visit model serves the service cadence and the three lines' contact logs.
 */
export const visits = sqliteTable(
  "visits",
  {
    id: text("id").primaryKey(),
    householdId: text("household_id").notNull(),
    unitPath: text("unit_path").notNull(),
    visitorUserId: text("visitor_user_id").notNull(),
    visitorRole: text("visitor_role").notNull(),
    kind: text("kind", { enum: ["visit", "phone", "reception"] }).notNull(),
    visitedAt: text("visited_at").notNull(),
    notes: text("notes"),
    latitude: real("latitude"),
    longitude: real("longitude"),
    recordedBy: text("recorded_by").notNull(),
    createdAt: text("created_at").notNull(),
    /** Recorded after the fact (more than a day after `visited_at`, inside the back-dating window; migration 0550). */
    recordedLate: integer("recorded_late", { mode: "boolean" }).notNull().default(false),
  },
  (t) => [
    index("visits_household_idx").on(t.householdId, t.visitedAt),
    index("visits_visitor_idx").on(t.visitorUserId, t.visitedAt),
    index("visits_path_idx").on(t.unitPath, t.visitedAt),
  ],
);

/**
 * Named helpers of a household (帮扶人, for red households: one-to-one or one-to-many). A pairing ends by
 * setting `until`; history is kept. `line` is the helper's role when named (grid worker or a three line).
 */
export const householdHelpers = sqliteTable(
  "household_helpers",
  {
    id: text("id").primaryKey(),
    householdId: text("household_id").notNull(),
    userId: text("user_id").notNull(),
    unitPath: text("unit_path").notNull(),
    line: text("line").notNull(),
    kind: text("kind", { enum: ["one_to_one", "one_to_many"] }).notNull(),
    since: text("since").notNull(),
    until: text("until"),
    createdBy: text("created_by").notNull(),
  },
  (t) => [
    uniqueIndex("household_helpers_active_uq").on(t.householdId, t.userId).where(sql`${t.until} IS NULL`),
    index("household_helpers_user_idx").on(t.userId, t.until),
    index("household_helpers_path_idx").on(t.unitPath),
  ],
);

/**
 * Per-user hourly counters of personal-data uses (`reveal`, `id_probe`): counted and rolled over by one
 * upsert (`countPiiUse`), so parallel requests cannot all pass a read-then-write check.
 */
export const piiUseWindows = sqliteTable(
  "pii_use_windows",
  {
    userId: text("user_id").notNull(),
    kind: text("kind").notNull(),
    windowStart: text("window_start").notNull(),
    n: integer("n").notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.kind] })],
);

/**
 * Requests to move a resident registered elsewhere into a household of the requester's unit (找到人后申请迁入),
 * matched by the ID number's HMAC, decided by the centre of the resident's current village or one above it
 * (`approver_path`).
 */
export const residentTransferRequests = sqliteTable(
  "resident_transfer_requests",
  {
    id: text("id").primaryKey(),
    residentId: text("resident_id").notNull(),
    idNumberHmac: text("id_number_hmac").notNull(),
    fromHouseholdId: text("from_household_id").notNull(),
    toHouseholdId: text("to_household_id").notNull(),
    toUnitPath: text("to_unit_path").notNull(),
    approverPath: text("approver_path").notNull(),
    requestedBy: text("requested_by").notNull(),
    requesterUnitPath: text("requester_unit_path").notNull(),
    reason: text("reason").notNull(),
    state: text("state", { enum: ["pending", "approved", "refused"] }).notNull(),
    decidedBy: text("decided_by"),
    decidedAt: text("decided_at"),
    decisionNote: text("decision_note"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    index("resident_transfer_requests_approver_idx").on(t.approverPath, t.createdAt, t.id),
    index("resident_transfer_requests_requester_idx").on(t.requestedBy, t.createdAt, t.id),
    uniqueIndex("resident_transfer_requests_pending_uq")
      .on(t.residentId, t.toHouseholdId)
      .where(sql`${t.state} = 'pending'`),
  ],
);
