import { callerOf, principalOf } from "../../platform/http/auth";
import type { AppRouteHandler } from "../../platform/http/openapi";
import {
  caseFiguresReport,
  HOTSPOT_CELLS,
  hotspots as hotspotsOf,
  leagueTable,
  satisfactionReport,
} from "../../services/figures";
import { serviceFiguresReport } from "../../services/service-figures";
import type * as routes from "./figures.routes";

/** GET /v1/units/{id}/figures/cases */
export const caseFigures: AppRouteHandler<typeof routes.caseFigures> = async (c) => {
  const { from, to, granularity, type } = c.req.valid("query");
  const report = await caseFiguresReport(
    c.env,
    principalOf(c),
    c.req.valid("param").id,
    { from, to },
    granularity,
    type ?? null,
  );
  return c.json(report, 200);
};

/** GET /v1/units/{id}/league */
export const league: AppRouteHandler<typeof routes.league> = async (c) => {
  const { from, to, sort, order } = c.req.valid("query");
  const table = await leagueTable(c.env, principalOf(c), c.req.valid("param").id, { from, to }, sort, order);
  return c.json(table, 200);
};

/** GET /v1/units/{id}/hotspots */
export const hotspots: AppRouteHandler<typeof routes.hotspots> = async (c) => {
  const { from, to, type, cell, limit } = c.req.valid("query");
  const cells = await hotspotsOf(
    c.env,
    principalOf(c),
    c.req.valid("param").id,
    { from, to },
    HOTSPOT_CELLS[cell],
    type ?? null,
    limit,
  );
  return c.json(cells, 200);
};

/** GET /v1/units/{id}/figures/satisfaction */
export const satisfaction: AppRouteHandler<typeof routes.satisfaction> = async (c) => {
  const { from, to, limit } = c.req.valid("query");
  const report = await satisfactionReport(
    c.env,
    principalOf(c),
    c.req.valid("param").id,
    { from, to },
    limit,
  );
  return c.json(report, 200);
};

export const serviceFigures: AppRouteHandler<typeof routes.serviceFigures> = async (c) => {
  const { from, to } = c.req.valid("query");
  const report = await serviceFiguresReport(c.env, callerOf(c), c.req.valid("param").id, { from, to });
  return c.json(report, 200);
};
