import { principalOf } from "../../platform/http/auth";
import type { AppRouteHandler } from "../../platform/http/openapi";
import * as auth from "../../services/auth";
import { clientKey } from "../../services/login-throttle";
import * as secondFactor from "../../services/second-factor";
import type * as routes from "./auth.routes";

/** POST /v1/auth/login */
export const login: AppRouteHandler<typeof routes.login> = async (c) => {
  const { username, password } = c.req.valid("json");
  const ip = clientKey(c.req.valid("header")["cf-connecting-ip"]);
  return c.json(await auth.login(c.env, c.get("requestId"), username, password, ip), 200);
};

/** POST /v1/auth/login/second-factor */
export const loginSecondFactor: AppRouteHandler<typeof routes.loginSecondFactor> = async (c) => {
  const ip = clientKey(c.req.valid("header")["cf-connecting-ip"]);
  return c.json(await auth.loginSecondFactor(c.env, c.get("requestId"), c.req.valid("json"), ip), 200);
};

/** GET /v1/auth/second-factor */
export const secondFactorStatus: AppRouteHandler<typeof routes.secondFactorStatus> = async (c) => {
  return c.json(await secondFactor.secondFactorStatus(c.env, principalOf(c)), 200);
};

/** POST /v1/auth/second-factor/enrolment */
export const enrolSecondFactor: AppRouteHandler<typeof routes.enrolSecondFactor> = async (c) => {
  return c.json(await secondFactor.enrolSecondFactor(c.env, principalOf(c), c.get("requestId")), 201);
};

/** POST /v1/auth/second-factor/confirmation */
export const confirmSecondFactor: AppRouteHandler<typeof routes.confirmSecondFactor> = async (c) => {
  const ip = clientKey(c.req.valid("header")["cf-connecting-ip"]);
  const { code } = c.req.valid("json");
  const result = await secondFactor.confirmSecondFactorEnrolment(
    c.env,
    principalOf(c),
    c.get("requestId"),
    code,
    ip,
  );
  return c.json(result, 200);
};

/** POST /v1/auth/second-factor/disable */
export const disableSecondFactor: AppRouteHandler<typeof routes.disableSecondFactor> = async (c) => {
  const ip = clientKey(c.req.valid("header")["cf-connecting-ip"]);
  await secondFactor.disableSecondFactor(c.env, principalOf(c), c.get("requestId"), c.req.valid("json"), ip);
  return c.body(null, 204);
};

/** POST /v1/auth/second-factor/reset */
export const resetSecondFactor: AppRouteHandler<typeof routes.resetSecondFactor> = async (c) => {
  await secondFactor.resetSecondFactor(c.env, principalOf(c), c.get("requestId"), c.req.valid("json").userId);
  return c.body(null, 204);
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
