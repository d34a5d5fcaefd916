import { createRouter } from "../../platform/http/openapi";
import * as handlers from "./figures.handlers";
import * as routes from "./figures.routes";

/** A subtree's figures: case roll-ups, the children's league table, hot spots, return-visit satisfaction. */
export const figureRoutes = createRouter()
  .openapi(routes.caseFigures, handlers.caseFigures)
  .openapi(routes.league, handlers.league)
  .openapi(routes.hotspots, handlers.hotspots)
  .openapi(routes.satisfaction, handlers.satisfaction)
  .openapi(routes.serviceFigures, handlers.serviceFigures);
