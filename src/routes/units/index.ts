import { createRouter } from "../../platform/http/openapi";
import * as handlers from "./units.handlers";
import * as routes from "./units.routes";

export { UnitSchema } from "./units.routes";

/** The unit tree: search, read, create, rename/move, delete and bulk import. */
export const unitRoutes = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.getOne, handlers.getOne)
  .openapi(routes.children, handlers.children)
  .openapi(routes.create, handlers.create)
  .openapi(routes.patch, handlers.patch)
  .openapi(routes.remove, handlers.remove)
  .openapi(routes.importUnits, handlers.importUnits);
