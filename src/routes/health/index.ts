import { createRoute, z } from "@hono/zod-openapi";
import { publicJwks } from "../../platform/crypto/tokens";
import { getDb } from "../../platform/db/client";
import { createRouter, jsonResponse, ProblemSchema } from "../../platform/http/openapi";
import { Problem } from "../../platform/http/problem";

const health = createRoute({
  method: "get",
  path: "/health",
  tags: ["platform"],
  summary: "Liveness and libSQL reachability",
  responses: {
    200: jsonResponse(
      z.object({ status: z.literal("ok"), db: z.literal("ok"), time: z.string() }),
      "Healthy",
    ),
    503: {
      description: "libSQL is unreachable",
      content: { "application/problem+json": { schema: ProblemSchema } },
    },
  },
});

const jwks = createRoute({
  method: "get",
  path: "/.well-known/jwks.json",
  tags: ["auth"],
  summary: "Public keys that verify grid321 access tokens",
  responses: {
    200: jsonResponse(z.object({ keys: z.array(z.record(z.string(), z.unknown())) }), "JSON Web Key Set"),
  },
});

export const healthRoutes = createRouter()
  .openapi(health, async (c) => {
    try {
      await getDb(c.env).$client.execute("SELECT 1");
    } catch (error) {
      console.error(
        JSON.stringify({ requestId: c.get("requestId"), kind: "health-db", error: String(error) }),
      );
      throw new Problem(503, "db-unavailable", "libSQL is unreachable", { headers: { "retry-after": "5" } });
    }
    return c.json({ status: "ok" as const, db: "ok" as const, time: new Date().toISOString() }, 200);
  })
  .openapi(jwks, async (c) => {
    c.header("cache-control", "public, max-age=300");
    return c.json(await publicJwks(c.env), 200);
  });
