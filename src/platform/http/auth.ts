import type { Context, MiddlewareHandler } from "hono";
import { type Action, can, rolesFor } from "../../domain/permissions";
import type { Role } from "../../domain/roles";
import { inScope } from "../../domain/units";
import type { AppEnv, Principal } from "../../env";
import { TokenError, verifyAccessToken } from "../crypto/tokens";
import { problems } from "./problem";

/** Verifies the bearer token and puts the caller's principal on the context; 401 otherwise. */
export function authenticate(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer ([A-Za-z0-9_\-.]{10,4096})$/.exec(header);
    if (!match) throw problems.unauthorized();
    try {
      c.set("principal", await verifyAccessToken(c.env, match[1]!));
    } catch (error) {
      if (error instanceof TokenError) throw problems.unauthorized("The access token is invalid or expired");
      throw error;
    }
    await next();
  };
}

/**
 * Lets through only the roles the permissions table allows `action`; 403 for everyone else.
 *
 * @example
 * createRoute({ ..., middleware: [authorize("units.write")] as const })
 */
export function authorize(action: Action): MiddlewareHandler<AppEnv> {
  const handler: MiddlewareHandler<AppEnv> = async (c, next) => {
    const principal = c.get("principal");
    if (!principal || !can(principal.role, action)) throw problems.forbidden();
    await next();
  };
  return Object.assign(handler, { action, roles: rolesFor(action) });
}

/** Lets only the listed roles through; 403 for everyone else. Prefer `authorize(action)`. */
export function requireRole(...roles: Role[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const principal = c.get("principal");
    if (!principal || !roles.includes(principal.role)) throw problems.forbidden();
    await next();
  };
}

/** The authenticated caller. */
export function principalOf(c: Context<AppEnv>): Principal {
  const principal = c.get("principal");
  if (!principal) throw problems.unauthorized();
  return principal;
}

/**
 * Throws 404 unless `path` is inside the caller's subtree: objects outside one's scope are answered
 * exactly as if they did not exist.
 */
export function assertInScope(
  principal: Principal,
  path: string | null | undefined,
  what = "resource",
): void {
  if (!path || !inScope(principal.unitPath, path)) throw problems.notFound(what);
}
