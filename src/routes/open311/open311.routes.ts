import { createRoute, z } from "@hono/zod-openapi";
import { errorResponses, guarded, IdParam, jsonBody, jsonResponse } from "../../platform/http/openapi";

const tags = ["open311"];

const AppSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    perMinute: z.number().int(),
    createdAt: z.string(),
    revokedAt: z.string().nullable(),
  })
  .openapi("Open311App");

const NewAppSchema = AppSchema.extend({
  apiKey: z.string().openapi({ description: "Shown once; stored only as its SHA-256" }),
}).openapi("Open311AppWithKey");

export const registerApp = createRoute({
  method: "post",
  path: "/v1/open311/apps",
  operationId: "registerOpen311App",
  tags,
  summary: "Register an app that may post Open311 requests (its api_key is shown once)",
  ...guarded("open311.apps"),
  request: {
    body: jsonBody(
      z
        .object({
          name: z.string().trim().min(1).max(100),
          perMinute: z
            .number()
            .int()
            .min(1)
            .max(600)
            .default(30)
            .openapi({ description: "Requests per minute" }),
        })
        .strict(),
    ),
  },
  responses: { 201: jsonResponse(NewAppSchema, "Registered"), ...errorResponses(403) },
});

export const revokeApp = createRoute({
  method: "post",
  path: "/v1/open311/apps/{id}/revocation",
  operationId: "revokeOpen311App",
  tags,
  summary: "Revoke an app's api_key",
  ...guarded("open311.apps"),
  request: { params: IdParam },
  responses: { 200: jsonResponse(AppSchema, "Revoked"), ...errorResponses(403, 404, 409) },
});
