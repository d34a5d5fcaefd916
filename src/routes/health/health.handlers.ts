import { pingDb } from "../../db/repos/health";
import { publicJwks } from "../../platform/crypto/tokens";
import type { AppRouteHandler } from "../../platform/http/openapi";
import { Problem } from "../../platform/http/problem";
import type * as routes from "./health.routes";

/** GET /health: 503 with Retry-After while libSQL cannot answer. */
export const health: AppRouteHandler<typeof routes.health> = async (c) => {
  try {
    await pingDb(c.env);
  } catch (error) {
    console.error(JSON.stringify({ requestId: c.get("requestId"), kind: "health-db", error: String(error) }));
    throw new Problem(503, "db-unavailable", "libSQL is unreachable", { headers: { "retry-after": "5" } });
  }
  return c.json({ status: "ok" as const, db: "ok" as const, time: new Date().toISOString() }, 200);
};

/** GET /.well-known/jwks.json */
export const jwks: AppRouteHandler<typeof routes.jwks> = async (c) => {
  c.header("cache-control", "public, max-age=300");
  return c.json(await publicJwks(c.env), 200);
};
