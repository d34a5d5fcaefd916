import { createRouter } from "../../platform/http/openapi";
import * as handlers from "./cases.handlers";
import * as routes from "./cases.routes";

/** Cases (事件/诉求): report, offline sync, read, search, and every lifecycle command. */
export const caseRoutes = createRouter()
  .openapi(routes.createCase, handlers.createCase)
  .openapi(routes.syncCases, handlers.syncCases)
  .openapi(routes.getCase, handlers.getCase)
  .openapi(routes.listCases, handlers.listCases)
  .openapi(routes.gridCases, handlers.gridCases)
  .openapi(routes.commands.accept, handlers.accept)
  .openapi(routes.commands.reject, handlers.reject)
  .openapi(routes.commands.merge, handlers.merge)
  .openapi(routes.commands.dispatch, handlers.dispatch)
  .openapi(routes.commands.start, handlers.start)
  .openapi(routes.commands.resolve, handlers.resolve)
  .openapi(routes.commands.returnVisit, handlers.returnVisit)
  .openapi(routes.commands.close, handlers.close)
  .openapi(routes.commands.reopen, handlers.reopen)
  .openapi(routes.commands.escalate, handlers.escalate)
  .openapi(routes.commands.sendDown, handlers.sendDown)
  .openapi(routes.commands.supervise, handlers.supervise)
  .openapi(routes.commands.urge, handlers.urge);
