import { callerOf } from "../../platform/http/auth";
import type { AppRouteHandler } from "../../platform/http/openapi";
import * as contacts from "../../services/contacts";
import type * as routes from "./contacts.routes";

/** PUT /v1/contacts/{userId}/profile */
export const putProfile: AppRouteHandler<typeof routes.putProfile> = async (c) => {
  const profile = await contacts.setProfile(
    c.env,
    callerOf(c),
    c.req.valid("param").userId,
    c.req.valid("json"),
  );
  return c.json(profile, 200);
};

/** GET /v1/contacts/{userId} */
export const getProfile: AppRouteHandler<typeof routes.getProfile> = async (c) =>
  c.json(await contacts.getProfile(c.env, callerOf(c), c.req.valid("param").userId), 200);

/** POST /v1/contacts/{userId}/households */
export const pair: AppRouteHandler<typeof routes.pair> = async (c) => {
  const { pairings } = c.req.valid("json");
  const result = await contacts.pairHouseholds(c.env, callerOf(c), c.req.valid("param").userId, pairings);
  return c.json(result, 201);
};

/** DELETE /v1/contacts/{userId}/households/{householdId} */
export const unpair: AppRouteHandler<typeof routes.unpair> = async (c) => {
  const { userId, householdId } = c.req.valid("param");
  await contacts.unpairHousehold(c.env, callerOf(c), userId, householdId);
  return c.body(null, 204);
};

/** GET /v1/units/{id}/coverage */
export const coverage: AppRouteHandler<typeof routes.coverage> = async (c) =>
  c.json(await contacts.coverage(c.env, callerOf(c), c.req.valid("param").id), 200);
