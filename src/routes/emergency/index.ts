import { createRouter } from "../../platform/http/openapi";
import * as handlers from "./emergency.handlers";
import * as routes from "./emergency.routes";

/** Emergency command (应急指挥): events, rosters, check-ins, shelters, live progress and the after-action report. */
export const emergencyRoutes = createRouter()
  .openapi(routes.declare, handlers.declare)
  .openapi(routes.list, handlers.list)
  .openapi(routes.getOne, handlers.getOne)
  .openapi(routes.setLevel, handlers.setLevel)
  .openapi(routes.addUnits, handlers.addUnits)
  .openapi(routes.standDown, handlers.standDown)
  .openapi(routes.roster, handlers.roster)
  .openapi(routes.checkIn, handlers.checkIn)
  .openapi(routes.addShelter, handlers.addShelter)
  .openapi(routes.progress, handlers.progress)
  .openapi(routes.stream, handlers.stream)
  .openapi(routes.report, handlers.report)
  .openapi(routes.order, handlers.order);
