import { callerOf } from "../../platform/http/auth";
import type { AppRouteHandler } from "../../platform/http/openapi";
import { decodeCursor, toPage } from "../../platform/http/pagination";
import * as partyPoints from "../../services/party-points";
import type * as routes from "./party-points.routes";

/** POST /v1/party-members/{memberId}/pledges */
export const createPledge: AppRouteHandler<typeof routes.createPledge> = async (c) => {
  const pledge = await partyPoints.makePledge(
    c.env,
    callerOf(c),
    c.req.valid("param").memberId,
    c.req.valid("json"),
  );
  return c.json(pledge, 201);
};

/** GET /v1/party-members/{memberId}/pledges */
export const listPledges: AppRouteHandler<typeof routes.listPledges> = async (c) => {
  const { year } = c.req.valid("query");
  return c.json(await partyPoints.listPledges(c.env, callerOf(c), c.req.valid("param").memberId, year), 200);
};

/** POST /v1/party-members/{memberId}/fulfilments */
export const createFulfilment: AppRouteHandler<typeof routes.createFulfilment> = async (c) => {
  const fulfilment = await partyPoints.fulfil(
    c.env,
    callerOf(c),
    c.req.valid("param").memberId,
    c.req.valid("json"),
  );
  return c.json(fulfilment, 201);
};

/** POST /v1/party-members/{memberId}/fulfilments/{fulfilmentId}/decision */
export const decideFulfilment: AppRouteHandler<typeof routes.decideFulfilment> = async (c) => {
  const { memberId, fulfilmentId } = c.req.valid("param");
  const decided = await partyPoints.decide(c.env, callerOf(c), memberId, fulfilmentId, c.req.valid("json"));
  return c.json(decided, 200);
};

/** POST /v1/party-members/{memberId}/point-corrections */
export const createCorrection: AppRouteHandler<typeof routes.createCorrection> = async (c) => {
  const entry = await partyPoints.correctPoints(
    c.env,
    callerOf(c),
    c.req.valid("param").memberId,
    c.req.valid("json"),
  );
  return c.json(entry, 201);
};

/** GET /v1/party-members/{memberId}/points */
export const getPoints: AppRouteHandler<typeof routes.getPoints> = async (c) => {
  const { year } = c.req.valid("query");
  return c.json(await partyPoints.pointsOf(c.env, callerOf(c), c.req.valid("param").memberId, year), 200);
};

/** POST /v1/party-members/{memberId}/reviews */
export const createReview: AppRouteHandler<typeof routes.createReview> = async (c) => {
  const review = await partyPoints.review(
    c.env,
    callerOf(c),
    c.req.valid("param").memberId,
    c.req.valid("json"),
  );
  return c.json(review, 201);
};

/** GET /v1/units/{id}/party-points */
export const ranking: AppRouteHandler<typeof routes.ranking> = async (c) => {
  const { year, limit, cursor } = c.req.valid("query");
  const position = decodeCursor(cursor, 2, ["number", "string"]) as [number, string] | null;
  const after = position && { total: position[0], memberId: position[1] };
  const rows = await partyPoints.ranking(c.env, callerOf(c), c.req.valid("param").id, year, after, limit + 1);
  const page = toPage(
    rows,
    limit,
    (r) => r,
    (r) => [r.total, r.memberId],
  );
  return c.json({ year, ...page }, 200);
};
