import { createRouter } from "../../platform/http/openapi";
import * as handlers from "./audit.handlers";
import * as routes from "./audit.routes";

/** The audit log: search it in one's subtree, and verify its hash chain. */
export const auditRoutes = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.verify, handlers.verify);
