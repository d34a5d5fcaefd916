import { createRouter } from "../../platform/http/openapi";
import * as handlers from "./liaison-stations.handlers";
import * as routes from "./liaison-stations.routes";

/** Deputy liaison stations (人大代表联络站): stations, deputies, the five-days calendar, and matters that become cases. */
export const liaisonStationRoutes = createRouter()
  .openapi(routes.createStation, handlers.createStation)
  .openapi(routes.getStation, handlers.getStation)
  .openapi(routes.listStations, handlers.listStations)
  .openapi(routes.attachDeputies, handlers.attachDeputies)
  .openapi(routes.scheduleActivity, handlers.scheduleActivity)
  .openapi(routes.calendar, handlers.calendar)
  .openapi(routes.recordActivity, handlers.recordActivity)
  .openapi(routes.getActivity, handlers.getActivity)
  .openapi(routes.raiseMatter, handlers.raiseMatter);
