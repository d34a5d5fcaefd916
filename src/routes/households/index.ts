import { createRouter } from "../../platform/http/openapi";
import * as handlers from "./households.handlers";
import * as routes from "./households.routes";

/** Households: registration, import, classification, overrides, helpers and service plans. */
export const householdRoutes = createRouter()
  .openapi(routes.importHouseholds, handlers.importHouseholds)
  .openapi(routes.create, handlers.create)
  .openapi(routes.list, handlers.list)
  .openapi(routes.getOne, handlers.getOne)
  .openapi(routes.patch, handlers.patch)
  .openapi(routes.reclassify, handlers.reclassify)
  .openapi(routes.summary, handlers.summary)
  .openapi(routes.getServicePlan, handlers.getServicePlan)
  .openapi(routes.putServicePlan, handlers.putServicePlan)
  .openapi(routes.addHelper, handlers.addHelper)
  .openapi(routes.endHelper, handlers.endHelper);
