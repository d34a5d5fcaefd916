import { createRouter } from "../../platform/http/openapi";
import * as handlers from "./party-points.handlers";
import * as routes from "./party-points.routes";

/** Party members' pledges, fulfilments, points ledger, annual reviews and rankings. */
export const partyPointRoutes = createRouter()
  .openapi(routes.createPledge, handlers.createPledge)
  .openapi(routes.listPledges, handlers.listPledges)
  .openapi(routes.createFulfilment, handlers.createFulfilment)
  .openapi(routes.decideFulfilment, handlers.decideFulfilment)
  .openapi(routes.createCorrection, handlers.createCorrection)
  .openapi(routes.getPoints, handlers.getPoints)
  .openapi(routes.createReview, handlers.createReview)
  .openapi(routes.ranking, handlers.ranking);
