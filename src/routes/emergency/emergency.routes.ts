import { createRoute, z } from "@hono/zod-openapi";
import { DIRECTIVE_PRIORITIES } from "../../domain/directives";
import {
  CHECKIN_OUTCOME_LABELS,
  CHECKIN_OUTCOMES,
  EMERGENCY_KIND_LABELS,
  EMERGENCY_KINDS,
  LEVEL_LABELS,
  RESPONSE_LEVELS,
} from "../../domain/emergency";
import { ACK_WITHIN_MINUTES } from "../../domain/emergency-orders";
import { errorResponses, guarded, IdParam, jsonBody, jsonResponse } from "../../platform/http/openapi";

import { DirectiveSchema } from "../directives/directives.routes";

const labels = (m: Record<string, string>) =>
  Object.entries(m)
    .map(([k, v]) => `\`${k}\` — ${v}`)
    .join("; ");

const Kind = z.enum(EMERGENCY_KINDS).openapi({ description: labels(EMERGENCY_KIND_LABELS) });
const Level = z.enum(RESPONSE_LEVELS).openapi({ description: labels(LEVEL_LABELS) });
const Outcome = z.enum(CHECKIN_OUTCOMES).openapi({ description: labels(CHECKIN_OUTCOME_LABELS) });
const Colour = z.enum(["red", "orange", "yellow", "blue"]).openapi({ description: "预警颜色 of the level" });
const Text = (max: number) => z.string().trim().min(1).max(max);

export const EventSchema = z
  .object({
    id: z.uuid(),
    kind: Kind,
    level: Level,
    colour: Colour,
    status: z
      .enum(["active", "stood_down"])
      .openapi({ description: "`active` — 响应中; `stood_down` — 已解除" }),
    title: z.string(),
    instructions: z.string(),
    commandUnitId: z.uuid(),
    affectedUnitIds: z.array(z.uuid()),
    reachIntervalMinutes: z
      .number()
      .int()
      .openapi({ description: "Minutes before an unreached household is escalated" }),
    declaredBy: z.uuid(),
    declaredAt: z.string(),
    stoodDownAt: z.string().nullable(),
    version: z.number().int(),
  })
  .openapi("EmergencyEvent");

const LogEntry = z
  .object({
    seq: z.number().int(),
    type: z.string(),
    at: z.string(),
    actorId: z.string(),
    payload: z.record(z.string(), z.unknown()),
  })
  .openapi("EmergencyLogEntry");

const EventDetail = EventSchema.extend({ log: z.array(LogEntry) }).openapi("EmergencyEventDetail");

const Params = z.object({
  id: z.uuid().openapi({ param: { name: "id", in: "path" } }),
  gridId: z.uuid().openapi({ param: { name: "gridId", in: "path" } }),
});

export const declare = createRoute({
  method: "post",
  path: "/v1/emergencies",
  tags: ["emergency"],
  operationId: "declareEmergency",
  summary: "Declare an emergency event (启动应急响应) over some subtrees; rosters follow through a queue",
  description:
    "The commanding centre (default: the caller's unit) is a town, county or city inside the caller's subtree; " +
    "the affected units lie inside it. Every grid under them gets a roster within seconds (`emergency-rosters` queue).",
  ...guarded("emergency.command"),
  request: {
    body: jsonBody(
      z
        .strictObject({
          kind: Kind,
          level: Level,
          title: Text(200),
          instructions: Text(4_000),
          unitIds: z.array(z.uuid()).min(1).max(200),
          commandUnitId: z.uuid().optional(),
          reachIntervalMinutes: z.number().int().min(5).max(2_880).optional().openapi({
            description: "Override of the level's interval (I 120, II 240, III 480, IV 720 minutes)",
          }),
        })
        .openapi("NewEmergency"),
    ),
  },
  responses: { 201: jsonResponse(EventSchema, "Declared", ["Location"]), ...errorResponses(403, 404) },
});

export const list = createRoute({
  method: "get",
  path: "/v1/emergencies",
  tags: ["emergency"],
  operationId: "listEmergencies",
  summary: "Events the caller's subtree commands or is affected by, active first",
  ...guarded("emergency.read"),
  request: { query: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }) },
  responses: { 200: jsonResponse(z.object({ items: z.array(EventSchema) }), "Events"), ...errorResponses() },
});

export const getOne = createRoute({
  method: "get",
  path: "/v1/emergencies/{id}",
  tags: ["emergency"],
  operationId: "getEmergency",
  summary: "One event with its append-only log",
  ...guarded("emergency.read"),
  request: { params: IdParam },
  responses: { 200: jsonResponse(EventDetail, "The event"), ...errorResponses(404) },
});

export const setLevel = createRoute({
  method: "post",
  path: "/v1/emergencies/{id}/level",
  tags: ["emergency"],
  operationId: "changeEmergencyLevel",
  summary: "Raise (toward I) or lower (toward IV) the response level",
  ...guarded("emergency.command"),
  request: {
    params: IdParam,
    body: jsonBody(z.strictObject({ level: Level }).openapi("EmergencyLevelChange")),
  },
  responses: { 200: jsonResponse(EventSchema, "Changed"), ...errorResponses(403, 404, 409) },
});

export const addUnits = createRoute({
  method: "post",
  path: "/v1/emergencies/{id}/units",
  tags: ["emergency"],
  operationId: "addEmergencyUnits",
  summary: "Add affected units; their grids get rosters",
  ...guarded("emergency.command"),
  request: {
    params: IdParam,
    body: jsonBody(
      z.strictObject({ unitIds: z.array(z.uuid()).min(1).max(200) }).openapi("EmergencyUnitsAdded"),
    ),
  },
  responses: { 200: jsonResponse(EventSchema, "Changed"), ...errorResponses(403, 404, 409) },
});

export const standDown = createRoute({
  method: "post",
  path: "/v1/emergencies/{id}/stand-down",
  tags: ["emergency"],
  operationId: "standDownEmergency",
  summary: "Stand the event down (解除), by the commanding centre or one above it",
  ...guarded("emergency.command"),
  request: { params: IdParam },
  responses: { 200: jsonResponse(EventSchema, "Stood down"), ...errorResponses(403, 404, 409) },
});

const Member = z.object({
  residentId: z.uuid(),
  name: z.string(),
  relationship: z.string(),
  tags: z.array(z.string()),
  vulnerable: z.boolean(),
  phone: z
    .string()
    .nullable()
    .openapi({ description: "Unmasked for the event's responders (the read is audited)" }),
});

const RosterLine = z
  .object({
    householdId: z.uuid(),
    position: z.number().int(),
    address: z.string(),
    householdClass: z.string(),
    band: z.number().int().openapi({ description: "0 vulnerable residents, 1 red, 2 yellow, 3 green" }),
    vulnerableCount: z.number().int(),
    memberCount: z.number().int(),
    members: z.array(Member),
    contacts: z.array(
      z.object({ userId: z.uuid(), name: z.string(), line: z.string(), phone: z.string().nullable() }),
    ),
    status: z.enum(["pending", ...CHECKIN_OUTCOMES]),
    statusAt: z.string().nullable(),
    shelterId: z.string().nullable(),
    caseId: z.string().nullable(),
  })
  .openapi("EmergencyRosterLine");

export const roster = createRoute({
  method: "get",
  path: "/v1/emergencies/{id}/grids/{gridId}/roster",
  tags: ["emergency"],
  operationId: "getEmergencyRoster",
  summary: "A grid's roster in priority order, phones unmasked for the event's responders",
  description:
    "Every read is audited first with purpose `emergency` and the event's id. A named helper or three-line " +
    "contact outside the grid sees only their own households. 409 `roster-not-ready` while it is being made.",
  ...guarded("emergency.respond"),
  request: { params: Params },
  responses: {
    200: jsonResponse(
      z
        .object({ eventId: z.uuid(), gridId: z.uuid(), readyAt: z.string(), lines: z.array(RosterLine) })
        .openapi("EmergencyRoster"),
      "The roster",
    ),
    ...errorResponses(404, 409, 503),
  },
});

const CheckinBody = z
  .strictObject({
    id: z.uuid().openapi({ description: "The phone's id for this check-in: a repeat replays" }),
    householdId: z.uuid(),
    outcome: Outcome,
    note: z.string().trim().min(1).max(1_000).optional(),
    shelterId: z.uuid().optional().openapi({ description: "Required with `moved`" }),
    persons: z
      .number()
      .int()
      .min(1)
      .max(100)
      .optional()
      .openapi({ description: "People moved (default: the household's members)" }),
    at: z.iso
      .datetime({ offset: true })
      .optional()
      .openapi({ description: "When, in the field (default: now)" }),
    location: z.object({ lat: z.number().min(-90).max(90), lng: z.number().min(-180).max(180) }).optional(),
  })
  .refine((c) => (c.outcome === "moved") === (c.shelterId !== undefined), {
    message: "shelterId goes with moved, and only with it",
    path: ["shelterId"],
  });

const CheckinResultSchema = z
  .object({
    id: z.uuid(),
    result: z.enum(["recorded", "replayed", "error"]),
    householdId: z.uuid().optional(),
    status: z.string().optional().openapi({ description: "The household's state after it" }),
    caseId: z
      .string()
      .nullable()
      .optional()
      .openapi({ description: "The urgent case of a `needs_help` household" }),
    problem: z.object({ status: z.number().int(), type: z.string(), detail: z.string() }).optional(),
  })
  .openapi("EmergencyCheckinResult");

export const checkIn = createRoute({
  method: "post",
  path: "/v1/emergencies/{id}/grids/{gridId}/check-ins",
  tags: ["emergency"],
  operationId: "checkInEmergencyHouseholds",
  summary: "Record check-ins of households (online, or an offline batch of up to 200)",
  description:
    "Idempotent per check-in `id`; the same id with other content is an `error` 422. A batch answers 200 with one " +
    "result per check-in; a single check-in that fails answers its problem (nothing written). `needs_help` opens " +
    "one urgent case per household and event.",
  ...guarded("emergency.respond"),
  request: {
    params: Params,
    body: jsonBody(
      z.strictObject({ checkins: z.array(CheckinBody).min(1).max(200) }).openapi("EmergencyCheckins"),
    ),
  },
  responses: {
    200: jsonResponse(
      z.object({ results: z.array(CheckinResultSchema) }).openapi("EmergencyCheckinResults"),
      "Results",
    ),
    ...errorResponses(404, 409, 422),
  },
});

const ShelterSchema = z
  .object({
    id: z.uuid(),
    eventId: z.uuid(),
    unitId: z.uuid(),
    name: z.string(),
    address: z.string(),
    capacity: z.number().int(),
    createdAt: z.string(),
  })
  .openapi("EmergencyShelter");

export const addShelter = createRoute({
  method: "post",
  path: "/v1/emergencies/{id}/shelters",
  tags: ["emergency"],
  operationId: "addEmergencyShelter",
  summary: "Register a shelter (安置点) at a unit, with its capacity in people",
  ...guarded("emergency.command"),
  request: {
    params: IdParam,
    body: jsonBody(
      z
        .strictObject({
          unitId: z.uuid(),
          name: Text(100),
          address: Text(300),
          capacity: z.number().int().min(1).max(100_000),
        })
        .openapi("NewEmergencyShelter"),
    ),
  },
  responses: { 201: jsonResponse(ShelterSchema, "Registered"), ...errorResponses(403, 404, 409) },
});

const Counts = z
  .object({
    households: z.number().int(),
    reached: z.number().int(),
    vulnerableTotal: z.number().int(),
    vulnerableReached: z.number().int(),
    moved: z.number().int(),
    needsHelp: z.number().int(),
    notReached: z.number().int(),
    pending: z.number().int(),
  })
  .openapi("EmergencyCounts");

export const progress = createRoute({
  method: "get",
  path: "/v1/emergencies/{id}/progress",
  tags: ["emergency"],
  operationId: "getEmergencyProgress",
  summary: "Live figures for a unit of the event (default: the caller's), by child unit, with shelters",
  ...guarded("emergency.read"),
  request: { params: IdParam, query: z.object({ unitId: z.uuid().optional() }) },
  responses: {
    200: jsonResponse(
      z
        .object({
          eventId: z.uuid(),
          level: Level,
          status: z.string(),
          rostersReady: z.number().int(),
          totals: Counts,
          byChild: z.array(z.object({ unitId: z.string(), counts: Counts })),
          shelters: z.array(
            z.object({
              id: z.string(),
              unitId: z.string(),
              name: z.string(),
              capacity: z.number().int(),
              occupied: z.number().int(),
              free: z.number().int(),
              peak: z.number().int(),
            }),
          ),
          lastSeq: z
            .number()
            .int()
            .openapi({ description: "The stream's latest seq: subscribe with `after` to continue" }),
        })
        .openapi("EmergencyProgress"),
      "Figures",
    ),
    ...errorResponses(404),
  },
});

export const stream = createRoute({
  method: "get",
  path: "/v1/emergencies/{id}/stream",
  tags: ["emergency"],
  operationId: "streamEmergency",
  summary: "The live stream of the caller's subtree: a WebSocket (Upgrade), or Server-Sent Events",
  description:
    "Every entry has a gap-free `seq`; resume after a drop with `?after=<last seq>` (or SSE's `Last-Event-ID`) and " +
    "nothing is missed. Entries are check-ins and rosters inside the caller's subtree, and the event's own changes.",
  ...guarded("emergency.read"),
  request: { params: IdParam, query: z.object({ after: z.coerce.number().int().min(0).optional() }) },
  responses: {
    101: { description: "Switching to a WebSocket; each message is one JSON entry" },
    200: {
      description: "Server-Sent Events (`id: <seq>`, `event: checkin|roster|event`)",
      content: { "text/event-stream": { schema: z.string() } },
    },
    ...errorResponses(404),
  },
});

const Report = z
  .object({
    event: EventSchema,
    final: z.boolean().openapi({ description: "True once the event is stood down" }),
    timeline: z.array(LogEntry),
    towns: z.array(
      z.object({
        townId: z.string(),
        townName: z.string(),
        vulnerableTotal: z.number().int(),
        vulnerableReached: z.number().int(),
        minutesTo50: z.number().int().nullable(),
        minutesTo90: z.number().int().nullable(),
        minutesTo100: z.number().int().nullable(),
        households: z.number().int(),
        reached: z.number().int(),
        moved: z.number().int(),
        needsHelp: z.number().int(),
      }),
    ),
    cases: z.array(
      z.object({
        caseId: z.string(),
        gridId: z.string(),
        householdId: z.string(),
        openedAt: z.string(),
        state: z.string(),
      }),
    ),
    shelters: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        capacity: z.number().int(),
        peak: z.number().int(),
        occupied: z.number().int(),
      }),
    ),
  })
  .openapi("EmergencyReport");

export const report = createRoute({
  method: "get",
  path: "/v1/emergencies/{id}/report",
  tags: ["emergency"],
  operationId: "getEmergencyReport",
  summary:
    "The after-action report (复盘): timeline, time to 50/90/100 % of vulnerable residents per town, cases, shelters",
  ...guarded("emergency.read"),
  request: { params: IdParam, query: z.object({ format: z.enum(["json", "csv"]).default("json") }) },
  responses: {
    200: {
      description: "The report, as JSON or (`format=csv`) CSV",
      content: { "application/json": { schema: Report }, "text/csv": { schema: z.string() } },
    },
    ...errorResponses(404),
  },
});

export const NewOrder = z
  .strictObject({
    title: Text(200),
    body: Text(10_000),
    priority: z.enum(DIRECTIVE_PRIORITIES).optional().openapi({ description: "Default `urgent`" }),
    ackWithinMinutes: z
      .number()
      .int()
      .min(ACK_WITHIN_MINUTES.min)
      .max(ACK_WITHIN_MINUTES.max)
      .openapi({ description: "Minutes each grid has to acknowledge (签收) before it is escalated" }),
    dueAt: z.iso
      .datetime({ offset: true })
      .optional()
      .openapi({ description: "When the order must be completed; default 24 h from now" }),
  })
  .openapi("NewEmergencyOrder");

export const order = createRoute({
  method: "post",
  path: "/v1/emergencies/{id}/orders",
  tags: ["emergency"],
  operationId: "issueEmergencyOrder",
  summary: "Issue an emergency order (应急指令) to every affected grid, by the commanding centre",
  description:
    "A directive linked to the event, targeting every grid of its affected units, with an acknowledgement " +
    "deadline of `ackWithinMinutes`. Receipts arrive through the `directives` queue (`GET /v1/directives/{id}`); " +
    "a grid that has not acknowledged by the deadline is escalated once to its village and town centres' inboxes.",
  ...guarded("emergency.command"),
  request: { params: IdParam, body: jsonBody(NewOrder) },
  responses: {
    201: jsonResponse(DirectiveSchema, "Issued", ["Location"]),
    ...errorResponses(400, 403, 404, 409, 413),
  },
});
