import { createRouter } from "../../platform/http/openapi";
import * as handlers from "./users.handlers";
import * as routes from "./users.routes";

export { UserSchema } from "./users.routes";

/** The platform's users: create, search, read and change (including disabling and password resets). */
export const userRoutes = createRouter()
  .openapi(routes.create, handlers.create)
  .openapi(routes.list, handlers.list)
  .openapi(routes.getOne, handlers.getOne)
  .openapi(routes.patch, handlers.patch);
