import { createRouter } from "../../platform/http/openapi";
import * as handlers from "./contacts.handlers";
import * as routes from "./contacts.routes";

/** Three-line contacts: profiles, household pairings and a subtree's coverage. */
export const contactRoutes = createRouter()
  .openapi(routes.putProfile, handlers.putProfile)
  .openapi(routes.getProfile, handlers.getProfile)
  .openapi(routes.pair, handlers.pair)
  .openapi(routes.unpair, handlers.unpair)
  .openapi(routes.coverage, handlers.coverage);
