import { createRoute, z } from "@hono/zod-openapi";
import { errorResponses, guarded, jsonBody, jsonResponse } from "../../platform/http/openapi";
import { UserSchema } from "../users/users.routes";

const TokenPair = z
  .object({
    accessToken: z.string(),
    tokenType: z.literal("Bearer"),
    expiresIn: z.number().int().openapi({ description: "Access-token lifetime in seconds (900)" }),
    refreshToken: z.string().openapi({ description: "Opaque; rotates on every refresh" }),
    refreshExpiresIn: z.number().int(),
    user: UserSchema,
  })
  .openapi("TokenPair");

export const login = createRoute({
  method: "post",
  path: "/v1/auth/login",
  tags: ["auth"],
  summary: "Log in with username and password",
  description: "Five failures for one username within 15 minutes answer 429 with Retry-After.",
  request: {
    body: jsonBody(
      z
        .strictObject({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) })
        .openapi("Login"),
    ),
  },
  responses: { 200: jsonResponse(TokenPair, "Logged in"), ...errorResponses(429) },
});

export const refresh = createRoute({
  method: "post",
  path: "/v1/auth/refresh",
  tags: ["auth"],
  summary: "Exchange a refresh token for a new token pair (the old refresh token is spent)",
  description: "Presenting an already-rotated refresh token revokes its whole family (token theft).",
  request: { body: jsonBody(z.strictObject({ refreshToken: z.string().min(20).max(200) })) },
  responses: { 200: jsonResponse(TokenPair, "New token pair"), ...errorResponses() },
});

export const logout = createRoute({
  method: "post",
  path: "/v1/auth/logout",
  tags: ["auth"],
  summary: "Revoke a refresh token (or, with `all`, every session of the caller)",
  ...guarded("auth.session"),
  request: {
    body: jsonBody(
      z.strictObject({ refreshToken: z.string().min(20).max(200).optional(), all: z.boolean().optional() }),
    ),
  },
  responses: { 204: { description: "Revoked" }, ...errorResponses() },
});

export const me = createRoute({
  method: "get",
  path: "/v1/me",
  tags: ["auth"],
  summary: "The caller's user and unit",
  ...guarded("auth.session"),
  responses: {
    200: jsonResponse(
      z.object({
        user: UserSchema,
        unit: z.object({
          id: z.string(),
          code: z.string(),
          name: z.string(),
          level: z.string(),
          path: z.string(),
        }),
      }),
      "The caller",
    ),
    ...errorResponses(404),
  },
});
