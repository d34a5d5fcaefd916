import { createRouter } from "../../platform/http/openapi";
import * as handlers from "./ops.handlers";
import * as routes from "./ops.routes";

/** Operations: how far the case projection lags its GridDesks. */
export const opsRoutes = createRouter().openapi(routes.projectionLag, handlers.projectionLag);
