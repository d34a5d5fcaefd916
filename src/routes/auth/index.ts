import { createRoute, z } from "@hono/zod-openapi";
import { and, eq, gt, isNull } from "drizzle-orm";
import { findUserWithUnit, principalFor, userView } from "../../db/repos/users";
import { loginFailures, refreshTokens, units } from "../../db/schema";
import { LOGIN_WINDOW_MS, loginThrottle } from "../../domain/throttle";
import { DUMMY_PASSWORD_HASH, verifyPassword } from "../../platform/crypto/password";
import {
  ACCESS_TOKEN_TTL_SECONDS,
  newRefreshToken,
  REFRESH_TOKEN_TTL_SECONDS,
  sha256Hex,
  signAccessToken,
} from "../../platform/crypto/tokens";
import { writeAudited } from "../../platform/db/audit";
import { getDb } from "../../platform/db/client";
import { stmt } from "../../platform/db/statements";
import { principalOf } from "../../platform/http/auth";
import { bearer, createRouter, errorResponses, jsonBody, jsonResponse } from "../../platform/http/openapi";
import { Problem, problems } from "../../platform/http/problem";
import { UserSchema } from "../users";

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

const login = createRoute({
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

const refresh = createRoute({
  method: "post",
  path: "/v1/auth/refresh",
  tags: ["auth"],
  summary: "Exchange a refresh token for a new token pair (the old refresh token is spent)",
  description: "Presenting an already-rotated refresh token revokes its whole family (token theft).",
  request: { body: jsonBody(z.strictObject({ refreshToken: z.string().min(20).max(200) })) },
  responses: { 200: jsonResponse(TokenPair, "New token pair"), ...errorResponses() },
});

const logout = createRoute({
  method: "post",
  path: "/v1/auth/logout",
  tags: ["auth"],
  summary: "Revoke a refresh token (or, with `all`, every session of the caller)",
  security: bearer,
  request: {
    body: jsonBody(
      z.strictObject({ refreshToken: z.string().min(20).max(200).optional(), all: z.boolean().optional() }),
    ),
  },
  responses: { 204: { description: "Revoked" }, ...errorResponses() },
});

const me = createRoute({
  method: "get",
  path: "/v1/me",
  tags: ["auth"],
  summary: "The caller's user and unit",
  security: bearer,
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

async function issueTokens(
  env: Cloudflare.Env,
  user: Parameters<typeof principalFor>[0],
  unitLevel: string,
  unitPath: string,
  familyId: string,
) {
  const refreshToken = newRefreshToken();
  const now = Date.now();
  const row = {
    id: crypto.randomUUID(),
    userId: user.id,
    familyId,
    tokenHash: await sha256Hex(refreshToken),
    expiresAt: new Date(now + REFRESH_TOKEN_TTL_SECONDS * 1000).toISOString(),
    createdAt: new Date(now).toISOString(),
  };
  const accessToken = await signAccessToken(env, principalFor(user, unitLevel, unitPath), now);
  return {
    row,
    body: {
      accessToken,
      tokenType: "Bearer" as const,
      expiresIn: ACCESS_TOKEN_TTL_SECONDS,
      refreshToken,
      refreshExpiresIn: REFRESH_TOKEN_TTL_SECONDS,
      user: userView(user),
    },
  };
}

export const authRoutes = createRouter()
  .openapi(login, async (c) => {
    const { username, password } = c.req.valid("json");
    const db = getDb(c.env);
    const requestId = c.get("requestId");
    const now = Date.now();
    const since = new Date(now - LOGIN_WINDOW_MS).toISOString();
    const [failures, found] = await Promise.all([
      db
        .select({ at: loginFailures.at })
        .from(loginFailures)
        .where(and(eq(loginFailures.username, username), gt(loginFailures.at, since))),
      findUserWithUnit(db, { username }),
    ]);
    const throttle = loginThrottle(
      failures.map((f: { at: string }) => Date.parse(f.at)),
      now,
    );
    const scopePath = found?.unitPath ?? "/";
    if (throttle.blocked) {
      await writeAudited(
        db,
        [],
        [
          {
            actorId: found?.user.id ?? null,
            actorRole: found?.user.role ?? null,
            scopePath,
            action: "auth.login",
            objectType: "user",
            objectId: found?.user.id ?? null,
            outcome: "denied",
            requestId,
            detail: { username, reason: "throttled" },
          },
        ],
      );
      throw new Problem(429, "login-throttled", "Too many failed logins; try again later", {
        headers: { "retry-after": String(throttle.retryAfterSeconds) },
      });
    }
    const ok = await verifyPassword(password, found?.user.passwordHash ?? DUMMY_PASSWORD_HASH);
    if (!found || !ok || found.user.disabled) {
      await writeAudited(
        db,
        [
          {
            sql: "INSERT INTO login_failures (username, at) VALUES (?, ?)",
            args: [username, new Date(now).toISOString()],
          },
        ],
        [
          {
            actorId: found?.user.id ?? null,
            actorRole: found?.user.role ?? null,
            scopePath,
            action: "auth.login",
            objectType: "user",
            objectId: found?.user.id ?? null,
            outcome: "failure",
            requestId,
            detail: { username, reason: found?.user.disabled && ok ? "disabled" : "bad credentials" },
          },
        ],
      );
      throw problems.unauthorized("Wrong username or password");
    }
    const { row, body } = await issueTokens(
      c.env,
      found.user,
      found.unitLevel,
      found.unitPath,
      crypto.randomUUID(),
    );
    await writeAudited(
      db,
      [
        {
          sql: "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?)",
          args: [row.id, row.userId, row.familyId, row.tokenHash, row.expiresAt, row.createdAt],
        },
        { sql: "DELETE FROM login_failures WHERE username = ?", args: [username] },
      ],
      [
        {
          actorId: found.user.id,
          actorRole: found.user.role,
          scopePath,
          action: "auth.login",
          objectType: "user",
          objectId: found.user.id,
          outcome: "success",
          requestId,
        },
      ],
    );
    return c.json(body, 200);
  })
  .openapi(refresh, async (c) => {
    const { refreshToken } = c.req.valid("json");
    const db = getDb(c.env);
    const tokenHash = await sha256Hex(refreshToken);
    const [stored] = await db
      .select()
      .from(refreshTokens)
      .where(eq(refreshTokens.tokenHash, tokenHash))
      .limit(1);
    if (!stored || stored.revokedAt) throw problems.unauthorized("The refresh token is not valid");
    const nowIso = new Date().toISOString();
    if (stored.rotatedAt) {
      // A spent token presented again: assume it was stolen, end the whole login, and leave a trace.
      const owner = await findUserWithUnit(db, { id: stored.userId });
      await writeAudited(
        db,
        [
          stmt(
            db
              .update(refreshTokens)
              .set({ revokedAt: nowIso })
              .where(and(eq(refreshTokens.familyId, stored.familyId), isNull(refreshTokens.revokedAt))),
          ),
        ],
        [
          {
            actorId: stored.userId,
            actorRole: owner?.user.role ?? null,
            scopePath: owner?.unitPath ?? "/",
            action: "auth.refresh",
            objectType: "user",
            objectId: stored.userId,
            outcome: "denied",
            requestId: c.get("requestId"),
            detail: { reason: "refresh token reused", familyId: stored.familyId },
          },
        ],
      );
      throw problems.unauthorized("The refresh token was already used; the session is revoked");
    }
    if (stored.expiresAt <= nowIso) throw problems.unauthorized("The refresh token has expired");
    const found = await findUserWithUnit(db, { id: stored.userId });
    if (!found || found.user.disabled) {
      await db
        .update(refreshTokens)
        .set({ revokedAt: nowIso })
        .where(eq(refreshTokens.familyId, stored.familyId));
      throw problems.unauthorized("The account is disabled");
    }
    const spent = await db
      .update(refreshTokens)
      .set({ rotatedAt: nowIso })
      .where(and(eq(refreshTokens.id, stored.id), isNull(refreshTokens.rotatedAt)));
    if (spent.rowsAffected !== 1) throw problems.unauthorized("The refresh token was already used");
    const { row, body } = await issueTokens(
      c.env,
      found.user,
      found.unitLevel,
      found.unitPath,
      stored.familyId,
    );
    await db.insert(refreshTokens).values(row);
    return c.json(body, 200);
  })
  .openapi(logout, async (c) => {
    const principal = principalOf(c);
    const { refreshToken, all } = c.req.valid("json");
    const db = getDb(c.env);
    const nowIso = new Date().toISOString();
    const statements = [];
    if (all) {
      statements.push({
        sql: "UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
        args: [nowIso, principal.userId],
      });
    } else if (refreshToken) {
      const hash = await sha256Hex(refreshToken);
      statements.push({
        sql: `UPDATE refresh_tokens SET revoked_at = ? WHERE revoked_at IS NULL AND user_id = ?
              AND family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = ?)`,
        args: [nowIso, principal.userId, hash],
      });
    } else {
      throw problems.badRequest("Give a refreshToken or all: true", [
        { path: "refreshToken", message: "required unless all is true" },
      ]);
    }
    await writeAudited(db, statements, [
      {
        actorId: principal.userId,
        actorRole: principal.role,
        scopePath: principal.unitPath,
        action: "auth.logout",
        objectType: "user",
        objectId: principal.userId,
        outcome: "success",
        requestId: c.get("requestId"),
        detail: { all: Boolean(all) },
      },
    ]);
    return c.body(null, 204);
  })
  .openapi(me, async (c) => {
    const principal = principalOf(c);
    const db = getDb(c.env);
    const found = await findUserWithUnit(db, { id: principal.userId });
    if (!found) throw problems.notFound("user");
    const [unit] = await db
      .select({ id: units.id, code: units.code, name: units.name, level: units.level, path: units.path })
      .from(units)
      .where(eq(units.id, found.user.unitId));
    if (!unit) throw problems.notFound("unit");
    return c.json({ user: userView(found.user), unit }, 200);
  });
