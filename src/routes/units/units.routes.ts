import { createRoute, z } from "@hono/zod-openapi";
import { UNIT_LEVEL_LABELS, UNIT_LEVELS } from "../../domain/units";
import { ifMatchHeader } from "../../platform/http/if-match";
import { IMPORT_BODY_LIMIT } from "../../platform/http/limits";
import { errorResponses, guarded, IdParam, jsonBody, jsonResponse } from "../../platform/http/openapi";
import { pageQuery, pageSchema } from "../../platform/http/pagination";

const Level = z.enum(UNIT_LEVELS).openapi({
  description: Object.entries(UNIT_LEVEL_LABELS)
    .map(([k, v]) => `\`${k}\` — ${v}`)
    .join("; "),
});
const Code = z
  .string()
  .regex(/^\d{6,18}$/, "6 to 18 digits")
  .openapi({ example: "610902001001" });
const Name = z.string().trim().min(1).max(100);

/** A unit of the administrative tree, as every unit endpoint returns it. */
export const UnitSchema = z
  .object({
    id: z.uuid(),
    code: z.string(),
    name: z.string(),
    parentId: z.uuid().nullable(),
    path: z.string().openapi({ description: "Materialized path of ids, root first" }),
    level: Level,
    gridLevel: z.number().int().nullable().openapi({ description: "1 for a village, 2 or 3 for grids" }),
    depth: z.number().int(),
    version: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Unit");

export const getOne = createRoute({
  method: "get",
  path: "/v1/units/{id}",
  operationId: "getUnit",
  tags: ["units"],
  summary: "One unit",
  ...guarded("units.read"),
  request: { params: IdParam },
  responses: { 200: jsonResponse(UnitSchema, "The unit", ["ETag"]), ...errorResponses(404) },
});

export const children = createRoute({
  method: "get",
  path: "/v1/units/{id}/children",
  operationId: "listUnitChildren",
  tags: ["units"],
  summary: "The direct children of a unit, by code",
  ...guarded("units.read"),
  request: { params: IdParam, query: z.object(pageQuery) },
  responses: { 200: jsonResponse(pageSchema(UnitSchema), "A page of children"), ...errorResponses(404) },
});

export const list = createRoute({
  method: "get",
  path: "/v1/units",
  operationId: "listUnits",
  tags: ["units"],
  summary: "Search units in the caller's subtree",
  ...guarded("units.read"),
  request: {
    query: z.object({
      parentId: z.uuid().optional(),
      level: Level.optional(),
      q: z
        .string()
        .trim()
        .min(1)
        .max(100)
        .optional()
        .openapi({ description: "Name substring or code prefix" }),
      ...pageQuery,
    }),
  },
  responses: { 200: jsonResponse(pageSchema(UnitSchema), "A page of units, by code"), ...errorResponses() },
});

export const create = createRoute({
  method: "post",
  path: "/v1/units",
  operationId: "createUnit",
  tags: ["units"],
  summary: "Create a unit under a parent in the caller's subtree (admin)",
  ...guarded("units.write"),
  request: {
    body: jsonBody(
      z.strictObject({ code: Code, name: Name, level: Level, parentId: z.uuid() }).openapi("NewUnit"),
    ),
  },
  responses: {
    201: jsonResponse(UnitSchema, "Created", ["ETag", "Location"]),
    ...errorResponses(403, 404, 409),
  },
});

export const patch = createRoute({
  method: "patch",
  path: "/v1/units/{id}",
  operationId: "updateUnit",
  tags: ["units"],
  summary: "Rename a unit or move it (with its subtree) to another parent (admin)",
  description:
    "Moving needs `parentId` and the unit's new `code` under that parent; descendants' codes and every stored path are rewritten. `If-Match` is honoured.",
  ...guarded("units.write"),
  request: {
    params: IdParam,
    headers: ifMatchHeader(false),
    body: jsonBody(
      z
        .strictObject({ name: Name.optional(), parentId: z.uuid().optional(), code: Code.optional() })
        .openapi("UnitPatch"),
    ),
  },
  responses: {
    200: jsonResponse(UnitSchema, "Updated", ["ETag"]),
    ...errorResponses(403, 404, 409, 412),
  },
});

export const remove = createRoute({
  method: "delete",
  path: "/v1/units/{id}",
  operationId: "deleteUnit",
  tags: ["units"],
  summary: "Delete a unit that has no children, no data and no cases (admin)",
  description:
    "409 `unit-in-use` while anything still belongs to the unit, 409 `unit-has-cases` while its case desk holds cases.",
  ...guarded("units.write"),
  request: { params: IdParam },
  responses: { 204: { description: "Deleted" }, ...errorResponses(403, 404, 409) },
});

const ImportRow = z.strictObject({ code: Code, name: Name, level: Level, parentCode: Code });

export const importUnits = createRoute({
  method: "post",
  path: "/v1/units/import",
  operationId: "importUnits",
  tags: ["units"],
  summary: "Bulk import units, all or nothing (admin)",
  description: `Rows may name as parent an existing unit or another row. Up to 50,000 rows and ${IMPORT_BODY_LIMIT / 1024 / 1024} MiB per call. Every bad row is reported with its index; nothing is written unless all rows are good.`,
  ...guarded("units.write"),
  request: {
    body: jsonBody(z.strictObject({ rows: z.array(ImportRow).min(1).max(50_000) }).openapi("UnitImport")),
  },
  responses: {
    201: jsonResponse(
      z.object({ imported: z.number().int(), byLevel: z.record(z.string(), z.number().int()) }),
      "Imported",
    ),
    ...errorResponses(403, 409, 413),
  },
});
