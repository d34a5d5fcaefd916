import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/**
 * The profile of a three-line contact (三线联系人): a user whose role is `party_member`, `deputy` or
 * `household_lead`. Party members name their branch (and the branch's unit, which sets their point rules);
 * deputies their level and liaison station.
 */
export const contactProfiles = sqliteTable(
  "contact_profiles",
  {
    userId: text("user_id").primaryKey(),
    line: text("line", { enum: ["party_member", "deputy", "household_lead"] }).notNull(),
    unitId: text("unit_id").notNull(),
    unitPath: text("unit_path").notNull(),
    partyBranch: text("party_branch"),
    branchUnitId: text("branch_unit_id"),
    deputyLevel: text("deputy_level", { enum: ["county", "town", "village"] }),
    stationId: text("station_id"),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    index("contact_profiles_path_idx").on(t.unitPath, t.line),
    index("contact_profiles_station_idx").on(t.stationId),
  ],
);

/**
 * A contact paired with a household on one line. Ending a pairing sets `ended_at`; rows are never deleted,
 * so the history of who looked after a household stays.
 */
export const contactPairings = sqliteTable(
  "contact_pairings",
  {
    id: text("id").primaryKey(),
    contactId: text("contact_id").notNull(),
    householdId: text("household_id").notNull(),
    line: text("line", { enum: ["party_member", "deputy", "household_lead"] }).notNull(),
    unitPath: text("unit_path").notNull(),
    since: text("since").notNull(),
    endedAt: text("ended_at"),
    createdBy: text("created_by").notNull(),
    endedBy: text("ended_by"),
  },
  (t) => [
    uniqueIndex("contact_pairings_active_uq").on(t.contactId, t.householdId).where(sql`${t.endedAt} IS NULL`),
    index("contact_pairings_coverage_idx")
      .on(t.unitPath, t.line, t.householdId)
      .where(sql`${t.endedAt} IS NULL`),
    index("contact_pairings_contact_idx").on(t.contactId, t.endedAt),
  ],
);

/** A party member's pledge (承诺) for a year. */
export const partyPledges = sqliteTable(
  "party_pledges",
  {
    id: text("id").primaryKey(),
    memberId: text("member_id").notNull(),
    unitPath: text("unit_path").notNull(),
    year: integer("year").notNull(),
    text: text("text").notNull(),
    target: text("target").notNull(),
    dueDate: text("due_date").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [index("party_pledges_member_idx").on(t.memberId, t.year)],
);

/**
 * A fulfilment (践诺) pointing to its evidence; one piece of evidence is claimed once per member. It is
 * `pending` until someone other than the member — the branch's centre or the case's handler — confirms it
 * (its ledger entry is written then) or rejects it.
 */
export const partyFulfilments = sqliteTable(
  "party_fulfilments",
  {
    id: text("id").primaryKey(),
    memberId: text("member_id").notNull(),
    pledgeId: text("pledge_id"),
    unitPath: text("unit_path").notNull(),
    year: integer("year").notNull(),
    evidenceKind: text("evidence_kind", { enum: ["visit", "case", "mediation"] }).notNull(),
    evidenceId: text("evidence_id").notNull(),
    note: text("note"),
    points: integer("points").notNull(),
    createdAt: text("created_at").notNull(),
    status: text("status", { enum: ["pending", "confirmed", "rejected"] })
      .notNull()
      .default("pending"),
    decidedBy: text("decided_by"),
    decidedAt: text("decided_at"),
  },
  (t) => [
    uniqueIndex("party_fulfilments_evidence_uq").on(t.memberId, t.evidenceKind, t.evidenceId),
    index("party_fulfilments_member_idx").on(t.memberId, t.year),
  ],
);

/**
 * The points ledger (积分): append-only (triggers refuse UPDATE and DELETE); a correction is a new entry
 * with a negative or positive amount, a reason and a source. It holds no unit path (a subtree move would
 * have to rewrite it): rankings scope members through `users.unit_path`.
 */
export const partyPointEntries = sqliteTable(
  "party_point_entries",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    memberId: text("member_id").notNull(),
    year: integer("year").notNull(),
    points: integer("points").notNull(),
    reason: text("reason").notNull(),
    sourceKind: text("source_kind", { enum: ["fulfilment", "correction"] }).notNull(),
    sourceId: text("source_id").notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [index("party_point_entries_member_idx").on(t.memberId, t.year, t.points)],
);

/** The branch's annual review (评议) of a member: one rating per member and year. */
export const partyReviews = sqliteTable(
  "party_reviews",
  {
    id: text("id").primaryKey(),
    memberId: text("member_id").notNull(),
    unitPath: text("unit_path").notNull(),
    year: integer("year").notNull(),
    rating: text("rating", {
      enum: ["excellent", "qualified", "basically_qualified", "unqualified"],
    }).notNull(),
    note: text("note"),
    reviewedBy: text("reviewed_by").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [uniqueIndex("party_reviews_uq").on(t.memberId, t.year)],
);

/** Deputy liaison stations (人大代表联络站) at county, town or village level. */
export const liaisonStations = sqliteTable(
  "liaison_stations",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    level: text("level", { enum: ["county", "town", "village"] }).notNull(),
    unitId: text("unit_id").notNull(),
    unitPath: text("unit_path").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [index("liaison_stations_path_idx").on(t.unitPath)],
);

/** A "five days" activity (五个日) on a station's calendar, with attendance and a record. */
export const stationActivities = sqliteTable(
  "station_activities",
  {
    id: text("id").primaryKey(),
    stationId: text("station_id").notNull(),
    unitPath: text("unit_path").notNull(),
    kind: text("kind", { enum: ["research", "deliberation", "reception", "visit", "reporting"] }).notNull(),
    title: text("title").notNull(),
    scheduledAt: text("scheduled_at").notNull(),
    attendance: text("attendance").notNull().default("[]"),
    record: text("record"),
    createdBy: text("created_by").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [index("station_activities_calendar_idx").on(t.stationId, t.scheduledAt)],
);

/** A matter raised at a reception day, and the case it became. */
export const activityMatters = sqliteTable(
  "activity_matters",
  {
    id: text("id").primaryKey(),
    activityId: text("activity_id").notNull(),
    stationId: text("station_id").notNull(),
    unitPath: text("unit_path").notNull(),
    summary: text("summary").notNull(),
    raisedBy: text("raised_by"),
    caseId: text("case_id").notNull(),
    /** The unit that owns the case (its GridDesk), for reading the case live before the projection has it. */
    owningUnitId: text("owning_unit_id"),
    createdBy: text("created_by").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [
    index("activity_matters_activity_idx").on(t.activityId),
    index("activity_matters_station_idx").on(t.stationId, t.createdAt),
  ],
);

/** Residents' ratings of a household lead (群众评议), 1–5, one per resident and period. */
export const leadRatings = sqliteTable(
  "lead_ratings",
  {
    id: text("id").primaryKey(),
    leadId: text("lead_id").notNull(),
    residentId: text("resident_id").notNull(),
    period: text("period").notNull(),
    rating: integer("rating").notNull(),
    unitPath: text("unit_path").notNull(),
    recordedBy: text("recorded_by").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("lead_ratings_once_uq").on(t.leadId, t.residentId, t.period),
    index("lead_ratings_lead_idx").on(t.leadId, t.period),
  ],
);

/**
 * What a household lead is paid for (以案定补, 以事奖补): a case handled or an event, with the amount in
 * integer fen fixed from the unit setting when it is recorded.
 */
export const leadSubsidyItems = sqliteTable(
  "lead_subsidy_items",
  {
    id: text("id").primaryKey(),
    leadId: text("lead_id").notNull(),
    unitPath: text("unit_path").notNull(),
    month: text("month").notNull(),
    kind: text("kind", { enum: ["case", "event"] }).notNull(),
    refId: text("ref_id"),
    description: text("description").notNull(),
    amountFen: integer("amount_fen").notNull(),
    occurredAt: text("occurred_at").notNull(),
    recordedBy: text("recorded_by").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [
    index("lead_subsidy_items_month_idx").on(t.leadId, t.month),
    uniqueIndex("lead_subsidy_items_case_uq").on(t.leadId, t.refId).where(sql`${t.kind} = 'case'`),
  ],
);

/** A centre's flag on a lead for adjustment (动态调整); cleared by setting `cleared_at`. */
export const leadFlags = sqliteTable(
  "lead_flags",
  {
    id: text("id").primaryKey(),
    leadId: text("lead_id").notNull(),
    unitPath: text("unit_path").notNull(),
    period: text("period").notNull(),
    averageRating: integer("average_rating_x100").notNull(),
    reason: text("reason").notNull(),
    flaggedBy: text("flagged_by").notNull(),
    flaggedAt: text("flagged_at").notNull(),
    clearedAt: text("cleared_at"),
  },
  (t) => [
    uniqueIndex("lead_flags_open_uq").on(t.leadId).where(sql`${t.clearedAt} IS NULL`),
    index("lead_flags_path_idx").on(t.unitPath).where(sql`${t.clearedAt} IS NULL`),
  ],
);

/**
 * A contact log linked to a case (联系记录关联事件): information a contact collected, or a dispute they
 * mediated, tied to the case it fed; optionally to the visit (contact) where it happened. One link per
 * contact, case and kind.
 */
export const contactCaseLinks = sqliteTable(
  "contact_case_links",
  {
    id: text("id").primaryKey(),
    contactId: text("contact_id").notNull(),
    caseId: text("case_id").notNull(),
    kind: text("kind", { enum: ["information", "mediation"] }).notNull(),
    visitId: text("visit_id"),
    note: text("note"),
    unitPath: text("unit_path").notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("contact_case_links_uq").on(t.contactId, t.caseId, t.kind),
    index("contact_case_links_case_idx").on(t.caseId),
  ],
);
