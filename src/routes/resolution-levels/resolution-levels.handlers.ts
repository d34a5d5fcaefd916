import { principalOf } from "../../platform/http/auth";
import type { AppRouteHandler } from "../../platform/http/openapi";
import { decodeCursor, toPage } from "../../platform/http/pagination";
import { resolutionFigures } from "../../services/resolution-levels";
import type * as routes from "./resolution-levels.routes";

/** GET /v1/units/{id}/resolution-levels */
export const figures: AppRouteHandler<typeof routes.figures> = async (c) => {
  const { from, to, limit, cursor } = c.req.valid("query");
  const after = decodeCursor(cursor, 1, ["string"]);
  const { units, ...totals } = await resolutionFigures(
    c.env,
    principalOf(c),
    c.req.valid("param").id,
    { from, to },
    { afterUnitId: after ? String(after[0]) : null, limit },
  );
  const grids = toPage(
    units,
    limit,
    (u) => u,
    (u) => [u.unitId],
  );
  return c.json({ ...totals, grids: grids.items, nextCursor: grids.nextCursor }, 200);
};
