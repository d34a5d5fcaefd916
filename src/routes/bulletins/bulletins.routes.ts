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
    "The cron publishes a weekly and a monthly bulletin for every town, county and city centre after each period ends, once per period. Each period is listed once, at its latest `version` (a regeneration stores the next one); `…/bulletins/{kind}/{from}/versions` lists them all. Each is also an inbox item of the centre (`bulletin`) and a `bulletin.published` webhook event. A village or grid issues none (400).",
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

const PeriodParams = IdParam.extend({
  kind: KindSchema.openapi({ param: { name: "kind", in: "path" } }),
  from: z
    .string()
    .max(10)
    .openapi({
      param: { name: "from", in: "path" },
      description: "First China day of the period (YYYY-MM-DD): a Monday for a week, the 1st for a month",
      example: "2026-03-30",
    }),
});

export const regenerate = createRoute({
  method: "post",
  path: "/v1/units/{id}/bulletins/{kind}/{from}/regeneration",
  tags: ["figures"],
  operationId: "regenerateBulletin",
  summary: "Regenerate a centre's bulletin of a period from the current figures",
  description:
    "For when the figures behind a published bulletin changed (late case events, a rebuilt roll-up). When the regenerated content differs from the latest version, it is stored as the next `version` (201), audited, and delivered again: a new inbox item (`bulletin`) and a `bulletin.published` webhook event carrying the version; earlier versions stay readable (`…/versions`, `GET /v1/bulletins/{id}`). When it says the same, nothing is written and the latest version is answered (200). 404 for a unit outside the caller's subtree or a period without a bulletin (the cron writes version 1); 400 for a village or grid, or a `from` that does not start a period; 409 `bulletin-regenerated` when a concurrent regeneration stored different content first (regenerate again).",
  ...guarded("bulletins.regenerate"),
  request: { params: PeriodParams },
  responses: {
    201: jsonResponse(BulletinSummarySchema, "A new version, stored and delivered"),
    200: jsonResponse(BulletinSummarySchema, "The content is unchanged: the latest version, nothing written"),
    ...errorResponses(400, 403, 404, 409),
  },
});

export const versions = createRoute({
  method: "get",
  path: "/v1/units/{id}/bulletins/{kind}/{from}/versions",
  tags: ["figures"],
  operationId: "listBulletinVersions",
  summary: "Every version of a centre's bulletin of a period, newest first",
  description:
    "Each version is readable by its id at `GET /v1/bulletins/{id}`. 404 for a unit outside the caller's subtree or a period without a bulletin; 400 for a village or grid, or a `from` that does not start a period.",
  ...guarded("bulletins.read"),
  request: { params: PeriodParams, query: z.object(pageQuery) },
  responses: {
    200: jsonResponse(pageSchema(BulletinSummarySchema), "A page of versions"),
    ...errorResponses(400, 403, 404),
  },
});
