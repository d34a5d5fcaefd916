import { createRouter } from "../../platform/http/openapi";
import * as handlers from "./household-leads.handlers";
import * as routes from "./household-leads.routes";

/** Household leads: subsidy settings, events, ratings, month statements and settlements, flags. */
export const householdLeadRoutes = createRouter()
  .openapi(routes.putSettings, handlers.putSettings)
  .openapi(routes.getSettings, handlers.getSettings)
  .openapi(routes.recordEvent, handlers.recordEvent)
  .openapi(routes.rate, handlers.rate)
  .openapi(routes.statement, handlers.statement)
  .openapi(routes.settle, handlers.settle)
  .openapi(routes.flag, handlers.flag)
  .openapi(routes.unflag, handlers.unflag)
  .openapi(routes.listLeads, handlers.listLeads);
