import { createRoute, z } from "@hono/zod-openapi";
import { BULLETIN_KINDS } from "../../domain/bulletins";
import { UNIT_LEVELS } from "../../domain/units";
import { errorResponses, guarded, IdParam, jsonResponse } from "../../platform/http/openapi";
import { pageQuery, pageSchema } from "../../platform/http/pagination";

const KindSchema = z.enum(BULLETIN_KINDS).openapi({ description: "`week` — 周报; `month` — 月报" });

const BulletinSummarySchema = z
  .object({
    id: z.uuid(),
    unitId: z.uuid(),
    kind: KindSchema,
    from: z.string().openapi({ description: "First China day of the period" }),
    to: z.string().openapi({ description: "Last China day of the period" }),
    version: z.number().int(),
    generatedAt: z.string(),
  })
  .openapi("BulletinSummary");

const Loose = z.record(z.string(), z.unknown());

const BulletinSchema = BulletinSummarySchema.extend({
  content: z
    .object({
      unit: z.object({ id: z.uuid(), name: z.string(), level: z.enum(UNIT_LEVELS) }),
      kind: KindSchema,
      from: z.string(),
      to: z.string(),
      previousFrom: z.string(),
      previousTo: z.string(),
      targets: z.object({ closureRate: z.number(), onTimeRate: z.number(), maxOverdue: z.number() }),
      headline: Loose.openapi({ description: "The centre's `CaseFigures` of the period" }),
      previous: Loose.openapi({ description: "The same of the previous period" }),
      change: Loose,
      belowTarget: z.array(
        z.object({
          unitId: z.uuid(),
          name: z.string(),
          level: z.enum(UNIT_LEVELS),
          closureRate: z.number().nullable(),
          onTimeRate: z.number().nullable(),
          overdue: z.number().int(),
          reasons: z.array(z.string()),
        }),
      ),
      oldestOpen: z.array(
        z.object({
          caseId: z.string(),
          title: z.string(),
          type: z.string(),
          state: z.string(),
          owningUnitId: z.string(),
          createdAt: z.string(),
        }),
      ),
    })
    .openapi({ description: "What the bulletin says" }),
}).openapi("Bulletin");

export const list = createRoute({
  method: "get",
  path: "/v1/units/{id}/bulletins",
  tags: ["figures"],
  operationId: "listBulletins",
  summary: "A centre's periodic bulletins (定期通报), newest period first",
  description:
    "The cron publishes a weekly and a monthly bulletin for every town, county and city centre after each period ends, once per period (a later version of the same period gets the next `version`). Each is also an inbox item of the centre (`bulletin`) and a `bulletin.published` webhook event. A village or grid issues none (400).",
  ...guarded("bulletins.read"),
  request: { params: IdParam, query: z.object({ kind: KindSchema.optional(), ...pageQuery }) },
  responses: {
    200: jsonResponse(pageSchema(BulletinSummarySchema), "A page of bulletins"),
    ...errorResponses(400, 403, 404),
  },
});

export const get = createRoute({
  method: "get",
  path: "/v1/bulletins/{id}",
  tags: ["figures"],
  operationId: "getBulletin",
  summary: "One bulletin as JSON, CSV or XLSX",
  description:
    "`format=json` (default) answers the stored bulletin; `csv` a UTF-8 CSV with a BOM; `xlsx` an Excel workbook. 404 for a bulletin outside the caller's subtree.",
  ...guarded("bulletins.read"),
  request: {
    params: IdParam,
    query: z.object({ format: z.enum(["json", "csv", "xlsx"]).default("json") }),
  },
  responses: {
    200: {
      description: "The bulletin",
      content: {
        "application/json": { schema: BulletinSchema },
        "text/csv": { schema: z.string() },
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
          schema: z.string().openapi({ format: "binary" }),
        },
      },
    },
    ...errorResponses(400, 403, 404),
  },
});
