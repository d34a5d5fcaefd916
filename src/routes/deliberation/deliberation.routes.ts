import { createRoute, z } from "@hono/zod-openapi";
import { EVIDENCE_TYPES, MAX_ATTACHMENT_BYTES } from "../../domain/case-evidence";
import { CASE_SEVERITIES, CASE_TYPES } from "../../domain/case-model";
import {
  ITEM_STATE_LABELS,
  ITEM_STATES,
  MATTER_OUTCOME_LABELS,
  MATTER_OUTCOMES,
  MAX_SESSION_ATTACHMENTS,
  MEETING_KIND_LABELS,
  MEETING_KINDS,
  MEMBER_KINDS,
  SESSION_ATTACHMENT_KINDS,
  SESSION_KIND_LABELS,
  SESSION_KINDS,
  STEP_LABELS,
  STEPS,
} from "../../domain/deliberation";
import { errorResponses, guarded, IdParam, jsonBody, jsonResponse } from "../../platform/http/openapi";
import { responseHeaders } from "../../platform/http/openapi-document";
import { pageQuery, pageSchema } from "../../platform/http/pagination";
import { residentBearer } from "../../platform/http/resident-auth";
import { labels } from "../cases/cases.routes";

const TAG = ["deliberation"];
const text = (max: number) => z.string().trim().min(1).max(max);
/** A China calendar date that exists (2026-02-30 does not). */
const ChinaDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "a date as YYYY-MM-DD")
  .refine((d) => {
    const t = Date.parse(`${d}T00:00:00Z`);
    return Number.isFinite(t) && new Date(t).toISOString().slice(0, 10) === d;
  }, "not a calendar date")
  .openapi({ description: "A China date (UTC+8), YYYY-MM-DD", example: "2026-05-10" });
const Count = z.number().int().min(0).max(1_000_000);

const StepSchema = z.enum(STEPS).openapi({ description: labels(STEP_LABELS) });
const MeetingSchema = z.enum(MEETING_KINDS).openapi({ description: labels(MEETING_KIND_LABELS) });
const SessionKindSchema = z.enum(SESSION_KINDS).openapi({ description: labels(SESSION_KIND_LABELS) });
const OutcomeSchema = z.enum(MATTER_OUTCOMES).openapi({ description: labels(MATTER_OUTCOME_LABELS) });
const ItemStateSchema = z.enum(ITEM_STATES).openapi({ description: labels(ITEM_STATE_LABELS) });
const MemberKindSchema = z
  .enum(MEMBER_KINDS)
  .openapi({ description: "`representative` — 村民代表; `party_member` — 村党组织党员" });
const RollCallSchema = z
  .array(z.strictObject({ memberId: z.uuid(), vote: z.enum(["for", "against", "abstain"]) }))
  .max(2000)
  .openapi({
    description:
      "Each registered member's vote, where the village's rules ask for a roll call; never on the public board",
  });
const VotesSchema = z.object({ for: Count, against: Count, abstain: Count }).openapi("DeliberationVotes");
const EligibleSchema = z
  .object({
    adults: z.number().int(),
    households: z.number().int(),
    representatives: z.number().int(),
    partyMembers: z.number().int(),
  })
  .openapi("DeliberationEligible");

const MemberSchema = z
  .object({
    id: z.uuid(),
    unitId: z.uuid(),
    kind: MemberKindSchema,
    name: z.string(),
    userId: z.uuid().nullable(),
    residentId: z.uuid().nullable(),
    termStart: z.string(),
    termEnd: z.string().nullable(),
  })
  .openapi("DeliberationMember");

const PowerKindSchema = z
  .strictObject({
    kind: z.string().regex(/^[a-z][a-z0-9_]{1,49}$/),
    label: text(50),
    steps: z.array(StepSchema).max(4),
    noticeDays: z.number().int().min(0).max(90),
    minAmountYuan: z.number().int().min(0).max(1e12).nullable(),
  })
  .openapi("PowerKind");
const FractionSchema = z.strictObject({
  num: z.number().int().min(1).max(100),
  den: z.number().int().min(1).max(100),
  strict: z.boolean(),
});
const ProcedureRulesSchema = z
  .strictObject({
    villagersAdults: FractionSchema,
    villagersHouseholds: FractionSchema,
    representatives: FractionSchema,
    partyMembers: FractionSchema,
    majority: FractionSchema,
    rollCall: z.boolean().openapi({
      description: "Record each member's vote (记名表决) at representatives' and Party members' meetings",
    }),
  })
  .openapi("ProcedureRules");
const PowerListSchema = z
  .object({
    unitId: z.uuid(),
    list: z.array(PowerKindSchema),
    procedure: ProcedureRulesSchema,
    ownList: z.array(PowerKindSchema),
    ownProcedure: ProcedureRulesSchema.partial().nullable(),
  })
  .openapi("PowerList");

const MatterSchema = z
  .object({
    id: z.uuid(),
    unitId: z.uuid(),
    sessionId: z.uuid().nullable(),
    summary: z.string(),
    raisedByName: z
      .string()
      .nullable()
      .openapi({ description: "Who raised it (personal data: never on the public board)" }),
    raisedByUserId: z.uuid().nullable().openapi({
      description: "The user who raised it; null when a resident raised it in their own channel",
    }),
    raisedByResident: z
      .boolean()
      .openapi({ description: "Raised by a resident through the residents' channel (群众说事)" }),
    householdId: z.uuid().nullable(),
    raisedAt: z.string(),
    outcome: OutcomeSchema.nullable(),
    outcomeBy: z.uuid().nullable(),
    outcomeAt: z.string().nullable(),
    answer: z
      .string()
      .nullable()
      .openapi({ description: "The policy answer, or the reason it was declined" }),
    caseId: z.uuid().nullable(),
    caseState: z.string().nullable(),
    itemId: z.uuid().nullable(),
    status: z.enum(["raised", "in_hand", "closed"]).openapi({
      description:
        "`raised` — 待分流; `in_hand` — 办理中; `closed` — 已办结 (a case's matter closes and reopens with its case; an agenda matter closes with its published result)",
    }),
  })
  .openapi("DeliberationMatter");

const MatterWithHistorySchema = MatterSchema.extend({
  itemState: ItemStateSchema.nullable(),
  history: z.array(z.object({ at: z.string(), event: z.string(), detail: z.string().nullable() })),
}).openapi("DeliberationMatterHistory");

const SessionSchema = z
  .object({
    id: z.uuid(),
    unitId: z.uuid(),
    kind: SessionKindSchema,
    title: z.string(),
    heldAt: z.string(),
    place: z.string(),
    hostId: z.uuid(),
    topics: z.array(z.string()),
    attendeeUserIds: z.array(z.uuid()),
    attendeeHouseholdIds: z.array(z.uuid()),
    unregisteredCount: z.number().int(),
    minutes: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi("DeliberationSession");

const SessionAttachmentSchema = z
  .object({
    id: z.uuid(),
    sessionId: z.uuid(),
    kind: z
      .enum(SESSION_ATTACHMENT_KINDS)
      .openapi({ description: "`photo` — 现场照片; `sign_in_sheet` — 签到表" }),
    contentType: z.enum(EVIDENCE_TYPES),
    size: z.number().int(),
    uploadedBy: z.uuid(),
    uploadedAt: z.string(),
    url: z.string(),
  })
  .openapi("DeliberationSessionAttachment");

const TaskSchema = z
  .object({
    id: z.uuid(),
    itemId: z.uuid(),
    title: z.string(),
    ownerUserId: z.uuid().nullable(),
    ownerUnitId: z.uuid().nullable(),
    dueOn: z.string(),
    progress: z.number().int(),
    doneOn: z.string().nullable(),
    overdue: z.boolean(),
    version: z.number().int(),
    timeLimit: z
      .object({
        warnAt: z.string().openapi({ description: "预警: the owner's unit and the village centre are told" }),
        dueAt: z
          .string()
          .openapi({ description: "超期: the end of the due China date; the village centre is told" }),
        escalateAt: z
          .string()
          .openapi({ description: "上报上级: still open then, the task is escalated to the town centre" }),
        step: z
          .enum(["warned", "overdue", "escalate"])
          .nullable()
          .openapi({ description: "The last step taken (null before the first)" }),
      })
      .openapi({
        description: "The task's time-limit steps, on the case machinery (src/domain/task-deadlines.ts)",
      }),
  })
  .openapi("DeliberationTask");

const NoticeSchema = z.object({
  id: z.uuid(),
  kind: z
    .enum(["resolution", "result"])
    .openapi({ description: "`resolution` — 决议公开; `result` — 实施结果公开" }),
  title: z.string(),
  body: z.string(),
  publishedOn: z.string(),
  endsOn: z.string().openapi({ description: "The last China date of the notice period (公示期)" }),
});

const ItemSchema = z
  .object({
    id: z.uuid(),
    unitId: z.uuid(),
    matterId: z.uuid().nullable(),
    title: z.string(),
    kind: z.string().nullable(),
    amountYuan: z.number().int().nullable(),
    listedKind: z
      .string()
      .nullable()
      .openapi({ description: "The micro-power list's kind it falls under, if any" }),
    requiredSteps: z.array(StepSchema),
    noticeDays: z.number().int(),
    state: ItemStateSchema,
    passedSteps: z.array(StepSchema),
    missing: z.string().nullable().openapi({ description: "While resolved: what the decision still lacks" }),
    version: z.number().int(),
    resultSummary: z.string().nullable(),
    steps: z.array(
      z.object({
        id: z.uuid(),
        step: StepSchema,
        meeting: MeetingSchema,
        sessionId: z.uuid().nullable(),
        heldOn: z.string(),
        present: z.number().int(),
        households: z.number().int().nullable(),
        eligible: EligibleSchema,
        votes: VotesSchema,
        quorate: z.boolean(),
        passed: z.boolean(),
        note: z.string().nullable(),
        rollCall: RollCallSchema.nullable(),
        voided: z.boolean(),
        recordedAt: z.string(),
      }),
    ),
    notices: z.array(NoticeSchema.extend({ withdrawn: z.boolean() })),
    objections: z.array(
      z.object({
        id: z.uuid(),
        noticeId: z.uuid(),
        text: z.string(),
        state: z.enum(["open", "dismissed", "upheld"]),
        answer: z.string().nullable(),
        backTo: StepSchema.nullable(),
        raisedAt: z.string(),
        answeredAt: z.string().nullable(),
      }),
    ),
    tasks: z.array(
      TaskSchema.extend({
        timeline: z.array(
          z.object({ progress: z.number().int(), note: z.string(), byUserId: z.uuid(), at: z.string() }),
        ),
      }),
    ),
    satisfaction: z.record(z.string(), z.number().int()),
  })
  .openapi("DeliberationItem");

const BoardSchema = z
  .object({
    unit: z.object({ id: z.uuid(), name: z.string() }),
    notices: z.array(
      NoticeSchema.extend({
        current: z.boolean().openapi({ description: "Still within its notice period today (China date)" }),
        item: z.object({ title: z.string(), state: ItemStateSchema }),
        resolution: z
          .object({
            meeting: MeetingSchema,
            heldOn: z.string(),
            present: z.number().int(),
            votes: VotesSchema,
          })
          .nullable()
          .openapi({ description: "The passing resolution's counts; never who voted how" }),
      }),
    ),
  })
  .openapi("VillageNoticeBoard");

const FiguresSchema = z
  .object({
    unitId: z.uuid(),
    from: z.string(),
    to: z.string(),
    sessions: z.record(z.string(), z.number().int()),
    matters: z.object({
      raised: z.number().int(),
      byOutcome: z.record(z.string(), z.number().int()),
      sharePercent: z.object({
        answered: z.number().int().nullable(),
        case: z.number().int().nullable(),
        agenda: z.number().int().nullable(),
        declined: z.number().int().nullable(),
      }),
    }),
    itemsDecided: z.number().int(),
    medianDaysProposalToResolution: z.number().nullable(),
    medianDaysResolutionToResult: z.number().nullable(),
    taskOnTimePercent: z.number().int().nullable(),
    satisfactionPercent: z.number().int().nullable(),
  })
  .openapi("DeliberationFigures");

const ItemParams = IdParam;

export const registerMember = createRoute({
  method: "post",
  path: "/v1/units/{id}/deliberation/members",
  operationId: "registerDeliberationMember",
  tags: TAG,
  summary: "Register a village representative (村民代表) or Party member with their term",
  ...guarded("deliberation.registry"),
  request: {
    params: IdParam,
    body: jsonBody(
      z
        .strictObject({
          kind: MemberKindSchema,
          name: text(50),
          residentId: z.uuid().optional(),
          userId: z.uuid().optional(),
          termStart: ChinaDate,
          termEnd: ChinaDate.optional(),
        })
        .openapi("NewDeliberationMember"),
    ),
  },
  responses: { 201: jsonResponse(MemberSchema, "Registered"), ...errorResponses(403, 404) },
});

export const listMembers = createRoute({
  method: "get",
  path: "/v1/units/{id}/deliberation/members",
  operationId: "listDeliberationMembers",
  tags: TAG,
  summary: "A village's representatives and Party members (at most 500), optionally serving on a date",
  ...guarded("deliberation.read"),
  request: {
    params: IdParam,
    query: z.object({ kind: MemberKindSchema.optional(), on: ChinaDate.optional() }),
  },
  responses: {
    200: jsonResponse(z.object({ items: z.array(MemberSchema) }), "Members"),
    ...errorResponses(404),
  },
});

export const eligible = createRoute({
  method: "get",
  path: "/v1/units/{id}/deliberation/eligible",
  operationId: "getDeliberationEligible",
  tags: TAG,
  summary:
    "Who could attend a meeting on a date, from the registry (adults, households, representatives, Party members)",
  ...guarded("deliberation.read"),
  request: { params: IdParam, query: z.object({ on: ChinaDate }) },
  responses: {
    200: jsonResponse(EligibleSchema.extend({ unitId: z.uuid(), on: z.string() }), "Eligible numbers"),
    ...errorResponses(404),
  },
});

export const getPowerList = createRoute({
  method: "get",
  path: "/v1/units/{id}/deliberation/power-list",
  operationId: "getPowerList",
  tags: TAG,
  summary: "The micro-power list (小微权力清单) and rules of procedure (议事规则) in force at a unit",
  ...guarded("deliberation.read"),
  request: { params: IdParam },
  responses: { 200: jsonResponse(PowerListSchema, "In force"), ...errorResponses(404) },
});

export const setPowerList = createRoute({
  method: "put",
  path: "/v1/units/{id}/deliberation/power-list",
  operationId: "setPowerList",
  tags: TAG,
  summary: "Set a unit's own micro-power list and rules of procedure",
  description:
    "Tightens what the units above require (steps are united, the longer notice and lower threshold win); it cannot loosen them. Rules of procedure of the nearest unit that sets them apply.",
  ...guarded("deliberation.registry"),
  request: {
    params: IdParam,
    body: jsonBody(
      z
        .strictObject({
          kinds: z.array(PowerKindSchema).max(50),
          procedure: ProcedureRulesSchema.partial().optional(),
        })
        .openapi("SetPowerList"),
    ),
  },
  responses: { 200: jsonResponse(PowerListSchema, "In force"), ...errorResponses(403, 404) },
});

export const createSession = createRoute({
  method: "post",
  path: "/v1/units/{id}/deliberation/sessions",
  operationId: "createDeliberationSession",
  tags: TAG,
  summary: "Record a session of a village or grid: policy briefing, open talk or consultation",
  ...guarded("deliberation.run"),
  request: {
    params: IdParam,
    body: jsonBody(
      z
        .strictObject({
          kind: SessionKindSchema,
          title: text(200),
          heldAt: z.iso.datetime(),
          place: text(200),
          hostId: z.uuid().optional(),
          topics: z.array(text(200)).max(50).optional(),
          attendeeUserIds: z.array(z.uuid()).max(500).optional(),
          attendeeHouseholdIds: z.array(z.uuid()).max(2000).optional(),
          unregisteredCount: Count.optional(),
          minutes: text(20_000).optional(),
        })
        .openapi("NewDeliberationSession"),
    ),
  },
  responses: { 201: jsonResponse(SessionSchema, "Recorded"), ...errorResponses(403, 404) },
});

export const getSession = createRoute({
  method: "get",
  path: "/v1/deliberation/sessions/{id}",
  operationId: "getDeliberationSession",
  tags: TAG,
  summary: "A session with the matters raised at it",
  ...guarded("deliberation.read"),
  request: { params: IdParam },
  responses: {
    200: jsonResponse(
      SessionSchema.extend({ matters: z.array(MatterSchema), attachments: z.array(SessionAttachmentSchema) }),
      "The session",
    ),
    ...errorResponses(404),
  },
});

export const raiseMatter = createRoute({
  method: "post",
  path: "/v1/deliberation/matters",
  operationId: "raiseDeliberationMatter",
  tags: TAG,
  summary: "Raise a matter (说事): in a session, or on a resident's behalf in a village or grid",
  ...guarded("deliberation.raise"),
  request: {
    body: jsonBody(
      z
        .strictObject({
          sessionId: z.uuid().optional(),
          unitId: z.uuid().optional(),
          summary: text(2000),
          raisedByName: text(50).optional(),
          householdId: z.uuid().optional(),
        })
        .openapi("NewDeliberationMatter"),
    ),
  },
  responses: { 201: jsonResponse(MatterSchema, "Raised"), ...errorResponses(403, 404) },
});

export const getMatter = createRoute({
  method: "get",
  path: "/v1/deliberation/matters/{id}",
  operationId: "getDeliberationMatter",
  tags: TAG,
  summary: "A matter and its whole history (its raiser, and the village, may read it)",
  ...guarded("deliberation.read"),
  request: { params: IdParam },
  responses: { 200: jsonResponse(MatterWithHistorySchema, "The matter"), ...errorResponses(404) },
});

export const triageMatter = createRoute({
  method: "post",
  path: "/v1/deliberation/matters/{id}/triage",
  operationId: "triageDeliberationMatter",
  tags: TAG,
  summary: "Triage a matter into exactly one outcome, once",
  description:
    "`answered` with the policy answer; `case`, reported in a grid of the matter's branch (the case names the matter; its closing closes the matter); `agenda`, a major matter put to consultation, with its kind on the micro-power list; `declined` with a reason shown to whoever raised it. A second triage is 409 `already-triaged`.",
  ...guarded("deliberation.run"),
  request: {
    params: IdParam,
    body: jsonBody(
      z
        .discriminatedUnion("outcome", [
          z.strictObject({ outcome: z.literal("answered"), answer: text(5000) }),
          z.strictObject({ outcome: z.literal("declined"), reason: text(2000) }),
          z.strictObject({
            outcome: z.literal("case"),
            gridId: z.uuid(),
            type: z.enum(CASE_TYPES),
            severity: z.enum(CASE_SEVERITIES),
            title: text(200),
          }),
          z.strictObject({
            outcome: z.literal("agenda"),
            title: text(200),
            kind: z
              .string()
              .regex(/^[a-z][a-z0-9_]{1,49}$/)
              .optional(),
            amountYuan: z.number().int().min(0).max(1e12).optional(),
          }),
        ])
        .openapi("DeliberationTriage"),
    ),
  },
  responses: { 200: jsonResponse(MatterWithHistorySchema, "Triaged"), ...errorResponses(403, 404, 409) },
});

export const getItem = createRoute({
  method: "get",
  path: "/v1/deliberation/items/{id}",
  operationId: "getDeliberationItem",
  tags: TAG,
  summary: "An agenda item: its steps, notices, objections, tasks and satisfaction",
  ...guarded("deliberation.read"),
  request: { params: ItemParams },
  responses: { 200: jsonResponse(ItemSchema, "The item"), ...errorResponses(404) },
});

export const recordStep = createRoute({
  method: "post",
  path: "/v1/deliberation/items/{id}/steps",
  operationId: "recordDeliberationStep",
  tags: TAG,
  summary: "Record a step of the four (四议) with its meeting, attendance and votes",
  description:
    "Steps go in statutory order (409 `step-out-of-order`). Attendance and votes are checked against the registry's numbers on the meeting date (400 `votes-exceed-attendance`, `attendance-exceeds-eligible`). Quorum and majority follow the village's rules of procedure (Organic Law art. 22, 26 by default); a vote without quorum is recorded and decides nothing.",
  ...guarded("deliberation.run"),
  request: {
    params: ItemParams,
    body: jsonBody(
      z
        .strictObject({
          step: StepSchema,
          meeting: MeetingSchema,
          sessionId: z.uuid().optional(),
          heldOn: ChinaDate,
          attendance: z.strictObject({ present: Count, households: Count.optional() }),
          votes: VotesSchema,
          rollCall: RollCallSchema.optional(),
          note: text(2000).optional(),
        })
        .openapi("NewDeliberationStep"),
    ),
  },
  responses: { 201: jsonResponse(ItemSchema, "Recorded"), ...errorResponses(403, 404, 409) },
});

const NoticeBody = jsonBody(
  z.strictObject({ title: text(200), body: text(20_000) }).openapi("NewDeliberationNotice"),
);

export const publishResolution = createRoute({
  method: "post",
  path: "/v1/deliberation/items/{id}/resolution-notice",
  operationId: "publishDeliberationResolution",
  tags: TAG,
  summary: "Make a passed resolution public (决议公开) for its notice period",
  ...guarded("deliberation.run"),
  request: { params: ItemParams, body: NoticeBody },
  responses: { 201: jsonResponse(ItemSchema, "Public"), ...errorResponses(403, 404, 409) },
});

export const raiseObjection = createRoute({
  method: "post",
  path: "/v1/deliberation/notices/{id}/objections",
  operationId: "objectToDeliberationNotice",
  tags: TAG,
  summary: "Object to a resolution during its notice period",
  ...guarded("deliberation.object"),
  request: { params: IdParam, body: jsonBody(z.strictObject({ text: text(2000) }).openapi("NewObjection")) },
  responses: { 201: jsonResponse(ItemSchema, "Recorded"), ...errorResponses(403, 404, 409) },
});

export const answerObjection = createRoute({
  method: "post",
  path: "/v1/deliberation/objections/{id}/answer",
  operationId: "answerDeliberationObjection",
  tags: TAG,
  summary: "Answer an objection: dismissed, or upheld (and sent back to a step)",
  ...guarded("deliberation.run"),
  request: {
    params: IdParam,
    body: jsonBody(
      z
        .strictObject({ upheld: z.boolean(), answer: text(2000), backTo: StepSchema.optional() })
        .openapi("ObjectionAnswer"),
    ),
  },
  responses: { 200: jsonResponse(ItemSchema, "Answered"), ...errorResponses(403, 404, 409) },
});

export const decideItem = createRoute({
  method: "post",
  path: "/v1/deliberation/items/{id}/decision",
  operationId: "decideDeliberationItem",
  tags: TAG,
  summary: "Put a resolution into effect once its steps and notice period are complete",
  description:
    "409 naming what is missing: a required step (`procedure-incomplete`), the notice period (`notice-period-running`), or open objections.",
  ...guarded("deliberation.run"),
  request: { params: ItemParams },
  responses: { 200: jsonResponse(ItemSchema, "Decided"), ...errorResponses(403, 404, 409) },
});

export const addTask = createRoute({
  method: "post",
  path: "/v1/deliberation/items/{id}/tasks",
  operationId: "addDeliberationTask",
  tags: TAG,
  summary: "Add a task carrying out a resolution (合力干事), owned by a user or a unit",
  ...guarded("deliberation.run"),
  request: {
    params: ItemParams,
    body: jsonBody(
      z
        .strictObject({
          title: text(200),
          ownerUserId: z.uuid().optional(),
          ownerUnitId: z.uuid().optional(),
          dueOn: ChinaDate,
        })
        .openapi("NewDeliberationTask"),
    ),
  },
  responses: { 201: jsonResponse(TaskSchema, "Added"), ...errorResponses(403, 404, 409) },
});

export const reportProgress = createRoute({
  method: "post",
  path: "/v1/deliberation/tasks/{id}/progress",
  operationId: "reportDeliberationTaskProgress",
  tags: TAG,
  summary: "Report a task's progress (0–100 %); 100 marks it done, once its item is decided",
  ...guarded("deliberation.progress"),
  request: {
    params: IdParam,
    body: jsonBody(
      z
        .strictObject({ progress: z.number().int().min(0).max(100), note: text(2000) })
        .openapi("DeliberationProgress"),
    ),
  },
  responses: { 200: jsonResponse(TaskSchema, "Recorded"), ...errorResponses(403, 404, 409) },
});

export const publishResult = createRoute({
  method: "post",
  path: "/v1/deliberation/items/{id}/result",
  operationId: "publishDeliberationResult",
  tags: TAG,
  summary: "Publish the implementation result (实施结果公开) once every task is done",
  ...guarded("deliberation.run"),
  request: { params: ItemParams, body: NoticeBody },
  responses: { 201: jsonResponse(ItemSchema, "Published"), ...errorResponses(403, 404, 409) },
});

export const giveFeedback = createRoute({
  method: "post",
  path: "/v1/deliberation/items/{id}/feedback",
  operationId: "giveDeliberationFeedback",
  tags: TAG,
  summary: "Satisfaction with a published result (one per person; a repeat replaces it)",
  ...guarded("deliberation.feedback"),
  request: {
    params: ItemParams,
    body: jsonBody(
      z
        .strictObject({ satisfaction: z.enum(["satisfied", "basically_satisfied", "dissatisfied"]) })
        .openapi("DeliberationFeedback"),
    ),
  },
  responses: { 200: jsonResponse(ItemSchema, "Recorded"), ...errorResponses(403, 404, 409) },
});

export const requireReview = createRoute({
  method: "post",
  path: "/v1/deliberation/items/{id}/review-requests",
  operationId: "requireDeliberationReview",
  tags: TAG,
  summary: "Require the village to review an item (town and above); it reaches the village centre's inbox",
  ...guarded("deliberation.review"),
  request: {
    params: ItemParams,
    body: jsonBody(z.strictObject({ reason: text(2000) }).openapi("DeliberationReviewRequest")),
  },
  responses: {
    201: jsonResponse(
      z
        .object({
          id: z.uuid(),
          itemId: z.uuid(),
          unitId: z.uuid(),
          reason: z.string(),
          requestedAt: z.string(),
        })
        .openapi("DeliberationReview"),
      "Required",
    ),
    ...errorResponses(403, 404),
  },
});

export const figures = createRoute({
  method: "get",
  path: "/v1/units/{id}/deliberation/figures",
  operationId: "getDeliberationFigures",
  tags: TAG,
  summary: "Deliberation figures for a subtree and a period of China dates",
  ...guarded("deliberation.figures"),
  request: { params: IdParam, query: z.object({ from: ChinaDate, to: ChinaDate }) },
  responses: { 200: jsonResponse(FiguresSchema, "Figures"), ...errorResponses(403, 404) },
});

const cacheHeaders = {
  ...responseHeaders("ETag"),
  "Cache-Control": {
    description: "`public, max-age=60`: the board is cached at the edge for a minute",
    schema: { type: "string" as const },
  },
};

export const publicBoard = createRoute({
  method: "get",
  path: "/v1/public/units/{id}/notices",
  operationId: "getVillageNoticeBoard",
  tags: TAG,
  summary: "A village's public notice board (村务公开): no token, no personal data",
  description:
    "Published resolutions, results and current notices. Attendee names, votes by person, raisers and objectors never appear. Cached at the edge; send `If-None-Match` with the `ETag` for a 304.",
  request: {
    params: IdParam,
    headers: z.object({ "if-none-match": z.string().max(200).optional() }),
  },
  responses: {
    200: { ...jsonResponse(BoardSchema, "The board"), headers: cacheHeaders },
    304: { description: "Not modified since the ETag sent", headers: cacheHeaders },
    ...errorResponses(404),
  },
});

const binary = { schema: z.string().openapi({ type: "string", format: "binary" }) };

export const uploadSessionAttachment = createRoute({
  method: "post",
  path: "/v1/deliberation/sessions/{id}/attachments",
  operationId: "uploadDeliberationSessionAttachment",
  tags: TAG,
  summary: "Add a photo or the sign-in sheet (签到表) to a session",
  description: `The raw image as the body with its Content-Type: JPEG, PNG, WebP or HEIC (checked by magic bytes), at most ${MAX_ATTACHMENT_BYTES / 1024 / 1024} MiB, at most ${MAX_SESSION_ATTACHMENTS} per session. A scanned sign-in sheet is sent as a photo of it.`,
  ...guarded("deliberation.run"),
  request: {
    params: IdParam,
    query: z.object({ kind: z.enum(SESSION_ATTACHMENT_KINDS).default("photo") }),
    body: { required: true, content: Object.fromEntries(EVIDENCE_TYPES.map((t) => [t, binary])) },
  },
  responses: {
    201: jsonResponse(SessionAttachmentSchema, "Stored and listed on the session", ["Location"]),
    ...errorResponses(403, 404, 409, 413, 415, 503),
  },
});

export const getSessionAttachment = createRoute({
  method: "get",
  path: "/v1/deliberation/attachments/{id}",
  operationId: "getDeliberationSessionAttachment",
  tags: TAG,
  summary: "Download a session's photo or sign-in sheet (if you may read the session); audited",
  ...guarded("deliberation.read"),
  request: { params: IdParam },
  responses: {
    200: {
      description: "The image",
      content: Object.fromEntries(EVIDENCE_TYPES.map((t) => [t, binary])),
      headers: responseHeaders("ETag"),
    },
    ...errorResponses(404, 503),
  },
});

export const listSessions = createRoute({
  method: "get",
  path: "/v1/units/{id}/deliberation/sessions",
  operationId: "listDeliberationSessions",
  tags: TAG,
  summary: "The sessions of a unit and the units below it on your branch, newest first",
  ...guarded("deliberation.read"),
  request: {
    params: IdParam,
    query: z.object({
      kind: SessionKindSchema.optional(),
      from: ChinaDate.optional().openapi({ description: "First China date held (inclusive)" }),
      to: ChinaDate.optional().openapi({ description: "Last China date held (inclusive)" }),
      ...pageQuery,
    }),
  },
  responses: {
    200: jsonResponse(pageSchema(SessionSchema).openapi("DeliberationSessionPage"), "A page of sessions"),
    ...errorResponses(404),
  },
});

// ---------------------------------------------------------------------------------------------------------
// The residents' channel: a resident raises a matter to their village and follows it (their own only)
// ---------------------------------------------------------------------------------------------------------

const RESIDENT_TAG = ["resident-accounts"];

const HistorySchema = z.array(
  z.object({
    at: z.string(),
    event: z.string().openapi({
      description:
        "raised, answered, declined, case, agenda, resolved, decided, result_published, case_closed, case_reopened",
    }),
    detail: z.string().nullable(),
  }),
);

const ResidentMatterSchema = z
  .object({
    id: z.uuid(),
    unitId: z.uuid().openapi({ description: "The village it was raised to" }),
    summary: z.string(),
    raisedAt: z.string(),
    status: z.enum(["raised", "in_hand", "closed"]).openapi({
      description:
        "`raised` — 待分流; `in_hand` — 办理中; `closed` — 已办结 (it reopens when its case does; an agenda matter closes with its published result)",
    }),
    outcome: OutcomeSchema.nullable(),
    answer: z
      .string()
      .nullable()
      .openapi({ description: "The policy answer, or the reason it was declined" }),
    caseState: z.string().nullable(),
    itemState: ItemStateSchema.nullable(),
    history: HistorySchema,
  })
  .openapi("ResidentDeliberationMatter");

const ResidentMatterItemSchema = z
  .object({
    id: z.uuid(),
    summary: z.string(),
    raisedAt: z.string(),
    outcome: OutcomeSchema.nullable(),
    status: z.enum(["raised", "in_hand", "closed"]),
  })
  .openapi("ResidentDeliberationMatterItem");

export const raiseResidentMatter = createRoute({
  method: "post",
  path: "/v1/resident/matters",
  operationId: "raiseResidentDeliberationMatter",
  tags: RESIDENT_TAG,
  summary: "A resident raises a matter (说事) to the village of their household",
  description:
    "Triaged by the village like every matter: answered, declined with a reason, turned into a case or put on a consultation agenda. 403 `household-not-linked` until the account is linked.",
  security: residentBearer,
  request: {
    body: jsonBody(z.strictObject({ summary: text(2000) }).openapi("NewResidentDeliberationMatter")),
  },
  responses: {
    201: jsonResponse(ResidentMatterSchema, "Raised", ["Location"]),
    ...errorResponses(403),
  },
});

export const listResidentMatters = createRoute({
  method: "get",
  path: "/v1/resident/matters",
  operationId: "listOwnDeliberationMatters",
  tags: RESIDENT_TAG,
  summary: "One's own matters, newest first",
  security: residentBearer,
  request: { query: z.object(pageQuery) },
  responses: {
    200: jsonResponse(pageSchema(ResidentMatterItemSchema), "A page of matters"),
    ...errorResponses(),
  },
});

export const getResidentMatter = createRoute({
  method: "get",
  path: "/v1/resident/matters/{id}",
  operationId: "getOwnDeliberationMatter",
  tags: RESIDENT_TAG,
  summary: "One's own matter and its whole history (404 for anyone else's)",
  security: residentBearer,
  request: { params: IdParam },
  responses: { 200: jsonResponse(ResidentMatterSchema, "The matter"), ...errorResponses(404) },
});
