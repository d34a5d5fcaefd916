import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../../env";
import { type ResidentPrincipal, verifyResidentToken } from "../crypto/resident-tokens";
import { TokenError } from "../crypto/tokens";
import { problems } from "./problem";

/** The resident channel's paths: staff authentication does not apply to them, resident authentication does. */
export const RESIDENT_PATH_PREFIX = "/v1/resident/";

/** Resident-channel operations anyone may call (signing in); the rest need a resident token. */
export const PUBLIC_RESIDENT_PATHS = new Set([
  "/v1/resident/auth/codes",
  "/v1/resident/auth/tokens",
  "/v1/resident/auth/refresh",
  "/v1/resident/dev/codes",
]);

/** Whether a path belongs to the resident channel (authenticated with resident tokens, never staff ones). */
export function isResidentPath(path: string): boolean {
  return path.startsWith(RESIDENT_PATH_PREFIX);
}

/**
 * Verifies a resident token (their own audience and role; a staff token is refused with 401) and puts the
 * resident on the context. Public resident paths (sign-in) pass without one.
 */
export function authenticateResident(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (PUBLIC_RESIDENT_PATHS.has(c.req.path)) return next();
    c.set("resident", await residentFromHeader(c.env, c.req.header("authorization")));
    await next();
  };
}

/** The resident of a bearer header; 401 for a missing, invalid or non-resident token. */
export async function residentFromHeader(
  env: Cloudflare.Env,
  header: string | undefined,
): Promise<ResidentPrincipal> {
  const match = /^Bearer ([A-Za-z0-9_\-.]{10,4096})$/.exec(header ?? "");
  if (!match) throw problems.unauthorized();
  try {
    return await verifyResidentToken(env, match[1]!);
  } catch (error) {
    if (error instanceof TokenError) throw problems.unauthorized("The resident token is invalid or expired");
    throw error;
  }
}

/** The authenticated resident. */
export function residentOf(c: Context<AppEnv>): ResidentPrincipal {
  const resident = c.get("resident");
  if (!resident) throw problems.unauthorized();
  return resident;
}

/** The resident security requirement for createRoute. */
export const residentBearer = [{ residentBearer: [] as string[] }];
