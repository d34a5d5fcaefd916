import { createRoute, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { CASE_ACTIONS } from "../../domain/case-lifecycle";
import {
  CASE_SEVERITIES,
  CASE_SEVERITY_LABELS,
  CASE_STATE_LABELS,
  CASE_STATES,
  CASE_TYPE_LABELS,
  CASE_TYPES,
  MEDIATION_METHODS,
  MEDIATION_RESULTS,
  SATISFACTION_LABELS,
  SATISFACTIONS,
} from "../../domain/case-model";
import { ESCALATION_REASON_CODES, ESCALATION_REASON_LABELS } from "../../domain/escalation";
import { SLA_STEPS } from "../../domain/sla";
import type { AppEnv } from "../../env";
import { ifMatchHeader, requiredVersion } from "../../platform/http/if-match";
import { errorResponses, guarded, IdParam, jsonBody, jsonResponse } from "../../platform/http/openapi";
import { pageQuery, pageSchema } from "../../platform/http/pagination";

/** `key` — label pairs for an enum's OpenAPI description. */
export const labels = (entries: Record<string, string>) =>
  Object.entries(entries)
    .map(([k, v]) => `\`${k}\` — ${v}`)
    .join("; ");

export const CaseTypeSchema = z.enum(CASE_TYPES).openapi({ description: labels(CASE_TYPE_LABELS) });
export const SeveritySchema = z.enum(CASE_SEVERITIES).openapi({ description: labels(CASE_SEVERITY_LABELS) });
export const StateSchema = z.enum(CASE_STATES).openapi({ description: labels(CASE_STATE_LABELS) });
const SatisfactionSchema = z.enum(SATISFACTIONS).openapi({ description: labels(SATISFACTION_LABELS) });
const Note = z.string().trim().min(1).max(2000);

/** Where a case happened. */
export const LocationSchema = z
  .strictObject({
    lat: z.number().min(-90).max(90).optional(),
    lng: z.number().min(-180).max(180).optional(),
    address: z.string().trim().min(1).max(300).optional(),
  })
  .refine((l) => (l.lat === undefined) === (l.lng === undefined), {
    message: "lat and lng come together",
    path: ["lat"],
  })
  .refine((l) => l.lat !== undefined || l.address !== undefined, {
    message: "give lat/lng, an address, or both",
  })
  .openapi("CaseLocation");

const MediationSchema = z
  .strictObject({
    parties: z
      .array(
        z.strictObject({
          name: z.string().trim().min(1).max(100),
          role: z.string().trim().max(100).optional(),
        }),
      )
      .max(50)
      .optional(),
    subject: z.string().trim().min(1).max(500).optional(),
    amountInvolved: z
      .number()
      .min(0)
      .max(1e12)
      .optional()
      .openapi({ description: "Amount in dispute, yuan" }),
    peopleInvolved: z.number().int().min(0).max(1_000_000).optional(),
    method: z.enum(MEDIATION_METHODS).optional(),
    mediator: z.string().trim().min(1).max(100).optional(),
    result: z.enum(MEDIATION_RESULTS).optional(),
  })
  .openapi("Mediation", { description: "调解: the mediation section of a dispute" });

const NewCaseFields = {
  id: z.uuid().optional().openapi({
    description:
      "Client-generated (offline) id: repeating it in the same owning unit replays the first result. The case gets its own id, derived from the owning unit and this id (the same id in another unit is another case)",
  }),
  gridId: z.uuid().optional().openapi({
    description: "The village or grid where the case is reported (its owner); default: your own unit",
  }),
  type: CaseTypeSchema,
  severity: SeveritySchema.default("normal"),
  title: z.string().trim().min(1).max(200),
  description: z.string().trim().max(4000).default(""),
  location: LocationSchema.optional(),
  householdIds: z.array(z.uuid()).max(50).default([]),
  residentIds: z.array(z.uuid()).max(100).default([]),
  mediation: MediationSchema.optional(),
};
const NewCaseSchema = z.strictObject(NewCaseFields).openapi("NewCase");

const UnitRefSchema = z.object({ id: z.uuid(), path: z.string(), level: z.string() });
const ActorRefSchema = z.object({ userId: z.string(), role: z.string(), unitId: z.string() });

/** A case as the desk holds it, with the commands the caller may perform now. */
export const CaseSchema = z
  .object({
    id: z.uuid(),
    type: CaseTypeSchema,
    severity: SeveritySchema,
    state: StateSchema,
    version: z.number().int().openapi({ description: "Send it back as If-Match with the next command" }),
    seq: z.number().int(),
    title: z.string(),
    description: z.string(),
    location: LocationSchema.nullable(),
    householdIds: z.array(z.string()),
    residentIds: z.array(z.string()),
    mediation: MediationSchema.nullable(),
    reporter: ActorRefSchema,
    owningUnit: UnitRefSchema,
    responsibleUnit: UnitRefSchema.extend({ department: z.string().nullable() }),
    coordinatorUnit: UnitRefSchema.nullable(),
    rejection: z.object({ reason: z.string(), at: z.string(), by: z.string() }).nullable(),
    mergedInto: z.string().nullable(),
    resolution: z.object({ note: z.string(), at: z.string(), by: z.string() }).nullable(),
    returnVisit: z
      .object({
        satisfaction: SatisfactionSchema,
        note: z.string().nullable(),
        at: z.string(),
        by: z.string(),
      })
      .nullable(),
    attachments: z.array(
      z.object({
        id: z.string(),
        contentType: z.string(),
        size: z.number().int(),
        at: z.string(),
        by: z.string(),
        stage: StateSchema,
      }),
    ),
    reopenCount: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
    closedAt: z.string().nullable(),
    deadlines: z
      .object({
        phase: z.enum(["accept", "resolve"]),
        startedAt: z.string(),
        warnAt: z.string().openapi({ description: "预警: the warning falls due" }),
        dueAt: z.string().openapi({ description: "超期 after this time" }),
        escalateAt: z
          .string()
          .openapi({ description: "Escalated automatically to the next level after this" }),
        unitId: z.string().openapi({ description: "The responsible unit the clock runs for" }),
        step: z.enum(SLA_STEPS).nullable().openapi({ description: "The last deadline step taken" }),
        policy: z.enum(["effective", "default"]).openapi({
          description:
            "`effective`: the unit's time-limit policy; `default`: the built-in defaults (the policy could not be read)",
        }),
      })
      .nullable()
      .optional()
      .openapi({ description: "The running time limit (时限); null when no clock runs (resolved, closed…)" }),
    overdue: z
      .boolean()
      .optional()
      .openapi({ description: "Whether the case ever went past a deadline (超期)" }),
    escalationCount: z.number().int().optional(),
    notices: z
      .array(
        z.object({
          kind: z
            .enum(["supervision", "urge"])
            .openapi({ description: "`supervision` — 督办; `urge` — 催办" }),
          seq: z.number().int(),
          at: z.string(),
          by: z.string(),
          fromUnitId: z.string(),
          toUnitId: z.string(),
          message: z.string(),
          deadline: z.string().nullable(),
        }),
      )
      .optional(),
    actions: z
      .array(z.enum(CASE_ACTIONS))
      .openapi({ description: "The commands you may perform on the case now" }),
  })
  .openapi("Case");

export const EventSchema = z
  .object({
    seq: z.number().int(),
    type: z.string(),
    at: z.string(),
    actor: z.record(z.string(), z.unknown()),
    payload: z.record(z.string(), z.unknown()),
  })
  .openapi("CaseEvent");

/** A possible duplicate of a new report. */
export const DuplicateSchema = z
  .object({
    id: z.uuid(),
    title: z.string(),
    state: z.string(),
    owningUnitId: z.string(),
    distanceM: z.number(),
    createdAt: z.string(),
  })
  .openapi("DuplicateHint");

const HiddenDuplicates = z.number().int().openapi({
  description: "Possible duplicates in cases you may not read: counted only",
});

const CreatedSchema = CaseSchema.extend({
  duplicates: z.array(DuplicateSchema).openapi({
    description:
      "Open cases of the same type within 200 m from the last 7 days that you may read, among the owning unit's own cases (village-wide hints follow on GET /v1/cases/{id})",
  }),
  hiddenDuplicates: HiddenDuplicates,
}).openapi("CreatedCase");

const SummarySchema = z
  .object({
    id: z.uuid(),
    type: CaseTypeSchema,
    severity: SeveritySchema,
    state: StateSchema,
    version: z.number().int(),
    title: z.string(),
    owningUnitId: z.string(),
    responsibleUnit: z.object({ id: z.string(), level: z.string(), department: z.string().nullable() }),
    location: LocationSchema.nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    closedAt: z.string().nullable(),
  })
  .openapi("CaseSummary");

const GridHint = z.object({
  gridId: z.uuid().optional().openapi({
    description:
      "Not needed: a case id names its desk. Still accepted; used only for cases reported before ids did (legacy)",
  }),
});

/** POST /v1/cases */
export const createCase = createRoute({
  method: "post",
  path: "/v1/cases",
  operationId: "reportCase",
  tags: ["cases"],
  summary: "Report a case (上报)",
  description:
    "The case id the server assigns names the owning unit's GridDesk (`Location: /v1/cases/{id}`), and is derived from the owning unit and the client's `id` or `Idempotency-Key`. Idempotent: give the case `id` or an `Idempotency-Key` header. Repeating the same report returns the first result (200, same body); reusing an id or key for a different report is 422. Concurrent repeats are serialized by the owning unit's GridDesk, so they also get the first result. The response lists possible duplicates nearby. A report too large for the queue message it becomes (its content counted in UTF-8 bytes) is 413, before anything is stored.",
  ...guarded("cases.report"),
  request: {
    headers: z.object({ "idempotency-key": z.string().max(200).optional() }),
    body: jsonBody(NewCaseSchema),
  },
  responses: {
    201: jsonResponse(CreatedSchema, "Reported", ["ETag", "Location"]),
    200: jsonResponse(CreatedSchema, "A replay: the first result", ["ETag", "Location"]),
    ...errorResponses(403, 404, 413, 422, 503),
  },
});

/** The outcome of one report of an offline sync. */
export const SyncResultSchema = z
  .object({
    id: z.uuid(),
    status: z.enum(["created", "replayed", "error"]),
    case: CaseSchema.optional(),
    duplicates: z.array(DuplicateSchema).optional().openapi({
      description:
        "With a created or replayed case: open cases of the same type nearby, as for a single report",
    }),
    hiddenDuplicates: HiddenDuplicates.optional(),
    error: z.object({ status: z.number().int(), type: z.string(), detail: z.string() }).optional(),
  })
  .openapi("SyncResult");

/** POST /v1/cases/sync */
export const syncCases = createRoute({
  method: "post",
  path: "/v1/cases/sync",
  operationId: "syncCases",
  tags: ["cases"],
  summary: "Upload up to 100 reports made offline",
  description:
    "Each report needs its client-generated `id`. Reports are grouped per owning unit (one GridDesk call each) and each gets its own result: created, replayed, or an error. Every report is handled as a single report is: the owning unit's time-limit policy, duplicate hints, idempotency by `id`. A report too large for one queue message (its content counted in UTF-8 bytes) gets its own error with status 413 (`message-too-large`) and is not stored; the other reports still go in.",
  ...guarded("cases.report"),
  request: {
    body: jsonBody(
      z
        .strictObject({
          reports: z
            .array(z.strictObject({ ...NewCaseFields, id: z.uuid() }))
            .min(1)
            .max(100),
        })
        .openapi("CaseSync"),
    ),
  },
  responses: {
    200: jsonResponse(z.object({ results: z.array(SyncResultSchema) }), "One result per report, in order"),
    ...errorResponses(503),
  },
});

/** GET /v1/cases/{id} */
export const getCase = createRoute({
  method: "get",
  path: "/v1/cases/{id}",
  operationId: "getCase",
  tags: ["cases"],
  summary: "One case with its full timeline, live from its GridDesk",
  ...guarded("cases.read"),
  request: { params: IdParam, query: GridHint },
  responses: {
    200: jsonResponse(
      CaseSchema.extend({
        timeline: z.array(EventSchema),
        duplicates: z.array(DuplicateSchema).openapi({
          description:
            "Possible duplicates you may read: the desk's own at the report, and the whole village's once computed after it",
        }),
        hiddenDuplicates: HiddenDuplicates,
      }),
      "The case; ETag is its version",
      ["ETag"],
    ),
    ...errorResponses(404, 503),
  },
});

const ListQuery = z.object({
  unitId: z.uuid().optional().openapi({ description: "Only this unit's subtree (default: yours)" }),
  state: StateSchema.optional(),
  type: CaseTypeSchema.optional(),
  severity: SeveritySchema.optional(),
  from: z.iso.datetime().optional().openapi({ description: "Reported at or after (ISO 8601)" }),
  to: z.iso.datetime().optional().openapi({ description: "Reported before (ISO 8601)" }),
  q: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .optional()
    .openapi({ description: "Text in title, description or address" }),
  ...pageQuery,
});

/** GET /v1/cases */
export const listCases = createRoute({
  method: "get",
  path: "/v1/cases",
  operationId: "listCases",
  tags: ["cases"],
  summary: "Search cases in your subtree (from the projection; may lag the desks by about a second)",
  ...guarded("cases.read"),
  request: { query: ListQuery },
  responses: {
    200: jsonResponse(pageSchema(SummarySchema), "A page of cases, newest first"),
    ...errorResponses(404, 503),
  },
});

/** GET /v1/grids/{id}/cases */
export const gridCases = createRoute({
  method: "get",
  path: "/v1/grids/{id}/cases",
  operationId: "listGridCases",
  tags: ["cases"],
  summary: "One grid's cases, live from its GridDesk (the grid worker's own list)",
  ...guarded("cases.read"),
  request: { params: IdParam, query: z.object({ state: StateSchema.optional(), ...pageQuery }) },
  responses: {
    200: jsonResponse(pageSchema(SummarySchema), "A page of cases, newest first"),
    ...errorResponses(404, 503),
  },
});

/**
 * Refuses a command without a usable `If-Match` before its body is read: 428 when missing or empty, 400 when
 * malformed. (The header is declared required, so validation alone would answer 400 for a missing one.)
 */
const ifMatchPresent: MiddlewareHandler<AppEnv> = async (c, next) => {
  requiredVersion(c.req.header("if-match"));
  await next();
};

const commandGuard = guarded("cases.command");

/** Each lifecycle command's operationId, by the last segment of its path. */
const COMMAND_OPERATION_IDS: Record<string, string> = {
  accept: "acceptCase",
  reject: "rejectCase",
  merge: "mergeCase",
  dispatch: "dispatchCase",
  start: "startCase",
  resolve: "resolveCase",
  "return-visit": "recordReturnVisit",
  close: "closeCase",
  reopen: "reopenCase",
  escalate: "escalateCase",
  "send-down": "sendCaseDown",
  supervise: "superviseCase",
  urge: "urgeCase",
};

function commandRoute<S extends z.ZodTypeAny>(slug: string, summaryText: string, body: S, required = true) {
  return createRoute({
    method: "post",
    path: `/v1/cases/{id}/${slug}`,
    operationId: COMMAND_OPERATION_IDS[slug],
    tags: ["cases"],
    summary: summaryText,
    description:
      "Requires `If-Match` with the case version: 428 without it, 400 when malformed, 412 if stale (with `currentVersion`), 409 if the case's state does not allow it, 403 if your role or unit may not.",
    ...commandGuard,
    middleware: [commandGuard.middleware, ifMatchPresent] as const,
    request: {
      params: IdParam,
      query: GridHint,
      headers: ifMatchHeader(true),
      body: { ...jsonBody(body), required },
    },
    responses: {
      200: jsonResponse(CaseSchema, "The case after the command; ETag is its new version", ["ETag"]),
      ...errorResponses(403, 404, 409, 412, 428, 503),
    },
  });
}

const NoteBody = z.strictObject({ note: Note.optional() });
const ReasonBody = z.strictObject({ reason: Note });

/** POST /v1/cases/{id}/<command>: one route per lifecycle command. */
export const commands = {
  accept: commandRoute("accept", "Accept a report (受理)", NoteBody.openapi("AcceptCase"), false),
  reject: commandRoute(
    "reject",
    "Reject a report with a reason (不予受理)",
    ReasonBody.openapi("RejectCase"),
  ),
  merge: commandRoute(
    "merge",
    "Merge a report into another case as its duplicate",
    z.strictObject({ intoCaseId: z.uuid(), note: Note.optional() }).openapi("MergeCase"),
  ),
  dispatch: commandRoute(
    "dispatch",
    "Dispatch to a unit or one of its departments (分流)",
    z
      .strictObject({
        unitId: z
          .uuid()
          .openapi({ description: "A unit in your subtree, or a unit above you (with a department)" }),
        department: z.string().trim().min(1).max(100).optional().openapi({
          description:
            "A functional department of that city, county or town (e.g. 司法所); its `department` users handle it",
        }),
        note: Note.optional(),
      })
      .openapi("DispatchCase"),
  ),
  start: commandRoute("start", "Start handling (办理)", NoteBody.openapi("StartCase"), false),
  resolve: commandRoute(
    "resolve",
    "Resolve with a note (办结); disputes give the mediation result",
    z
      .strictObject({ note: z.string().trim().min(1).max(4000), mediation: MediationSchema.optional() })
      .openapi("ResolveCase"),
  ),
  returnVisit: commandRoute(
    "return-visit",
    "Record the return visit (回访); dissatisfied reopens the case",
    z.strictObject({ satisfaction: SatisfactionSchema, note: Note.optional() }).openapi("ReturnVisit"),
  ),
  close: commandRoute(
    "close",
    "Close (归档): needs a satisfied return visit, or a resolution note with a handling photo",
    NoteBody.openapi("CloseCase"),
    false,
  ),
  reopen: commandRoute("reopen", "Reopen a resolved or closed case", ReasonBody.openapi("ReopenCase")),
  escalate: commandRoute(
    "escalate",
    "Escalate to the next level's centre (上报上级): grid → village → town → county → city",
    z
      .strictObject({
        reason: Note.openapi({ description: "Why it is beyond this level's power" }),
        reasonCode: z
          .enum(ESCALATION_REASON_CODES)
          .optional()
          .openapi({
            description: `Required from a grid or a village (small matters stay in the grid): ${labels(ESCALATION_REASON_LABELS)}`,
          }),
      })
      .openapi("EscalateCase"),
  ),
  sendDown: commandRoute(
    "send-down",
    "Send the case down to a unit below the responsible one (下派), with a reason and new deadlines",
    z
      .strictObject({
        unitId: z.uuid().openapi({ description: "A unit below the one now responsible" }),
        reason: Note,
        deadline: z.iso.datetime({ offset: true }).optional().openapi({
          description: "Its own deadline to resolve; default: from the new unit's time-limit policy",
        }),
      })
      .openapi("SendDownCase"),
  ),
  supervise: commandRoute(
    "supervise",
    "Issue a supervision notice (督办): a centre above the responsible unit, with a message and a deadline",
    z.strictObject({ message: Note, deadline: z.iso.datetime({ offset: true }) }).openapi("SuperviseCase"),
  ),
  urge: commandRoute(
    "urge",
    "Urge the responsible unit (催办): a lighter notice from a centre above it",
    z
      .strictObject({ message: Note, deadline: z.iso.datetime({ offset: true }).optional() })
      .openapi("UrgeCase"),
  ),
};
