import { principalOf } from "../../platform/http/auth";
import type { AppRouteHandler } from "../../platform/http/openapi";
import * as auth from "../../services/auth";
import type * as routes from "./auth.routes";

/** POST /v1/auth/login */
export const login: AppRouteHandler<typeof routes.login> = async (c) => {
  const { username, password } = c.req.valid("json");
  return c.json(await auth.login(c.env, c.get("requestId"), username, password), 200);
};

/** POST /v1/auth/refresh */
export const refresh: AppRouteHandler<typeof routes.refresh> = async (c) => {
  return c.json(await auth.refresh(c.env, c.get("requestId"), c.req.valid("json").refreshToken), 200);
};

/** POST /v1/auth/logout */
export const logout: AppRouteHandler<typeof routes.logout> = async (c) => {
  await auth.logout(c.env, principalOf(c), c.get("requestId"), c.req.valid("json"));
  return c.body(null, 204);
};

/** GET /v1/me */
export const me: AppRouteHandler<typeof routes.me> = async (c) => {
  return c.json(await auth.whoAmI(c.env, principalOf(c)), 200);
};
