import { createRouter } from "../../platform/http/openapi";
import * as handlers from "./contact-logs.handlers";
import * as routes from "./contact-logs.routes";

/** Contact logs linked to cases: information collected, disputes mediated. */
export const contactLogRoutes = createRouter()
  .openapi(routes.link, handlers.link)
  .openapi(routes.list, handlers.list);
