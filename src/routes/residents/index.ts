import { createRouter } from "../../platform/http/openapi";
import * as handlers from "./residents.handlers";
import * as routes from "./residents.routes";
import * as transferHandlers from "./transfer-requests.handlers";
import * as transfers from "./transfer-requests.routes";

/**
 * Residents of households: add, read (masked or revealed), change, move; and transfer requests for residents
 * registered elsewhere (registered before `/v1/residents/{id}` so their fixed path wins).
 */
export const residentRoutes = createRouter()
  .openapi(transfers.create, transferHandlers.create)
  .openapi(transfers.list, transferHandlers.list)
  .openapi(transfers.getOne, transferHandlers.getOne)
  .openapi(transfers.approve, transferHandlers.approve)
  .openapi(transfers.refuse, transferHandlers.refuse)
  .openapi(routes.create, handlers.create)
  .openapi(routes.getOne, handlers.getOne)
  .openapi(routes.patch, handlers.patch)
  .openapi(routes.move, handlers.move);
