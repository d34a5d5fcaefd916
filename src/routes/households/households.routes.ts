import { createRoute, z } from "@hono/zod-openapi";
import { MAX_CADENCE_DAYS } from "../../domain/service-plan";
import { ifMatchHeader } from "../../platform/http/if-match";
import { IMPORT_BODY_LIMIT } from "../../platform/http/limits";
import { errorResponses, guarded, IdParam, jsonBody, jsonResponse } from "../../platform/http/openapi";
import { pageQuery, pageSchema } from "../../platform/http/pagination";
import {
  AsOfQuery,
  ClassEnum,
  HelperSchema,
  HouseholdPatch,
  HouseholdSchema,
  householdFields,
  PurposeHeader,
  ResidentSchema,
  RevealQuery,
} from "./schemas";

const NewHousehold = z
  .strictObject({
    unitId: z.uuid().openapi({ description: "The level-2 or level-3 grid" }),
    ...householdFields,
  })
  .openapi("NewHousehold");

const ImportRow = z.strictObject({
  unitCode: z.string().regex(/^\d{15}(\d{3})?$/, "a level-2 (15 digits) or level-3 (18 digits) grid code"),
  ...householdFields,
});

const HouseholdDetailSchema = HouseholdSchema.extend({
  residents: z.array(ResidentSchema).openapi({ description: "Always masked; read one resident to reveal" }),
  helpers: z.array(HelperSchema).openapi({ description: "Named helpers (帮扶人), current and past" }),
}).openapi("HouseholdDetail");

const CreatedHouseholdSchema = HouseholdSchema.extend({
  residents: z
    .array(ResidentSchema)
    .openapi({ description: "The residents registered with it, masked, ids included" }),
}).openapi("CreatedHousehold");

const ByClass = z.object({ green: z.number().int(), yellow: z.number().int(), red: z.number().int() });

export const create = createRoute({
  method: "post",
  path: "/v1/households",
  operationId: "createHousehold",
  tags: ["households"],
  summary: "Register a household in a grid, optionally with its residents",
  description:
    "The household is classified on write (green 放心户 / yellow 关心户 / red 连心户) with the village totals including it. ID numbers are validated per GB 11643 and stored only encrypted. An ID number registered anywhere in the city answers 409 naming the next step (register the household without that person, then `POST /v1/residents/transfer-requests`); the refusal is audited with the number's keyed HMAC and counted: past 10 such refusals an hour, 429. 404 when the grid is not in your scope, or was deleted meanwhile.",
  ...guarded("households.write"),
  request: { body: jsonBody(NewHousehold) },
  responses: {
    201: jsonResponse(CreatedHouseholdSchema, "Created, with its residents (masked)", [
      "ETag",
      "Location",
      "Deprecation",
      "Link",
    ]),
    ...errorResponses(403, 404, 409, 429),
  },
});

export const list = createRoute({
  method: "get",
  path: "/v1/households",
  operationId: "listHouseholds",
  tags: ["households"],
  summary: "Households in a subtree of the caller's scope (never unmasked)",
  description:
    "A search by an exact ID number is allowed only to admin, center_staff and grid_worker, with an enumerated `x-purpose` (400 without), counts against the caller's hourly reveal limit (429 beyond it) and is audited with the number's keyed HMAC.",
  ...guarded("households.read"),
  request: {
    query: z.object({
      unitId: z
        .uuid()
        .optional()
        .openapi({ description: "Only this unit's subtree (default: the caller's unit)" }),
      class: ClassEnum.optional().openapi({ description: "Effective class at asOf" }),
      q: z.string().trim().min(1).max(100).optional().openapi({
        description: "Address or head-of-household substring, or an exact 18-character ID number",
      }),
      ...AsOfQuery,
      ...pageQuery,
    }),
    headers: PurposeHeader,
  },
  responses: {
    200: jsonResponse(pageSchema(HouseholdSchema), "A page of households"),
    ...errorResponses(403, 404, 429),
  },
});

export const getOne = createRoute({
  method: "get",
  path: "/v1/households/{id}",
  operationId: "getHousehold",
  tags: ["households"],
  summary: "One household with its (masked) residents and helpers",
  description:
    "With `reveal=true` and an enumerated `x-purpose` header, admin, center_staff and grid_worker see sensitive classification reasons unmasked; the read is audited and counted against the hourly reveal limit (429 beyond it).",
  ...guarded("households.read"),
  request: { params: IdParam, query: z.object({ ...RevealQuery, ...AsOfQuery }), headers: PurposeHeader },
  responses: {
    200: jsonResponse(HouseholdDetailSchema, "The household", ["ETag"]),
    ...errorResponses(403, 404, 429),
  },
});

export const patch = createRoute({
  method: "patch",
  path: "/v1/households/{id}",
  operationId: "updateHousehold",
  tags: ["households"],
  summary: "Change a household, move it to another grid, or set/remove a class override",
  description:
    "Requires `If-Match` with the current version (428 without, 412 when stale or changed meanwhile). The household is reclassified in the same write. Overrides (admin, center_staff) need a reason and an expiry at most 366 days ahead.",
  ...guarded("households.write"),
  request: { params: IdParam, headers: ifMatchHeader(true), body: jsonBody(HouseholdPatch) },
  responses: {
    200: jsonResponse(HouseholdSchema, "Updated", ["ETag", "Deprecation", "Link"]),
    ...errorResponses(403, 404, 412, 428),
  },
});

export const importHouseholds = createRoute({
  method: "post",
  path: "/v1/households/import",
  operationId: "importHouseholds",
  tags: ["households"],
  summary: "Bulk import households with residents, all or nothing",
  description: `Up to 20,000 rows and ${IMPORT_BODY_LIMIT / 1024 / 1024} MiB per call. Every bad row is reported with its index (400; 409 for registered or repeated ID numbers); nothing is written unless every row is good. Imported households are classified with their villages' totals including the import; run \`POST /v1/units/{id}/reclassify\` afterwards to move the classes of households already there.`,
  ...guarded("households.import"),
  request: {
    body: jsonBody(
      z.strictObject({ rows: z.array(ImportRow).min(1).max(20_000) }).openapi("HouseholdImport"),
    ),
  },
  responses: {
    201: jsonResponse(
      z.object({
        imported: z.number().int(),
        residents: z.number().int(),
        byClass: z.record(z.string(), z.number().int()),
        villages: z.number().int(),
      }),
      "Imported",
    ),
    ...errorResponses(403, 404, 409, 413, 429),
  },
});

export const reclassify = createRoute({
  method: "post",
  path: "/v1/units/{id}/reclassify",
  operationId: "reclassifyUnitHouseholds",
  tags: ["households"],
  summary: "Reclassify every household of a subtree, set-based",
  description:
    "Recomputes village averages and every household's class in a few SQL statements. Returns counts by effective class, how many households changed class, and how many rows were rewritten.",
  ...guarded("households.plan"),
  request: { params: IdParam, query: z.object({ ...AsOfQuery }) },
  responses: {
    200: jsonResponse(
      z.object({
        unitId: z.uuid(),
        asOf: z.string(),
        byClass: ByClass,
        examined: z.number().int(),
        changed: z.number().int(),
        updated: z.number().int(),
        ms: z.number().int(),
      }),
      "Reclassified",
    ),
    ...errorResponses(403, 404),
  },
});

export const summary = createRoute({
  method: "get",
  path: "/v1/units/{id}/households/summary",
  operationId: "getHouseholdSummary",
  tags: ["households"],
  summary: "Households by class and overdue visits in a subtree",
  ...guarded("households.read"),
  request: { params: IdParam, query: z.object({ ...AsOfQuery }) },
  responses: {
    200: jsonResponse(
      z.object({
        unitId: z.uuid(),
        asOf: z.string(),
        total: z.number().int(),
        byClass: ByClass,
        overdue: ByClass.extend({ total: z.number().int() }),
      }),
      "Summary",
    ),
    ...errorResponses(404),
  },
});

export const addHelper = createRoute({
  method: "post",
  path: "/v1/households/{id}/helpers",
  operationId: "assignHouseholdHelper",
  tags: ["households"],
  summary: "Name a helper (帮扶人) for a household",
  description: "The helper is a grid worker or a three-line contact whose unit covers the household.",
  ...guarded("households.write"),
  request: {
    params: IdParam,
    body: jsonBody(
      z.strictObject({ userId: z.uuid(), kind: z.enum(["one_to_one", "one_to_many"]) }).openapi("NewHelper"),
    ),
  },
  responses: { 201: jsonResponse(HelperSchema, "Named"), ...errorResponses(403, 404, 409) },
});

export const endHelper = createRoute({
  method: "delete",
  path: "/v1/households/{id}/helpers/{userId}",
  operationId: "removeHouseholdHelper",
  tags: ["households"],
  summary: "End a helper pairing, keeping its history",
  ...guarded("households.write"),
  request: {
    params: z.object({
      id: z.uuid().openapi({ param: { name: "id", in: "path" } }),
      userId: z.uuid().openapi({ param: { name: "userId", in: "path" } }),
    }),
  },
  responses: { 204: { description: "Ended" }, ...errorResponses(403, 404) },
});

const CadenceValue = z
  .union([z.number().int().min(1).max(MAX_CADENCE_DAYS), z.enum(["none", "inherit"])])
  .openapi({
    description:
      "Days between contacts, `none` for no scheduled visits, `inherit` to drop this unit's own value",
  });
const ServicePlanSchema = z
  .object({
    unitId: z.uuid(),
    cadence: z.object({
      green: z.number().int().nullable(),
      yellow: z.number().int().nullable(),
      red: z.number().int().nullable(),
    }),
    source: z
      .object({ green: z.uuid().nullable(), yellow: z.uuid().nullable(), red: z.uuid().nullable() })
      .openapi({ description: "The unit each value comes from; null = the default" }),
  })
  .openapi("ServicePlan");

export const getServicePlan = createRoute({
  method: "get",
  path: "/v1/units/{id}/service-plan",
  operationId: "getServicePlan",
  tags: ["households"],
  summary: "The visit cadence by class in force for a unit, and where each value comes from",
  description:
    "Defaults: green no scheduled visits, yellow every 30 days, red every 7 days; inherited down the tree.",
  ...guarded("households.read"),
  request: { params: IdParam },
  responses: { 200: jsonResponse(ServicePlanSchema, "The service plan"), ...errorResponses(404) },
});

export const putServicePlan = createRoute({
  method: "put",
  path: "/v1/units/{id}/service-plan",
  operationId: "setServicePlan",
  tags: ["households"],
  summary: "Set a unit's own visit cadences; the subtree is rescheduled",
  ...guarded("households.plan"),
  request: {
    params: IdParam,
    body: jsonBody(
      z
        .strictObject({
          green: CadenceValue.optional(),
          yellow: CadenceValue.optional(),
          red: CadenceValue.optional(),
        })
        .refine((b) => Object.keys(b).length > 0, "give at least one class")
        .openapi("ServicePlanUpdate"),
    ),
  },
  responses: {
    200: jsonResponse(ServicePlanSchema.extend({ rescheduled: z.number().int() }), "Updated"),
    ...errorResponses(403, 404),
  },
});
