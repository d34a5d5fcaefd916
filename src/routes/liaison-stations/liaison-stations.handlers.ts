import { callerOf } from "../../platform/http/auth";
import type { AppRouteHandler } from "../../platform/http/openapi";
import { decodeCursor, toPage } from "../../platform/http/pagination";
import * as stations from "../../services/liaison-stations";
import type * as routes from "./liaison-stations.routes";

/** POST /v1/liaison-stations */
export const createStation: AppRouteHandler<typeof routes.createStation> = async (c) =>
  c.json(await stations.openStation(c.env, callerOf(c), c.req.valid("json")), 201);

/** GET /v1/liaison-stations/{id} */
export const getStation: AppRouteHandler<typeof routes.getStation> = async (c) =>
  c.json(await stations.getStation(c.env, callerOf(c), c.req.valid("param").id), 200);

/** GET /v1/units/{id}/liaison-stations */
export const listStations: AppRouteHandler<typeof routes.listStations> = async (c) => {
  const { limit, cursor } = c.req.valid("query");
  const after = decodeCursor(cursor, 1, ["string"]) as [string] | null;
  const rows = await stations.stationsOf(
    c.env,
    callerOf(c),
    c.req.valid("param").id,
    after?.[0] ?? null,
    limit + 1,
  );
  return c.json(
    toPage(
      rows,
      limit,
      (r) => r,
      (r) => [r.id],
    ),
    200,
  );
};

/** POST /v1/liaison-stations/{id}/deputies */
export const attachDeputies: AppRouteHandler<typeof routes.attachDeputies> = async (c) => {
  const { userIds } = c.req.valid("json");
  return c.json(await stations.attachDeputies(c.env, callerOf(c), c.req.valid("param").id, userIds), 200);
};

/** POST /v1/liaison-stations/{id}/activities */
export const scheduleActivity: AppRouteHandler<typeof routes.scheduleActivity> = async (c) =>
  c.json(
    await stations.scheduleActivity(c.env, callerOf(c), c.req.valid("param").id, c.req.valid("json")),
    201,
  );

/** GET /v1/liaison-stations/{id}/activities */
export const calendar: AppRouteHandler<typeof routes.calendar> = async (c) => {
  const { from, to, kind, limit, cursor } = c.req.valid("query");
  const after = decodeCursor(cursor, 2, ["string", "string"]) as [string, string] | null;
  const stationId = c.req.valid("param").id;
  const rows = await stations.calendar(c.env, callerOf(c), {
    stationId,
    from,
    to,
    kind,
    after,
    limit: limit + 1,
  });
  return c.json(
    toPage(
      rows,
      limit,
      (r) => r,
      (r) => [r.scheduledAt, r.id],
    ),
    200,
  );
};

/** PATCH /v1/liaison-stations/{id}/activities/{activityId} */
export const recordActivity: AppRouteHandler<typeof routes.recordActivity> = async (c) => {
  const { id, activityId } = c.req.valid("param");
  return c.json(await stations.recordActivity(c.env, callerOf(c), id, activityId, c.req.valid("json")), 200);
};

/** GET /v1/liaison-stations/{id}/activities/{activityId} */
export const getActivity: AppRouteHandler<typeof routes.getActivity> = async (c) => {
  const { id, activityId } = c.req.valid("param");
  return c.json(await stations.activityWithMatters(c.env, callerOf(c), id, activityId), 200);
};

/** POST /v1/liaison-stations/{id}/activities/{activityId}/matters */
export const raiseMatter: AppRouteHandler<typeof routes.raiseMatter> = async (c) => {
  const { id, activityId } = c.req.valid("param");
  const raised = await stations.raiseMatter(c.env, callerOf(c), id, activityId, c.req.valid("json"));
  const { record, matter, duplicates } = raised;
  c.header("location", `/v1/cases/${record.id}`);
  const body = { matter, case: { ...record }, duplicates };
  return raised.replayed ? c.json(body, 200) : c.json(body, 201);
};
