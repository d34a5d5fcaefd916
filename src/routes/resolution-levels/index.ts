import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { units } from "../../db/schema";
import { ESCALATION_EVENT_TYPES } from "../../domain/escalation";
import { SLA_EVENT_TYPES } from "../../domain/sla";
import { UNIT_LEVELS } from "../../domain/units";
import { getDb } from "../../platform/db/client";
import { assertInScope, principalOf, requireRole } from "../../platform/http/auth";
import { bearer, createRouter, errorResponses, IdParam, jsonResponse } from "../../platform/http/openapi";
import { decodeCursor, encodeCursor } from "../../platform/http/pagination";
import { problems } from "../../platform/http/problem";

const MAX_PERIOD_MS = 5 * 366 * 24 * 3600 * 1000;

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

const route = createRoute({
  method: "get",
  path: "/v1/units/{id}/resolution-levels",
  tags: ["time limits"],
  summary:
    "Where cases are resolved (grid, village, town, county, city), on-time and overdue rates, escalation rate per grid",
  description:
    "Counts cases reported in the unit's subtree with `from` ≤ created < `to`, from the libSQL case projection. `grids` lists each reporting unit (level-2/3 grids and villages as level-1 grids) with its escalation rate, paged by `limit`/`cursor`.",
  security: bearer,
  middleware: [requireRole("center_staff", "admin", "leader")] as const,
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

const rate = (n: number, d: number) => (d === 0 ? null : n / d);

// The projection carries the facts (resolved level, overdue flag, escalation count, migration 0310); cases
// projected before it fall back to their events.
const CASES_IN_PERIOD = `WITH c AS (
    SELECT cases.id, cases.owning_unit_id,
      COALESCE(cases.resolved_level, cases.responsible_level) AS responsible_level,
      cases.state IN ('resolved', 'closed') AS resolved,
      (cases.overdue = 1 OR EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = cases.id AND e.type = ?)) AS overdue,
      (cases.escalation_count > 0 OR EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = cases.id AND e.type = ?)) AS escalated
    FROM cases WHERE cases.owning_unit_path LIKE ? AND cases.created_at >= ? AND cases.created_at < ?)`;

export const resolutionLevelRoutes = createRouter().openapi(route, async (c) => {
  const db = getDb(c.env);
  const { id } = c.req.valid("param");
  const query = c.req.valid("query");
  const from = new Date(query.from).toISOString();
  const to = new Date(query.to).toISOString();
  if (from >= to)
    throw problems.badRequest("`from` must be before `to`", [
      { path: "query.to", message: "not after from" },
    ]);
  if (Date.parse(to) - Date.parse(from) > MAX_PERIOD_MS) {
    throw problems.badRequest("The period may span at most five years", [
      { path: "query.from", message: "too early" },
    ]);
  }
  const [unit] = await db.select({ path: units.path }).from(units).where(eq(units.id, id)).limit(1);
  assertInScope(principalOf(c), unit?.path, "unit");
  const after = decodeCursor(query.cursor, 1);
  const args = [SLA_EVENT_TYPES.overdue, ESCALATION_EVENT_TYPES.escalated, `${unit!.path}%`, from, to];
  const [totals, perGrid] = await db.$client.batch(
    [
      {
        sql: `${CASES_IN_PERIOD}
              SELECT responsible_level, resolved, overdue, escalated, COUNT(*) AS n FROM c GROUP BY 1, 2, 3, 4`,
        args,
      },
      {
        sql: `${CASES_IN_PERIOD}
              SELECT c.owning_unit_id, u.name, u.level, COUNT(*) AS n, SUM(c.escalated) AS escalated
              FROM c LEFT JOIN units u ON u.id = c.owning_unit_id
              ${after ? "WHERE c.owning_unit_id > ?" : ""}
              GROUP BY c.owning_unit_id ORDER BY c.owning_unit_id LIMIT ?`,
        args: [...args, ...(after ? [String(after[0])] : []), query.limit + 1],
      },
    ],
    "read",
  );

  let cases = 0;
  let resolved = 0;
  let resolvedOnTime = 0;
  let overdue = 0;
  let escalated = 0;
  const byLevel = new Map<string, number>();
  for (const r of totals!.rows) {
    const n = Number(r.n);
    cases += n;
    if (Number(r.overdue)) overdue += n;
    if (Number(r.escalated)) escalated += n;
    if (Number(r.resolved)) {
      resolved += n;
      if (!Number(r.overdue)) resolvedOnTime += n;
      const level = String(r.responsible_level);
      byLevel.set(level, (byLevel.get(level) ?? 0) + n);
    }
  }
  const rows = perGrid!.rows;
  const more = rows.length > query.limit;
  const page = more ? rows.slice(0, query.limit) : rows;
  return c.json(
    {
      unitId: id,
      from,
      to,
      cases,
      resolved,
      resolvedAtLevel: UNIT_LEVELS.map((level) => ({
        level,
        count: byLevel.get(level) ?? 0,
        share: rate(byLevel.get(level) ?? 0, resolved),
      })),
      onTimeRate: rate(resolvedOnTime, resolved),
      overdueRate: rate(overdue, cases),
      escalationRate: rate(escalated, cases),
      grids: page.map((r) => ({
        unitId: String(r.owning_unit_id),
        name: r.name === null ? null : String(r.name),
        level: r.level === null ? null : String(r.level),
        cases: Number(r.n),
        escalated: Number(r.escalated),
        escalationRate: rate(Number(r.escalated), Number(r.n)),
      })),
      nextCursor: more ? encodeCursor([String(page[page.length - 1]!.owning_unit_id)]) : null,
    },
    200,
  );
});
