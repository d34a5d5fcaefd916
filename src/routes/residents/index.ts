import { createRouter } from "../../platform/http/openapi";
import * as handlers from "./residents.handlers";
import * as routes from "./residents.routes";

/** Residents of households: add, read (masked or revealed), change, move. */
export const residentRoutes = createRouter()
  .openapi(routes.create, handlers.create)
  .openapi(routes.getOne, handlers.getOne)
  .openapi(routes.patch, handlers.patch)
  .openapi(routes.move, handlers.move);
