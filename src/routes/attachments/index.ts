import { createRouter } from "../../platform/http/openapi";
import * as handlers from "./attachments.handlers";
import * as routes from "./attachments.routes";

/** Evidence photos of cases: upload to a case, download if its case is in scope. */
export const attachmentRoutes = createRouter()
  .openapi(routes.upload, handlers.upload)
  .openapi(routes.download, handlers.download);
