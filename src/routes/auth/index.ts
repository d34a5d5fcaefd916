import { createRouter } from "../../platform/http/openapi";
import * as handlers from "./auth.handlers";
import * as routes from "./auth.routes";

/** Logging in and out (with a second factor), rotating refresh tokens, TOTP enrolment, and the caller's own user. */
export const authRoutes = createRouter()
  .openapi(routes.login, handlers.login)
  .openapi(routes.loginSecondFactor, handlers.loginSecondFactor)
  .openapi(routes.secondFactorStatus, handlers.secondFactorStatus)
  .openapi(routes.enrolSecondFactor, handlers.enrolSecondFactor)
  .openapi(routes.confirmSecondFactor, handlers.confirmSecondFactor)
  .openapi(routes.disableSecondFactor, handlers.disableSecondFactor)
  .openapi(routes.resetSecondFactor, handlers.resetSecondFactor)
  .openapi(routes.refresh, handlers.refresh)
  .openapi(routes.logout, handlers.logout)
  .openapi(routes.me, handlers.me);
