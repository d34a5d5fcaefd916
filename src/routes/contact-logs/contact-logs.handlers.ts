import { callerOf } from "../../platform/http/auth";
import type { AppRouteHandler } from "../../platform/http/openapi";
import * as contactLogs from "../../services/contact-logs";
import type * as routes from "./contact-logs.routes";

/** POST /v1/contacts/{userId}/case-links */
export const link: AppRouteHandler<typeof routes.link> = async (c) => {
  const created = await contactLogs.linkCase(
    c.env,
    callerOf(c),
    c.req.valid("param").userId,
    c.req.valid("json"),
  );
  return c.json(created, 201);
};

/** GET /v1/contacts/{userId}/case-links */
export const list: AppRouteHandler<typeof routes.list> = async (c) => {
  const items = await contactLogs.listLinks(c.env, callerOf(c), c.req.valid("param").userId);
  return c.json({ items }, 200);
};
