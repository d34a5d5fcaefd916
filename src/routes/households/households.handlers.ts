import { chinaDate } from "../../domain/china-time";
import { markDeprecated } from "../../platform/http/deprecation";
import { requiredVersion, setEtag } from "../../platform/http/if-match";
import type { AppRouteHandler } from "../../platform/http/openapi";
import { decodeCursor, toPage } from "../../platform/http/pagination";
import * as households from "../../services/households";
import type * as routes from "./households.routes";
import { asOfDate, LEGACY_LOCATION_DEPRECATED, storedLocation, usesLegacyLocation } from "./schemas";
import { actorOf, helperView, householdView, residentView } from "./views";

export const create: AppRouteHandler<typeof routes.create> = async (c) => {
  const body = c.req.valid("json");
  const { household, residents } = await households.createHousehold(c.env, actorOf(c), {
    ...body,
    location: body.location && storedLocation(body.location),
  });
  setEtag(c, household.version);
  c.header("location", `/v1/households/${household.id}`);
  if (usesLegacyLocation([body.location])) markDeprecated(c, LEGACY_LOCATION_DEPRECATED);
  const at = new Date(household.updatedAt);
  const today = chinaDate(at);
  return c.json(
    {
      ...householdView(household, at, false),
      residents: residents.map((r) => residentView(r, null, today)),
    },
    201,
  );
};

export const list: AppRouteHandler<typeof routes.list> = async (c) => {
  const { cursor, asOf, ...query } = c.req.valid("query");
  const after = decodeCursor(cursor, 2, ["string", "string"]);
  const at = asOfDate(asOf);
  const rows = await households.listHouseholds(c.env, actorOf(c), {
    ...query,
    asOf: at,
    after: after ? { unitPath: String(after[0]), id: String(after[1]) } : null,
    purpose: c.req.valid("header")["x-purpose"],
    purposeRef: c.req.valid("header")["x-purpose-ref"],
  });
  const page = toPage(
    rows,
    query.limit,
    (h) => householdView(h, at, false),
    (h) => [h.unitPath, h.id],
  );
  return c.json(page, 200);
};

export const getOne: AppRouteHandler<typeof routes.getOne> = async (c) => {
  const { reveal, asOf } = c.req.valid("query");
  const headers = c.req.valid("header");
  const detail = await households.householdDetail(c.env, actorOf(c), c.req.valid("param").id, {
    reveal,
    purpose: headers["x-purpose"],
    purposeRef: headers["x-purpose-ref"],
  });
  const at = asOfDate(asOf);
  const today = chinaDate(at);
  setEtag(c, detail.household.version);
  return c.json(
    {
      ...householdView(detail.household, at, detail.reveal),
      residents: detail.members.map((r) => residentView(r, null, today)),
      helpers: detail.helpers.map(helperView),
    },
    200,
  );
};

export const patch: AppRouteHandler<typeof routes.patch> = async (c) => {
  const expected = requiredVersion(c.req.valid("header")["if-match"]);
  const { id } = c.req.valid("param");
  const { location, ...body } = c.req.valid("json");
  const row = await households.updateHousehold(c.env, actorOf(c), id, expected, {
    ...body,
    ...(location !== undefined ? { location: location && storedLocation(location) } : {}),
  });
  setEtag(c, row.version);
  if (usesLegacyLocation([location])) markDeprecated(c, LEGACY_LOCATION_DEPRECATED);
  return c.json(householdView(row, new Date(row.updatedAt), false), 200);
};

export const importHouseholds: AppRouteHandler<typeof routes.importHouseholds> = async (c) => {
  const { rows } = c.req.valid("json");
  const result = await households.importHouseholds(
    c.env,
    actorOf(c),
    rows.map((r) => ({ ...r, location: r.location && storedLocation(r.location) })),
  );
  if (usesLegacyLocation(rows.map((r) => r.location))) markDeprecated(c, LEGACY_LOCATION_DEPRECATED);
  return c.json(result, 201);
};

export const reclassify: AppRouteHandler<typeof routes.reclassify> = async (c) => {
  const asOf = asOfDate(c.req.valid("query").asOf);
  return c.json(await households.reclassifyUnit(c.env, actorOf(c), c.req.valid("param").id, asOf), 200);
};

export const summary: AppRouteHandler<typeof routes.summary> = async (c) => {
  const asOf = asOfDate(c.req.valid("query").asOf);
  return c.json(await households.householdSummary(c.env, actorOf(c), c.req.valid("param").id, asOf), 200);
};

export const addHelper: AppRouteHandler<typeof routes.addHelper> = async (c) => {
  const helper = await households.addHelper(c.env, actorOf(c), c.req.valid("param").id, c.req.valid("json"));
  return c.json(helperView(helper), 201);
};

export const endHelper: AppRouteHandler<typeof routes.endHelper> = async (c) => {
  const { id, userId } = c.req.valid("param");
  await households.endHelper(c.env, actorOf(c), id, userId);
  return c.body(null, 204);
};

export const getServicePlan: AppRouteHandler<typeof routes.getServicePlan> = async (c) => {
  return c.json(await households.getServicePlan(c.env, actorOf(c), c.req.valid("param").id), 200);
};

export const putServicePlan: AppRouteHandler<typeof routes.putServicePlan> = async (c) => {
  const { id } = c.req.valid("param");
  return c.json(await households.setServicePlan(c.env, actorOf(c), id, c.req.valid("json")), 200);
};
