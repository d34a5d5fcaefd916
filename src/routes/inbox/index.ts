import { createRouter } from "../../platform/http/openapi";
import * as handlers from "./inbox.handlers";
import * as routes from "./inbox.routes";

/** A unit's inbox: escalations, notices and alerts addressed to it. */
export const inboxRoutes = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.mark, handlers.mark);
