import { createRouter } from "../../platform/http/openapi";
import * as handlers from "./webhooks.handlers";
import * as routes from "./webhooks.routes";

/** Outgoing webhook endpoints of the centres. */
export const webhookRoutes = createRouter()
  .openapi(routes.create, handlers.create)
  .openapi(routes.list, handlers.list)
  .openapi(routes.disable, handlers.disable);
