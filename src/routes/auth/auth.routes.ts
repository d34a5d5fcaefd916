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
    amr: z.array(z.enum(["pwd", "otp"])).openapi({
      description: "How the login was authenticated (RFC 8176): `pwd`, and `otp` after a second factor",
    }),
    secondFactorEnrollmentRequired: z.boolean().openapi({
      description:
        "True for a privileged user (admin; county and city centre staff and leaders) without a second factor: until one is enrolled and used at login, the token may only read masked data, enrol and log out (403 `second-factor-required` otherwise)",
    }),
    user: UserSchema,
  })
  .openapi("TokenPair");

const SecondFactorChallenge = z
  .object({
    challenge: z
      .string()
      .openapi({ description: "Answer it at POST /v1/auth/login/second-factor; single use" }),
    methods: z.array(z.enum(["totp", "recovery"])),
    expiresIn: z.number().int().openapi({ description: "Seconds the challenge stays valid (300)" }),
  })
  .openapi("SecondFactorChallenge");

/** The client address the throttle keys on; set by Cloudflare's edge. */
const ClientIpHeader = z.object({
  "cf-connecting-ip": z.string().max(64).optional().openapi({
    description: "Set by Cloudflare: the client address login throttling is keyed on (`unknown` without it)",
  }),
});

const CodeAnswer = {
  method: z
    .enum(["totp", "recovery"])
    .openapi({ description: "`totp`: a 6-digit code; `recovery`: a recovery code" }),
  code: z.string().trim().min(6).max(32),
};

export const login = createRoute({
  method: "post",
  path: "/v1/auth/login",
  operationId: "login",
  tags: ["auth"],
  summary: "Log in with username and password",
  description:
    "Each password check first claims a throttle slot: 5 failures per (username, client IP), 30 per client IP and 50 per username over every IP within 15 minutes answer 429 with Retry-After; the last also alerts the city centre's inbox. A user with a second factor gets `{ challenge, methods, expiresIn }` instead of tokens (answer it at `/v1/auth/login/second-factor`).",
  request: {
    headers: ClientIpHeader,
    body: jsonBody(
      z
        .strictObject({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) })
        .openapi("Login"),
    ),
  },
  responses: {
    200: jsonResponse(z.union([TokenPair, SecondFactorChallenge]), "Logged in, or a second factor is asked"),
    ...errorResponses(429),
  },
});

export const loginSecondFactor = createRoute({
  method: "post",
  path: "/v1/auth/login/second-factor",
  operationId: "loginSecondFactor",
  tags: ["auth"],
  summary: "Answer a login challenge with a TOTP code or a recovery code",
  description:
    'Issues the tokens (`amr: ["pwd", "otp"]`). A TOTP code is accepted once, with one 30-second step of clock skew either way; a recovery code once. Code checks are throttled like passwords (429). 401 for a spent, expired or unknown challenge, or a wrong code.',
  request: {
    headers: ClientIpHeader,
    body: jsonBody(z.strictObject({ challenge: z.string().min(20).max(200), ...CodeAnswer })),
  },
  responses: { 200: jsonResponse(TokenPair, "Logged in"), ...errorResponses(429) },
});

const SecondFactorStatus = z
  .object({
    enrolled: z.boolean(),
    pendingConfirmation: z.boolean(),
    required: z.boolean().openapi({ description: "Whether the caller's role and level need one" }),
    recoveryCodesLeft: z.number().int(),
  })
  .openapi("SecondFactorStatus");

export const secondFactorStatus = createRoute({
  method: "get",
  path: "/v1/auth/second-factor",
  operationId: "getSecondFactor",
  tags: ["auth"],
  summary: "The caller's second factor: enrolled, pending, required, recovery codes left",
  ...guarded("auth.session"),
  responses: { 200: jsonResponse(SecondFactorStatus, "State"), ...errorResponses() },
});

export const enrolSecondFactor = createRoute({
  method: "post",
  path: "/v1/auth/second-factor/enrolment",
  operationId: "enrolSecondFactor",
  tags: ["auth"],
  summary: "Start a TOTP enrolment: a new secret as an otpauth:// URI, shown once",
  description:
    "The secret is stored sealed under PII_KEY; a new enrolment replaces one not yet confirmed. 409 when a confirmed factor exists.",
  ...guarded("auth.session"),
  responses: {
    201: jsonResponse(
      z.object({ secret: z.string().openapi({ description: "Base32" }), otpauthUri: z.string() }),
      "Scan the URI, then confirm with a code",
    ),
    ...errorResponses(409),
  },
});

export const confirmSecondFactor = createRoute({
  method: "post",
  path: "/v1/auth/second-factor/confirmation",
  operationId: "confirmSecondFactor",
  tags: ["auth"],
  summary: "Confirm an enrolment with a first code; returns ten single-use recovery codes, once",
  description:
    "Log in again afterwards for a token with `otp`. 400 `second-factor-code-invalid` for a wrong code (throttled like passwords: 429), 409 without a pending enrolment.",
  ...guarded("auth.session"),
  request: {
    headers: ClientIpHeader,
    body: jsonBody(
      z.strictObject({
        code: z
          .string()
          .trim()
          .regex(/^\d{6}$/),
      }),
    ),
  },
  responses: {
    200: jsonResponse(z.object({ recoveryCodes: z.array(z.string()) }), "Confirmed"),
    ...errorResponses(409, 429),
  },
});

export const disableSecondFactor = createRoute({
  method: "post",
  path: "/v1/auth/second-factor/disable",
  operationId: "disableSecondFactor",
  tags: ["auth"],
  summary: "Disable the caller's second factor with a current code or a recovery code",
  description:
    "400 `second-factor-code-invalid` for a wrong or reused code (throttled: 429), 404 without a factor.",
  ...guarded("auth.session"),
  request: { headers: ClientIpHeader, body: jsonBody(z.strictObject(CodeAnswer)) },
  responses: { 204: { description: "Disabled" }, ...errorResponses(404, 429) },
});

export const resetSecondFactor = createRoute({
  method: "post",
  path: "/v1/auth/second-factor/reset",
  operationId: "resetSecondFactor",
  tags: ["auth"],
  summary: "Clear another user's second factor (a lost device) and revoke their sessions",
  ...guarded("auth.second-factor-reset"),
  request: { body: jsonBody(z.strictObject({ userId: z.uuid() })) },
  responses: { 204: { description: "Cleared" }, ...errorResponses(403, 404) },
});

export const refresh = createRoute({
  method: "post",
  path: "/v1/auth/refresh",
  operationId: "refreshTokens",
  tags: ["auth"],
  summary: "Exchange a refresh token for a new token pair (the old refresh token is spent)",
  description: "Presenting an already-rotated refresh token revokes its whole family (token theft).",
  request: { body: jsonBody(z.strictObject({ refreshToken: z.string().min(20).max(200) })) },
  responses: { 200: jsonResponse(TokenPair, "New token pair"), ...errorResponses() },
});

export const logout = createRoute({
  method: "post",
  path: "/v1/auth/logout",
  operationId: "logout",
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
  operationId: "getMe",
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
