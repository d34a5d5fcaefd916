import { createRoute, z } from "@hono/zod-openapi";
import { jsonResponse, ProblemSchema } from "../../platform/http/openapi";

export const health = createRoute({
  method: "get",
  path: "/health",
  operationId: "getHealth",
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

export const jwks = createRoute({
  method: "get",
  path: "/.well-known/jwks.json",
  operationId: "getJwks",
  tags: ["auth"],
  summary: "Public keys that verify grid321 access tokens",
  responses: {
    200: jsonResponse(z.object({ keys: z.array(z.record(z.string(), z.unknown())) }), "JSON Web Key Set"),
  },
});
