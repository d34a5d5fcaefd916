import { createRouter } from "../../platform/http/openapi";
import * as handlers from "./sla-policy.handlers";
import * as routes from "./sla-policy.routes";

/** Time-limit policy (时限) per unit, inherited down the tree. */
export const slaPolicyRoutes = createRouter()
  .openapi(routes.getPolicy, handlers.getPolicy)
  .openapi(routes.putPolicy, handlers.putPolicy);
