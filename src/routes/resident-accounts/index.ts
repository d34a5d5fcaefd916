import { createRouter } from "../../platform/http/openapi";
import * as handlers from "./resident-accounts.handlers";
import * as routes from "./resident-accounts.routes";

/** Residents' own channel (sign-in by code, their household, their reports and ratings) and its staff side. */
export const residentAccountRoutes = createRouter()
  .openapi(routes.requestCode, handlers.requestCode)
  .openapi(routes.signIn, handlers.signIn)
  .openapi(routes.refresh, handlers.refresh)
  .openapi(routes.devCodes, handlers.devCodes)
  .openapi(routes.me, handlers.me)
  .openapi(routes.linkOwnHousehold, handlers.linkOwnHousehold)
  .openapi(routes.ownHousehold, handlers.ownHousehold)
  .openapi(routes.report, handlers.report)
  .openapi(routes.listReports, handlers.listReports)
  .openapi(routes.getReport, handlers.getReport)
  .openapi(routes.rate, handlers.rate)
  .openapi(routes.linkByWorker, handlers.linkByWorker)
  .openapi(routes.contactsToRate, handlers.contactsToRate)
  .openapi(routes.rateContact, handlers.rateContact)
  .openapi(routes.memberRatings, handlers.memberRatings)
  .openapi(routes.addPhoto, handlers.addPhoto);
