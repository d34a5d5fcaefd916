import { principalOf } from "../../platform/http/auth";
import type { AppRouteHandler } from "../../platform/http/openapi";
import { decodeCursor, toPage } from "../../platform/http/pagination";
import { projectionLag as lagOf } from "../../services/projection";
import type * as routes from "./ops.routes";

/** GET /v1/ops/projection-lag */
export const projectionLag: AppRouteHandler<typeof routes.projectionLag> = async (c) => {
  const { limit, cursor } = c.req.valid("query");
  const after = decodeCursor(cursor, 2, ["string", "string"]) as [string, string] | null;
  const rows = await lagOf(c.env, principalOf(c), after, limit + 1, new Date());
  return c.json(
    toPage(
      rows,
      limit,
      (r) => r,
      (r) => [r.laggingSince, r.deskId],
    ),
    200,
  );
};
