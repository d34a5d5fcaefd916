import { createRouter } from "../../platform/http/openapi";
import * as handlers from "./deliberation.handlers";
import * as routes from "./deliberation.routes";

/**
 * Village deliberation (两说一商): representatives and the micro-power list, sessions, matters and their
 * triage, the four steps (四议两公开), notices and objections, tasks and results, the public notice board
 * and figures; sessions' photos and sign-in sheets.
 */
export const deliberationRoutes = createRouter()
  .openapi(routes.registerMember, handlers.registerMember)
  .openapi(routes.listMembers, handlers.listMembers)
  .openapi(routes.eligible, handlers.eligible)
  .openapi(routes.getPowerList, handlers.getPowerList)
  .openapi(routes.setPowerList, handlers.setPowerList)
  .openapi(routes.createSession, handlers.createSession)
  .openapi(routes.getSession, handlers.getSession)
  .openapi(routes.raiseMatter, handlers.raiseMatter)
  .openapi(routes.getMatter, handlers.getMatter)
  .openapi(routes.triageMatter, handlers.triageMatter)
  .openapi(routes.getItem, handlers.getItem)
  .openapi(routes.recordStep, handlers.recordStep)
  .openapi(routes.publishResolution, handlers.publishResolution)
  .openapi(routes.raiseObjection, handlers.raiseObjection)
  .openapi(routes.answerObjection, handlers.answerObjection)
  .openapi(routes.decideItem, handlers.decideItem)
  .openapi(routes.addTask, handlers.addTask)
  .openapi(routes.reportProgress, handlers.reportProgress)
  .openapi(routes.publishResult, handlers.publishResult)
  .openapi(routes.giveFeedback, handlers.giveFeedback)
  .openapi(routes.requireReview, handlers.requireReview)
  .openapi(routes.figures, handlers.figures)
  .openapi(routes.publicBoard, handlers.publicBoard)
  .openapi(routes.uploadSessionAttachment, handlers.uploadSessionAttachment)
  .openapi(routes.getSessionAttachment, handlers.getSessionAttachment)
  .openapi(routes.listSessions, handlers.listSessions)
  .openapi(routes.raiseResidentMatter, handlers.raiseResidentMatter)
  .openapi(routes.listResidentMatters, handlers.listResidentMatters)
  .openapi(routes.getResidentMatter, handlers.getResidentMatter);
