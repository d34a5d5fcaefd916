import { createRoute, z } from "@hono/zod-openapi";
import { errorResponses, guarded, IdParam, jsonBody, jsonResponse } from "../../platform/http/openapi";
import { pageQuery, pageSchema } from "../../platform/http/pagination";
import { AsOfQuery, ClassEnum, Location, LocationInput } from "../households/schemas";

const VisitKind = z.enum(["visit", "phone", "reception"]).openapi({
  description: "`visit` — 走访; `phone` — 电话联系; `reception` — 接待",
});

export const VisitSchema = z
  .object({
    id: z.uuid(),
    householdId: z.uuid(),
    visitorUserId: z.uuid(),
    visitorRole: z.string(),
    kind: VisitKind,
    visitedAt: z.string(),
    notes: z.string().nullable(),
    location: Location.nullable(),
    recordedBy: z.uuid(),
    createdAt: z.string(),
    recordedLate: z.boolean().openapi({
      description: "Recorded more than a day after it happened (补录), inside the back-dating window",
    }),
  })
  .openapi("Visit");

export const record = createRoute({
  method: "post",
  path: "/v1/households/{id}/visits",
  operationId: "recordVisit",
  tags: ["visits"],
  summary: "Record a contact with a household: a visit, a phone call or a reception",
  description:
    "Counts toward the household's service cadence: the next contact falls due one cadence after the latest contact. The visitor is the caller unless an admin, centre staff member or grid worker records for another user (`visitorUserId`) whose unit covers the household.",
  ...guarded("visits.record"),
  request: {
    params: IdParam,
    body: jsonBody(
      z
        .strictObject({
          kind: VisitKind,
          visitedAt: z.iso.datetime().optional().openapi({
            description:
              "Default now; not in the future, and at most the unit setting `contacts.late_window_days` (default 7) days back (400 beyond)",
          }),
          notes: z.string().max(4000).optional(),
          location: LocationInput.optional(),
          visitorUserId: z.uuid().optional(),
        })
        .openapi("NewVisit"),
    ),
  },
  responses: {
    201: jsonResponse(VisitSchema, "Recorded", ["Location", "Deprecation", "Link"]),
    ...errorResponses(403, 404),
  },
});

export const listForHousehold = createRoute({
  method: "get",
  path: "/v1/households/{id}/visits",
  operationId: "listHouseholdVisits",
  tags: ["visits"],
  summary: "A household's contacts, newest first",
  ...guarded("visits.read"),
  request: { params: IdParam, query: z.object(pageQuery) },
  responses: { 200: jsonResponse(pageSchema(VisitSchema), "A page of visits"), ...errorResponses(404) },
});

const OverdueSchema = z
  .object({
    householdId: z.uuid(),
    unitId: z.uuid(),
    address: z.string(),
    headName: z.string(),
    effectiveClass: ClassEnum,
    lastVisitAt: z.string().nullable(),
    nextVisitDue: z.string(),
    daysLate: z.number().int(),
  })
  .openapi("OverdueHousehold");

export const overdue = createRoute({
  method: "get",
  path: "/v1/visits/overdue",
  operationId: "listOverdueVisits",
  tags: ["visits"],
  summary: "Households whose next contact is late, the longest-late first",
  ...guarded("visits.read"),
  request: {
    query: z.object({
      unitId: z.uuid().optional().openapi({ description: "Subtree (default: the caller's unit)" }),
      ...AsOfQuery,
      ...pageQuery,
    }),
  },
  responses: {
    200: jsonResponse(pageSchema(OverdueSchema), "A page of overdue households"),
    ...errorResponses(404),
  },
});
