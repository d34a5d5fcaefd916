import { createRouter } from "../../platform/http/openapi";
import * as handlers from "./bulletins.handlers";
import * as routes from "./bulletins.routes";

/** Periodic bulletins (定期通报) of the town, county and city centres. */
export const bulletinRoutes = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.get, handlers.get)
  .openapi(routes.regenerate, handlers.regenerate)
  .openapi(routes.versions, handlers.versions);
