import { createRouter } from "../../platform/http/openapi";
import * as handlers from "./visits.handlers";
import * as routes from "./visits.routes";

/** Contacts with households (visits, calls, receptions) and the overdue list. */
export const visitRoutes = createRouter()
  .openapi(routes.record, handlers.record)
  .openapi(routes.listForHousehold, handlers.listForHousehold)
  .openapi(routes.overdue, handlers.overdue);
