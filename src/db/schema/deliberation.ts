import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { SlaStep } from "../../domain/sla";

/**
 * Village representatives (村民代表) and Party branch members registered per village with their terms: the
 * eligible number of a representatives' or Party members' meeting is counted from here as of its date.
 */
export const deliberationMembers = sqliteTable(
  "deliberation_members",
  {
    id: text("id").primaryKey(),
    unitId: text("unit_id").notNull(),
    unitPath: text("unit_path").notNull(),
    kind: text("kind", { enum: ["representative", "party_member"] }).notNull(),
    name: text("name").notNull(),
    userId: text("user_id"),
    residentId: text("resident_id"),
    termStart: text("term_start").notNull(),
    termEnd: text("term_end"),
    createdBy: text("created_by").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [index("deliberation_members_unit_idx").on(t.unitId, t.kind, t.termStart)],
);

/** A unit's own micro-power list and rules of procedure (JSON), tightening the ones above it. */
export const deliberationRules = sqliteTable("deliberation_rules", {
  unitId: text("unit_id").primaryKey(),
  unitPath: text("unit_path").notNull(),
  powerList: text("power_list").notNull(),
  procedure: text("procedure"),
  updatedBy: text("updated_by").notNull(),
  updatedAt: text("updated_at").notNull(),
});

/** A session: a policy briefing, an open talk or a consultation, with its attendance and minutes. */
export const deliberationSessions = sqliteTable(
  "deliberation_sessions",
  {
    id: text("id").primaryKey(),
    unitId: text("unit_id").notNull(),
    unitPath: text("unit_path").notNull(),
    kind: text("kind", { enum: ["policy_briefing", "open_talk", "consultation"] }).notNull(),
    title: text("title").notNull(),
    heldAt: text("held_at").notNull(),
    place: text("place").notNull(),
    hostId: text("host_id").notNull(),
    topics: text("topics").notNull().default("[]"),
    attendeeUserIds: text("attendee_user_ids").notNull().default("[]"),
    attendeeHouseholdIds: text("attendee_household_ids").notNull().default("[]"),
    unregisteredCount: integer("unregistered_count").notNull().default(0),
    minutes: text("minutes"),
    createdBy: text("created_by").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [index("deliberation_sessions_path_idx").on(t.unitPath, t.heldAt)],
);

/** A matter raised (说事事项) and its one triage outcome. */
export const deliberationMatters = sqliteTable(
  "deliberation_matters",
  {
    id: text("id").primaryKey(),
    unitId: text("unit_id").notNull(),
    unitPath: text("unit_path").notNull(),
    sessionId: text("session_id"),
    summary: text("summary").notNull(),
    raisedByName: text("raised_by_name"),
    raisedByUserId: text("raised_by_user_id").notNull(),
    householdId: text("household_id"),
    raisedAt: text("raised_at").notNull(),
    outcome: text("outcome", { enum: ["answered", "case", "agenda", "declined"] }),
    outcomeBy: text("outcome_by"),
    outcomeAt: text("outcome_at"),
    answer: text("answer"),
    caseId: text("case_id"),
    caseOwnerId: text("case_owner_id"),
    itemId: text("item_id"),
    /** The resident account that raised it through the residents' channel (then also `raised_by_user_id`). */
    raisedByAccountId: text("raised_by_account_id"),
  },
  (t) => [
    index("deliberation_matters_path_idx").on(t.unitPath, t.raisedAt),
    index("deliberation_matters_session_idx").on(t.sessionId),
    index("deliberation_matters_account_idx").on(t.raisedByAccountId, t.raisedAt, t.id),
  ],
);

/** An agenda item decided by the four steps (四议两公开). */
export const deliberationItems = sqliteTable(
  "deliberation_items",
  {
    id: text("id").primaryKey(),
    unitId: text("unit_id").notNull(),
    unitPath: text("unit_path").notNull(),
    matterId: text("matter_id"),
    title: text("title").notNull(),
    kind: text("kind"),
    amountYuan: integer("amount_yuan"),
    state: text("state", { enum: ["open", "resolved", "rejected", "decided", "result_published"] }).notNull(),
    /** The required steps and notice period, fixed when the item is put on the agenda (JSON). */
    procedure: text("procedure").notNull(),
    proposedOn: text("proposed_on"),
    resolvedOn: text("resolved_on"),
    decidedOn: text("decided_on"),
    resultOn: text("result_on"),
    resultSummary: text("result_summary"),
    version: integer("version").notNull().default(1),
    createdBy: text("created_by").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [index("deliberation_items_path_idx").on(t.unitPath, t.createdAt)],
);

/** One step of an item: its meeting, attendance, eligible numbers and votes. `voided` when sent back. */
export const deliberationSteps = sqliteTable(
  "deliberation_steps",
  {
    id: text("id").primaryKey(),
    itemId: text("item_id").notNull(),
    step: text("step", { enum: ["proposal", "discussion", "review", "resolution"] }).notNull(),
    meeting: text("meeting").notNull(),
    sessionId: text("session_id"),
    heldOn: text("held_on").notNull(),
    present: integer("present").notNull(),
    households: integer("households"),
    eligible: text("eligible").notNull(),
    votesFor: integer("votes_for").notNull(),
    votesAgainst: integer("votes_against").notNull(),
    votesAbstain: integer("votes_abstain").notNull(),
    quorate: integer("quorate", { mode: "boolean" }).notNull(),
    passed: integer("passed", { mode: "boolean" }).notNull(),
    note: text("note"),
    /** Each member's vote (JSON), where the village's rules ask for a roll call; never on the public board. */
    rollCall: text("roll_call"),
    voided: integer("voided", { mode: "boolean" }).notNull().default(false),
    recordedBy: text("recorded_by").notNull(),
    recordedAt: text("recorded_at").notNull(),
  },
  (t) => [index("deliberation_steps_item_idx").on(t.itemId, t.recordedAt)],
);

/** A public notice (公示): a resolution, or an implementation result. */
export const deliberationNotices = sqliteTable(
  "deliberation_notices",
  {
    id: text("id").primaryKey(),
    itemId: text("item_id").notNull(),
    unitId: text("unit_id").notNull(),
    unitPath: text("unit_path").notNull(),
    kind: text("kind", { enum: ["resolution", "result"] }).notNull(),
    title: text("title").notNull(),
    body: text("body").notNull(),
    publishedOn: text("published_on").notNull(),
    endsOn: text("ends_on").notNull(),
    withdrawnAt: text("withdrawn_at"),
    publishedAt: text("published_at").notNull(),
  },
  (t) => [index("deliberation_notices_unit_idx").on(t.unitId, t.publishedAt)],
);

/** An objection to a notice, and how it was answered. */
export const deliberationObjections = sqliteTable(
  "deliberation_objections",
  {
    id: text("id").primaryKey(),
    noticeId: text("notice_id").notNull(),
    itemId: text("item_id").notNull(),
    text: text("text").notNull(),
    raisedByUserId: text("raised_by_user_id").notNull(),
    state: text("state", { enum: ["open", "dismissed", "upheld"] }).notNull(),
    answer: text("answer"),
    backTo: text("back_to"),
    raisedAt: text("raised_at").notNull(),
    answeredAt: text("answered_at"),
  },
  (t) => [index("deliberation_objections_item_idx").on(t.itemId, t.state)],
);

/** A task carrying out a resolution (合力干事), with its progress. */
export const deliberationTasks = sqliteTable(
  "deliberation_tasks",
  {
    id: text("id").primaryKey(),
    itemId: text("item_id").notNull(),
    unitId: text("unit_id").notNull(),
    unitPath: text("unit_path").notNull(),
    title: text("title").notNull(),
    ownerUserId: text("owner_user_id"),
    ownerUnitId: text("owner_unit_id"),
    dueOn: text("due_on").notNull(),
    progress: integer("progress").notNull().default(0),
    doneOn: text("done_on"),
    overdueNotified: integer("overdue_notified", { mode: "boolean" }).notNull().default(false),
    version: integer("version").notNull().default(1),
    createdAt: text("created_at").notNull(),
    /** The last time-limit step taken (`warned`, `overdue`, `escalate`), null before the first. */
    slaStep: text("sla_step").$type<SlaStep>(),
    /** When the task's clock next needs a look (the cron's index range); null once done or every step was taken. */
    nextStepAt: text("next_step_at"),
  },
  (t) => [
    index("deliberation_tasks_item_idx").on(t.itemId),
    index("deliberation_tasks_due_idx").on(t.dueOn, t.doneOn),
    index("deliberation_tasks_next_step_idx").on(t.nextStepAt),
  ],
);

/** The timeline of a task's progress. */
export const deliberationTaskEntries = sqliteTable(
  "deliberation_task_entries",
  {
    id: text("id").primaryKey(),
    taskId: text("task_id").notNull(),
    progress: integer("progress").notNull(),
    note: text("note").notNull(),
    byUserId: text("by_user_id").notNull(),
    at: text("at").notNull(),
  },
  (t) => [index("deliberation_task_entries_task_idx").on(t.taskId, t.at)],
);

/** Satisfaction with a published result: one per person and item. */
export const deliberationFeedback = sqliteTable(
  "deliberation_feedback",
  {
    id: text("id").primaryKey(),
    itemId: text("item_id").notNull(),
    unitPath: text("unit_path").notNull(),
    satisfaction: text("satisfaction", {
      enum: ["satisfied", "basically_satisfied", "dissatisfied"],
    }).notNull(),
    byUserId: text("by_user_id").notNull(),
    at: text("at").notNull(),
  },
  (t) => [uniqueIndex("deliberation_feedback_uq").on(t.itemId, t.byUserId)],
);

/** A session's photo or sign-in sheet (签到表); the bytes are in R2 under `deliberation/<id>`. */
export const deliberationAttachments = sqliteTable(
  "deliberation_attachments",
  {
    id: text("id").primaryKey(),
    sessionId: text("session_id").notNull(),
    unitPath: text("unit_path").notNull(),
    kind: text("kind", { enum: ["photo", "sign_in_sheet"] }).notNull(),
    contentType: text("content_type").notNull(),
    size: integer("size").notNull(),
    uploadedBy: text("uploaded_by").notNull(),
    uploadedAt: text("uploaded_at").notNull(),
  },
  (t) => [index("deliberation_attachments_session_idx").on(t.sessionId, t.uploadedAt)],
);
