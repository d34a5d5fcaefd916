import { createRouter } from "../../platform/http/openapi";
import * as handlers from "./resolution-levels.handlers";
import * as routes from "./resolution-levels.routes";

/** Where a subtree's cases are resolved, and how fast. */
export const resolutionLevelRoutes = createRouter().openapi(routes.figures, handlers.figures);
