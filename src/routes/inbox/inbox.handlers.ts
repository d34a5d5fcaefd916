import { callerOf, principalOf } from "../../platform/http/auth";
import type { AppRouteHandler } from "../../platform/http/openapi";
import { decodeCursor, toPage } from "../../platform/http/pagination";
import { inboxOf, markInbox } from "../../services/inbox";
import type * as routes from "./inbox.routes";

/** GET /v1/units/{id}/inbox */
export const list: AppRouteHandler<typeof routes.list> = async (c) => {
  const { kind, state, limit, cursor } = c.req.valid("query");
  const after = decodeCursor(cursor, 2, ["string", "string"]) as [string, string] | null;
  const items = await inboxOf(c.env, principalOf(c), c.req.valid("param").id, { kind, state, after, limit });
  return c.json(
    toPage(
      items,
      limit,
      (i) => i,
      (i) => [i.createdAt, i.id],
    ),
    200,
  );
};

/** POST /v1/units/{id}/inbox/mark */
export const mark: AppRouteHandler<typeof routes.mark> = async (c) => {
  const caller = callerOf(c);
  const { ids, as } = c.req.valid("json");
  return c.json({ updated: await markInbox(c.env, caller, c.req.valid("param").id, ids, as) }, 200);
};
