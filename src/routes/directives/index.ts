import { createRouter } from "../../platform/http/openapi";
import * as handlers from "./directives.handlers";
import * as routes from "./directives.routes";

/** Directives (指令) from a centre down its subtree, and their receipts. */
export const directiveRoutes = createRouter()
  .openapi(routes.issue, handlers.issue)
  .openapi(routes.list, handlers.list)
  .openapi(routes.getOne, handlers.getOne)
  .openapi(routes.receipts, handlers.receipts)
  .openapi(routes.acknowledge, handlers.acknowledge)
  .openapi(routes.complete, handlers.complete);
