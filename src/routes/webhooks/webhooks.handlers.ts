import type { WebhookEndpoint } from "../../db/repos/webhooks";
import { callerOf, principalOf } from "../../platform/http/auth";
import type { AppRouteHandler } from "../../platform/http/openapi";
import { decodeCursor, toPage } from "../../platform/http/pagination";
import { disableWebhook, registerWebhook, webhooksOfUnit } from "../../services/webhooks";
import type * as routes from "./webhooks.routes";

/** The public view of an endpoint: no unit path, never the secret. */
const view = (e: WebhookEndpoint) => ({
  id: e.id,
  unitId: e.unitId,
  url: e.url,
  events: e.events,
  description: e.description,
  createdBy: e.createdBy,
  createdAt: e.createdAt,
  disabledAt: e.disabledAt,
});

/** POST /v1/units/{id}/webhooks */
export const create: AppRouteHandler<typeof routes.create> = async (c) => {
  const caller = callerOf(c);
  const { id } = c.req.valid("param");
  const { endpoint, secret } = await registerWebhook(c.env, caller, id, c.req.valid("json"));
  c.header("location", `/v1/units/${endpoint.unitId}/webhooks`);
  return c.json({ ...view(endpoint), secret }, 201);
};

/** GET /v1/units/{id}/webhooks */
export const list: AppRouteHandler<typeof routes.list> = async (c) => {
  const { limit, cursor } = c.req.valid("query");
  const after = decodeCursor(cursor, 2, ["string", "string"]) as [string, string] | null;
  const rows = await webhooksOfUnit(c.env, principalOf(c), c.req.valid("param").id, after, limit);
  return c.json(
    toPage(rows, limit, view, (e) => [e.createdAt, e.id]),
    200,
  );
};

/** POST /v1/webhooks/{id}/disable */
export const disable: AppRouteHandler<typeof routes.disable> = async (c) => {
  const caller = callerOf(c);
  return c.json(view(await disableWebhook(c.env, caller, c.req.valid("param").id)), 200);
};
