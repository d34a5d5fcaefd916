import { createRouter } from "../../platform/http/openapi";
import * as handlers from "./health.handlers";
import * as routes from "./health.routes";

/** Liveness with libSQL reachability, and the public keys of access tokens. */
export const healthRoutes = createRouter()
  .openapi(routes.health, handlers.health)
  .openapi(routes.jwks, handlers.jwks);
