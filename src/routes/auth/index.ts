import { createRouter } from "../../platform/http/openapi";
import * as handlers from "./auth.handlers";
import * as routes from "./auth.routes";

/** Logging in and out, rotating refresh tokens, and the caller's own user. */
export const authRoutes = createRouter()
  .openapi(routes.login, handlers.login)
  .openapi(routes.refresh, handlers.refresh)
  .openapi(routes.logout, handlers.logout)
  .openapi(routes.me, handlers.me);
