import { createRoute, z } from "@hono/zod-openapi";
import { UNIT_LEVELS } from "../../domain/units";
import { errorResponses, guarded, IdParam, jsonResponse } from "../../platform/http/openapi";

const Rate = z
  .number()
  .nullable()
  .openapi({ description: "A share between 0 and 1; null when there is nothing to divide by" });

const FiguresSchema = z
  .object({
    unitId: z.uuid(),
    from: z.string(),
    to: z.string(),
    cases: z.number().int().openapi({ description: "Cases reported in the subtree in the period" }),
    resolved: z.number().int().openapi({ description: "Of them, resolved or closed" }),
    resolvedAtLevel: z
      .array(z.object({ level: z.enum(UNIT_LEVELS), count: z.number().int(), share: Rate }))
      .openapi({
        description:
          "Where the resolved cases were resolved: the level of the unit responsible at resolution",
      }),
    onTimeRate: Rate.openapi({ description: "Resolved cases that never went overdue, over resolved cases" }),
    overdueRate: Rate.openapi({ description: "Cases that went overdue at least once, over all cases" }),
    escalationRate: Rate.openapi({ description: "Cases escalated at least once, over all cases" }),
    grids: z.array(
      z.object({
        unitId: z.string(),
        name: z.string().nullable(),
        level: z.string().nullable(),
        cases: z.number().int(),
        escalated: z.number().int(),
        escalationRate: Rate,
      }),
    ),
    nextCursor: z.string().nullable().openapi({ description: "Cursor for the next page of `grids`" }),
  })
  .openapi("ResolutionLevels");

const Instant = z.iso.datetime({ offset: true });

export const figures = createRoute({
  method: "get",
  path: "/v1/units/{id}/resolution-levels",
  tags: ["time limits"],
  operationId: "getResolutionLevels",
  summary:
    "Where cases are resolved (grid, village, town, county, city), on-time and overdue rates, escalation rate per grid",
  description:
    "Counts cases reported in the unit's subtree with `from` ≤ created < `to`, from the libSQL case projection. `grids` lists each reporting unit (level-2/3 grids and villages as level-1 grids) with its escalation rate, paged by `limit`/`cursor`.",
  ...guarded("resolution-levels.read"),
  request: {
    params: IdParam,
    query: z.object({
      from: Instant,
      to: Instant,
      limit: z.coerce.number().int().min(1).max(1000).default(200),
      cursor: z.string().max(512).optional(),
    }),
  },
  responses: { 200: jsonResponse(FiguresSchema, "The figures"), ...errorResponses(403, 404) },
});
