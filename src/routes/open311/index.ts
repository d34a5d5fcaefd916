import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { createRouter } from "../../platform/http/openapi";
import * as handlers from "./open311.handlers";
import * as routes from "./open311.routes";

const V2 = "/open311/v2";

/**
 * Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2) for public-facing apps, in JSON and XML by
 * the path's extension, with the specification's error format. Outside `/v1` and its problem+json.
 */
const geoReport = new Hono<AppEnv>()
  .get(`${V2}/services.json`, handlers.services)
  .get(`${V2}/services.xml`, handlers.services)
  .get(`${V2}/services/:file`, handlers.serviceDefinition)
  .post(`${V2}/requests.json`, handlers.postRequest)
  .post(`${V2}/requests.xml`, handlers.postRequest)
  .get(`${V2}/requests.json`, handlers.listRequests)
  .get(`${V2}/requests.xml`, handlers.listRequests)
  .get(`${V2}/requests/:file`, handlers.getRequest)
  .get(`${V2}/tokens/:file`, handlers.token)
  .all(`${V2}/*`, handlers.notFound);
geoReport.onError(handlers.open311Error);

/** Open311: the GeoReport endpoints, and the staff routes that register and revoke the apps posting to them. */
export const open311Routes = createRouter()
  .openapi(routes.registerApp, handlers.registerApp)
  .openapi(routes.revokeApp, handlers.revokeApp)
  .route("/", geoReport);
