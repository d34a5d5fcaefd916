import { childrenOf, searchUnits, unitView } from "../../db/repos/units";
import { callerOf, principalOf } from "../../platform/http/auth";
import { optionalVersion, setEtag } from "../../platform/http/if-match";
import type { AppRouteHandler } from "../../platform/http/openapi";
import { decodeCursor, toPage } from "../../platform/http/pagination";
import * as units from "../../services/units";
import type * as routes from "./units.routes";

const byCode = (u: { code: string }) => [u.code];

/** GET /v1/units */
export const list: AppRouteHandler<typeof routes.list> = async (c) => {
  const { limit, cursor, ...filters } = c.req.valid("query");
  const after = decodeCursor(cursor, 1, ["string"]);
  const rows = await searchUnits(c.env, {
    ...filters,
    scopePath: principalOf(c).unitPath,
    afterCode: after ? String(after[0]) : undefined,
    limit: limit + 1,
  });
  return c.json(toPage(rows, limit, unitView, byCode), 200);
};

/** GET /v1/units/{id} */
export const getOne: AppRouteHandler<typeof routes.getOne> = async (c) => {
  const unit = await units.unitInScope(c.env, principalOf(c), c.req.valid("param").id);
  setEtag(c, unit.version);
  return c.json(unitView(unit), 200);
};

/** GET /v1/units/{id}/children */
export const children: AppRouteHandler<typeof routes.children> = async (c) => {
  const { id } = c.req.valid("param");
  const { limit, cursor } = c.req.valid("query");
  await units.unitInScope(c.env, principalOf(c), id);
  const after = decodeCursor(cursor, 1, ["string"]);
  const rows = await childrenOf(c.env, id, after ? String(after[0]) : undefined, limit + 1);
  return c.json(toPage(rows, limit, unitView, byCode), 200);
};

/** POST /v1/units */
export const create: AppRouteHandler<typeof routes.create> = async (c) => {
  const unit = await units.createUnit(c.env, callerOf(c), c.req.valid("json"));
  setEtag(c, unit.version);
  c.header("location", `/v1/units/${unit.id}`);
  return c.json(unitView(unit), 201);
};

/** PATCH /v1/units/{id} */
export const patch: AppRouteHandler<typeof routes.patch> = async (c) => {
  const expected = optionalVersion(c.req.valid("header")["if-match"]);
  const unit = await units.changeUnit(
    c.env,
    callerOf(c),
    c.req.valid("param").id,
    c.req.valid("json"),
    expected,
  );
  setEtag(c, unit.version);
  return c.json(unitView(unit), 200);
};

/** DELETE /v1/units/{id} */
export const remove: AppRouteHandler<typeof routes.remove> = async (c) => {
  await units.deleteUnit(c.env, callerOf(c), c.req.valid("param").id);
  return c.body(null, 204);
};

/** POST /v1/units/import */
export const importUnits: AppRouteHandler<typeof routes.importUnits> = async (c) => {
  return c.json(await units.importUnits(c.env, callerOf(c), c.req.valid("json").rows), 201);
};
