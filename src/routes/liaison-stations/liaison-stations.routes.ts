import { createRoute, z } from "@hono/zod-openapi";
import { CASE_SEVERITIES, CASE_STATE_LABELS, CASE_TYPE_LABELS, CASE_TYPES } from "../../domain/case-model";
import { ACTIVITY_KIND_LABELS, ACTIVITY_KINDS, STATION_LEVELS } from "../../domain/liaison";
import { errorResponses, guarded, IdParam, jsonBody, jsonResponse } from "../../platform/http/openapi";
import { pageQuery, pageSchema } from "../../platform/http/pagination";
import { DuplicateSchema, LocationSchema, labels } from "../cases/cases.routes";

const KindSchema = z.enum(ACTIVITY_KINDS).openapi({ description: labels(ACTIVITY_KIND_LABELS) });
const StationParams = z.object({
  id: z.uuid().openapi({ param: { name: "id", in: "path" } }),
});
const ActivityParams = StationParams.extend({
  activityId: z.uuid().openapi({ param: { name: "activityId", in: "path" } }),
});

const StationSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    level: z.enum(STATION_LEVELS),
    unitId: z.uuid(),
    createdAt: z.string(),
    deputies: z.array(z.object({ userId: z.uuid(), displayName: z.string(), unitId: z.uuid() })),
  })
  .openapi("LiaisonStation");

const ActivitySchema = z
  .object({
    id: z.uuid(),
    stationId: z.uuid(),
    kind: KindSchema,
    title: z.string(),
    scheduledAt: z.string(),
    attendance: z.array(z.uuid()).openapi({ description: "Deputies who attended" }),
    record: z.string().nullable(),
    createdBy: z.uuid(),
    createdAt: z.string(),
  })
  .openapi("StationActivity");

const MatterSchema = z
  .object({
    id: z.uuid(),
    activityId: z.uuid(),
    stationId: z.uuid(),
    summary: z.string(),
    raisedBy: z.string().nullable(),
    caseId: z.uuid(),
    owningUnitId: z.uuid().nullable(),
    createdAt: z.string(),
    caseState: z
      .string()
      .nullable()
      .openapi({
        description: `The case's current state (${labels(CASE_STATE_LABELS)}); null if unreadable`,
      }),
    outcome: z.enum(["pending", "open", "resolved", "closed", "not_taken_up"]),
  })
  .openapi("StationMatter");

export const createStation = createRoute({
  method: "post",
  path: "/v1/liaison-stations",
  operationId: "createLiaisonStation",
  tags: ["liaison stations"],
  summary:
    "Open a deputy liaison station (人大代表联络站) at a county, town or village (admin, center_staff)",
  ...guarded("liaison.manage"),
  request: {
    body: jsonBody(
      z
        .strictObject({ name: z.string().trim().min(1).max(100), unitId: z.uuid() })
        .openapi("NewLiaisonStation"),
    ),
  },
  responses: { 201: jsonResponse(StationSchema, "Opened"), ...errorResponses(403, 404) },
});

export const getStation = createRoute({
  method: "get",
  path: "/v1/liaison-stations/{id}",
  operationId: "getLiaisonStation",
  tags: ["liaison stations"],
  summary: "A station and its deputies",
  ...guarded("liaison.read"),
  request: { params: StationParams },
  responses: { 200: jsonResponse(StationSchema, "The station"), ...errorResponses(404) },
});

export const listStations = createRoute({
  method: "get",
  path: "/v1/units/{id}/liaison-stations",
  operationId: "listUnitLiaisonStations",
  tags: ["liaison stations"],
  summary: "The liaison stations of a subtree",
  ...guarded("liaison.read"),
  request: { params: IdParam, query: z.object(pageQuery) },
  responses: {
    200: jsonResponse(pageSchema(StationSchema.omit({ deputies: true })), "A page of stations"),
    ...errorResponses(404),
  },
});

export const attachDeputies = createRoute({
  method: "post",
  path: "/v1/liaison-stations/{id}/deputies",
  operationId: "attachStationDeputies",
  tags: ["liaison stations"],
  summary: "Attach deputies to a station (代表进站) (admin, center_staff)",
  description:
    "A deputy of the station's unit, of a unit above it (a county deputy at a town station) or below it. A deputy belongs to one station: attaching moves them.",
  ...guarded("liaison.manage"),
  request: {
    params: StationParams,
    body: jsonBody(z.strictObject({ userIds: z.array(z.uuid()).min(1).max(50) }).openapi("AttachDeputies")),
  },
  responses: { 200: jsonResponse(StationSchema, "The station"), ...errorResponses(403, 404) },
});

export const scheduleActivity = createRoute({
  method: "post",
  path: "/v1/liaison-stations/{id}/activities",
  operationId: "scheduleStationActivity",
  tags: ["liaison stations"],
  summary: "Schedule a five-days activity (五个日) on a station's calendar",
  description: "By centre staff of the station's subtree, an admin, or a deputy attached to the station.",
  ...guarded("liaison.calendar"),
  request: {
    params: StationParams,
    body: jsonBody(
      z
        .strictObject({
          kind: KindSchema,
          title: z.string().trim().min(1).max(200),
          scheduledAt: z.iso.datetime(),
        })
        .openapi("NewStationActivity"),
    ),
  },
  responses: { 201: jsonResponse(ActivitySchema, "Scheduled"), ...errorResponses(403, 404) },
});

export const calendar = createRoute({
  method: "get",
  path: "/v1/liaison-stations/{id}/activities",
  operationId: "listStationActivities",
  tags: ["liaison stations"],
  summary: "A station's calendar, by scheduled time",
  ...guarded("liaison.read"),
  request: {
    params: StationParams,
    query: z.object({
      from: z.iso.datetime().optional(),
      to: z.iso.datetime().optional(),
      kind: KindSchema.optional(),
      ...pageQuery,
    }),
  },
  responses: {
    200: jsonResponse(pageSchema(ActivitySchema), "A page of activities"),
    ...errorResponses(404),
  },
});

export const recordActivity = createRoute({
  method: "patch",
  path: "/v1/liaison-stations/{id}/activities/{activityId}",
  operationId: "recordStationActivity",
  tags: ["liaison stations"],
  summary: "Record an activity's attendance and record (活动记录)",
  description: "Attendance lists deputies attached to the station.",
  ...guarded("liaison.calendar"),
  request: {
    params: ActivityParams,
    body: jsonBody(
      z
        .strictObject({
          attendance: z.array(z.uuid()).max(200).optional(),
          record: z.string().trim().min(1).max(20_000).optional(),
        })
        .refine((b) => b.attendance !== undefined || b.record !== undefined, "give attendance or a record")
        .openapi("StationActivityRecord"),
    ),
  },
  responses: { 200: jsonResponse(ActivitySchema, "The activity"), ...errorResponses(403, 404) },
});

export const getActivity = createRoute({
  method: "get",
  path: "/v1/liaison-stations/{id}/activities/{activityId}",
  operationId: "getStationActivity",
  tags: ["liaison stations"],
  summary: "An activity; a reception day with its matters, a reporting day with what became of each matter",
  description:
    "A reporting day (述职日) lists the matters raised at the station's reception days since the previous reporting day up to this one, each with its case's current state (from the projection, or live from the case's GridDesk when not yet projected) and outcome counts.",
  ...guarded("liaison.read"),
  request: { params: ActivityParams },
  responses: {
    200: jsonResponse(
      ActivitySchema.extend({
        matters: z.array(MatterSchema),
        outcomes: z.record(z.string(), z.number().int()),
      }),
      "The activity",
    ),
    ...errorResponses(404),
  },
});

const MatterCreatedSchema = z
  .object({
    matter: MatterSchema,
    case: z.record(z.string(), z.unknown()),
    duplicates: z.array(DuplicateSchema).openapi({
      description: "Open cases of the same type within 200 m in the same village from the last 7 days",
    }),
  })
  .openapi("RaisedStationMatter");

export const raiseMatter = createRoute({
  method: "post",
  path: "/v1/liaison-stations/{id}/activities/{activityId}/matters",
  operationId: "raiseStationMatter",
  tags: ["liaison stations"],
  summary: "Turn a matter raised on a reception day into a case, in one call",
  description:
    "Reports a case in `gridId` (a village or grid under the station, inside your own subtree) with you as reporter; the case description names the activity, and the matter keeps the case id. The case is reported as any case is: it runs on the time-limit policy of its owning unit and gets duplicate hints. Idempotent by `id` (the case id is derived from it and the owning unit): a repeat returns the first result.",
  ...guarded("liaison.matter"),
  request: {
    params: ActivityParams,
    body: jsonBody(
      z
        .strictObject({
          id: z.uuid().optional().openapi({ description: "Client-generated id of the matter and its case" }),
          summary: z.string().trim().min(1).max(2000),
          raisedBy: z
            .string()
            .trim()
            .min(1)
            .max(100)
            .optional()
            .openapi({ description: "The voter who raised it" }),
          gridId: z.uuid(),
          type: z.enum(CASE_TYPES).openapi({ description: labels(CASE_TYPE_LABELS) }),
          severity: z.enum(CASE_SEVERITIES).default("normal"),
          title: z.string().trim().min(1).max(200),
          householdIds: z.array(z.uuid()).max(50).default([]),
          address: z.string().trim().min(1).max(300).optional(),
          location: LocationSchema.optional().openapi({
            description: "Where it happened; with lat/lng the response lists possible duplicates nearby",
          }),
        })
        .openapi("NewStationMatter"),
    ),
  },
  responses: {
    201: jsonResponse(MatterCreatedSchema, "The matter and its case", ["Location"]),
    200: jsonResponse(MatterCreatedSchema, "A replay", ["Location"]),
    ...errorResponses(403, 404, 409, 413, 422, 503),
  },
});
