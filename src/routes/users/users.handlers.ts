import { searchUsers, userView } from "../../db/repos/users";
import { can } from "../../domain/permissions";
import { callerOf, principalOf } from "../../platform/http/auth";
import { optionalVersion, setEtag } from "../../platform/http/if-match";
import type { AppRouteHandler } from "../../platform/http/openapi";
import { decodeCursor, toPage } from "../../platform/http/pagination";
import { problems } from "../../platform/http/problem";
import { unitInScope } from "../../services/units";
import * as users from "../../services/users";
import type * as routes from "./users.routes";

/** POST /v1/users */
export const create: AppRouteHandler<typeof routes.create> = async (c) => {
  const user = await users.createUser(c.env, callerOf(c), c.req.valid("json"));
  c.header("location", `/v1/users/${user.id}`);
  setEtag(c, user.version);
  return c.json(userView(user), 201);
};

/** GET /v1/users */
export const list: AppRouteHandler<typeof routes.list> = async (c) => {
  const principal = principalOf(c);
  const { unitId, disabled, limit, cursor, ...filters } = c.req.valid("query");
  const scopePath = unitId ? (await unitInScope(c.env, principal, unitId)).path : principal.unitPath;
  const after = decodeCursor(cursor, 1, ["string"]);
  const rows = await searchUsers(c.env, {
    ...filters,
    scopePath,
    disabled: disabled === undefined ? undefined : disabled === "true",
    afterUsername: after ? String(after[0]) : undefined,
    limit: limit + 1,
  });
  return c.json(
    toPage(rows, limit, userView, (u) => [u.username]),
    200,
  );
};

/** GET /v1/users/{id}: one's own user, or anyone's in scope with `users.read`. */
export const getOne: AppRouteHandler<typeof routes.getOne> = async (c) => {
  const principal = principalOf(c);
  const { id } = c.req.valid("param");
  if (id !== principal.userId && !can(principal.role, "users.read")) throw problems.forbidden();
  const user = await users.userInScope(c.env, principal, id);
  setEtag(c, user.version);
  return c.json(userView(user), 200);
};

/** PATCH /v1/users/{id} */
export const patch: AppRouteHandler<typeof routes.patch> = async (c) => {
  const expected = optionalVersion(c.req.valid("header")["if-match"]);
  const { id } = c.req.valid("param");
  const user = await users.changeUser(c.env, callerOf(c), id, c.req.valid("json"), expected);
  setEtag(c, user.version);
  return c.json(userView(user), 200);
};
