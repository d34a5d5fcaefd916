import { auditView, searchAudit } from "../../db/repos/audit";
import { principalOf } from "../../platform/http/auth";
import type { AppRouteHandler } from "../../platform/http/openapi";
import { decodeCursor, toPage } from "../../platform/http/pagination";
import { verifyAudit } from "../../services/audit";
import type * as routes from "./audit.routes";

/** GET /v1/audit */
export const list: AppRouteHandler<typeof routes.list> = async (c) => {
  const { cursor, limit, from, to, ...filters } = c.req.valid("query");
  const after = decodeCursor(cursor, 1, ["number"]);
  const rows = await searchAudit(c.env, {
    ...filters,
    scopePath: principalOf(c).unitPath,
    from: from ? new Date(from).toISOString() : undefined,
    to: to ? new Date(to).toISOString() : undefined,
    beforeSeq: after ? Number(after[0]) : undefined,
    limit: limit + 1,
  });
  return c.json(
    toPage(rows, limit, auditView, (r) => [r.seq]),
    200,
  );
};

/** GET /v1/audit/verify */
export const verify: AppRouteHandler<typeof routes.verify> = async (c) => {
  return c.json(await verifyAudit(c.env), 200);
};
