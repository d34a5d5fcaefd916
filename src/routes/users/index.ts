import { createRoute, z } from "@hono/zod-openapi";
import type { InStatement } from "@libsql/client/web";
import { and, asc, eq, gt, like, or, type SQL } from "drizzle-orm";
import { type UserRow, userView } from "../../db/repos/users";
import { units, users } from "../../db/schema";
import { ROLE_LABELS, ROLES, roleFitsLevel } from "../../domain/roles";
import type { Principal } from "../../env";
import { hashPassword } from "../../platform/crypto/password";
import { GuardFailed, writeAudited } from "../../platform/db/audit";
import { type Db, getDb, isConstraintViolation } from "../../platform/db/client";
import { containsText, startsWithText, stmt } from "../../platform/db/statements";
import { assertInScope, principalOf, requireRole } from "../../platform/http/auth";
import {
  bearer,
  createRouter,
  errorResponses,
  IdParam,
  jsonBody,
  jsonResponse,
} from "../../platform/http/openapi";
import { decodeCursor, pageQuery, pageSchema, toPage } from "../../platform/http/pagination";
import { problems } from "../../platform/http/problem";

const Role = z.enum(ROLES).openapi({
  description: Object.entries(ROLE_LABELS)
    .map(([k, v]) => `\`${k}\` — ${v}`)
    .join("; "),
});
const Password = z.string().min(10, "at least 10 characters").max(256);

export const UserSchema = z
  .object({
    id: z.uuid(),
    username: z.string(),
    displayName: z.string(),
    role: Role,
    unitId: z.uuid(),
    phone: z.string().nullable(),
    disabled: z.boolean(),
    version: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("User");

const create = createRoute({
  method: "post",
  path: "/v1/users",
  tags: ["users"],
  summary: "Create a user in a unit of the caller's subtree (admin)",
  security: bearer,
  middleware: [requireRole("admin")] as const,
  request: {
    body: jsonBody(
      z
        .strictObject({
          username: z.string().regex(/^[a-z0-9][a-z0-9._-]{2,63}$/, "3–64 of a-z 0-9 . _ -"),
          displayName: z.string().trim().min(1).max(100),
          role: Role,
          unitId: z.uuid(),
          phone: z
            .string()
            .regex(/^\+?\d{5,20}$/)
            .optional(),
          password: Password,
        })
        .openapi("NewUser"),
    ),
  },
  responses: { 201: jsonResponse(UserSchema, "Created"), ...errorResponses(403, 404, 409) },
});

const list = createRoute({
  method: "get",
  path: "/v1/users",
  tags: ["users"],
  summary: "Users in the caller's subtree (admin, center_staff, leader)",
  security: bearer,
  middleware: [requireRole("admin", "center_staff", "leader")] as const,
  request: {
    query: z.object({
      unitId: z.uuid().optional().openapi({ description: "Only this unit's subtree" }),
      role: Role.optional(),
      q: z
        .string()
        .trim()
        .min(1)
        .max(64)
        .optional()
        .openapi({ description: "Username prefix or name substring" }),
      disabled: z.enum(["true", "false"]).optional(),
      ...pageQuery,
    }),
  },
  responses: {
    200: jsonResponse(pageSchema(UserSchema), "A page of users, by username"),
    ...errorResponses(403, 404),
  },
});

const getOne = createRoute({
  method: "get",
  path: "/v1/users/{id}",
  tags: ["users"],
  summary: "One user (admin, center_staff, leader, or the user themself)",
  security: bearer,
  request: { params: IdParam },
  responses: { 200: jsonResponse(UserSchema, "The user"), ...errorResponses(403, 404) },
});

const patch = createRoute({
  method: "patch",
  path: "/v1/users/{id}",
  tags: ["users"],
  summary: "Change a user, move them to another unit, reset the password, or disable them (admin)",
  description: "Disabling or resetting the password revokes every refresh token of the user.",
  security: bearer,
  middleware: [requireRole("admin")] as const,
  request: {
    params: IdParam,
    body: jsonBody(
      z
        .strictObject({
          displayName: z.string().trim().min(1).max(100).optional(),
          role: Role.optional(),
          unitId: z.uuid().optional(),
          phone: z
            .string()
            .regex(/^\+?\d{5,20}$/)
            .nullable()
            .optional(),
          password: Password.optional(),
          disabled: z.boolean().optional(),
        })
        .openapi("UserPatch"),
    ),
  },
  responses: { 200: jsonResponse(UserSchema, "Updated"), ...errorResponses(403, 404, 409) },
});

async function unitInScope(db: Db, principal: Principal, unitId: string) {
  const [unit] = await db.select().from(units).where(eq(units.id, unitId)).limit(1);
  assertInScope(principal, unit?.path, "unit");
  return unit!;
}

async function userInScope(db: Db, principal: Principal, id: string): Promise<UserRow> {
  const [user] = await db.select().from(users).where(eq(users.id, id)).limit(1);
  assertInScope(principal, user?.unitPath, "user");
  return user!;
}

export const userRoutes = createRouter()
  .openapi(create, async (c) => {
    const principal = principalOf(c);
    const body = c.req.valid("json");
    const db = getDb(c.env);
    const unit = await unitInScope(db, principal, body.unitId);
    if (!roleFitsLevel(body.role, unit.level)) {
      const message = `a ${body.role} cannot belong to a ${unit.level}`;
      throw problems.badRequest(message, [{ path: "role", message }]);
    }
    const now = new Date().toISOString();
    const row: UserRow = {
      id: crypto.randomUUID(),
      username: body.username,
      displayName: body.displayName,
      role: body.role,
      unitId: unit.id,
      unitPath: unit.path,
      phone: body.phone ?? null,
      passwordHash: await hashPassword(body.password),
      disabled: false,
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await writeAudited(
        db,
        [stmt(db.insert(users).values(row))],
        [
          {
            actorId: principal.userId,
            actorRole: principal.role,
            scopePath: unit.path,
            action: "user.create",
            objectType: "user",
            objectId: row.id,
            outcome: "success",
            requestId: c.get("requestId"),
            detail: { username: row.username, role: row.role, unitId: row.unitId },
          },
        ],
      );
    } catch (error) {
      if (isConstraintViolation(error))
        throw problems.conflict("duplicate-username", `The username ${body.username} is taken`);
      throw error;
    }
    c.header("location", `/v1/users/${row.id}`);
    c.header("etag", `"1"`);
    return c.json(userView(row), 201);
  })
  .openapi(list, async (c) => {
    const principal = principalOf(c);
    const { unitId, role, q, disabled, limit, cursor } = c.req.valid("query");
    const db = getDb(c.env);
    let scope = principal.unitPath;
    if (unitId) scope = (await unitInScope(db, principal, unitId)).path;
    const after = decodeCursor(cursor, 1);
    const where: SQL[] = [like(users.unitPath, `${scope}%`)];
    if (role) where.push(eq(users.role, role));
    if (disabled) where.push(eq(users.disabled, disabled === "true"));
    if (q) where.push(or(startsWithText(users.username, q), containsText(users.displayName, q))!);
    if (after) where.push(gt(users.username, String(after[0])));
    const rows = await db
      .select()
      .from(users)
      .where(and(...where))
      .orderBy(asc(users.username))
      .limit(limit + 1);
    return c.json(
      toPage(rows, limit, userView, (u) => [u.username]),
      200,
    );
  })
  .openapi(getOne, async (c) => {
    const principal = principalOf(c);
    const { id } = c.req.valid("param");
    if (id !== principal.userId && !["admin", "center_staff", "leader"].includes(principal.role)) {
      throw problems.forbidden();
    }
    const user = await userInScope(getDb(c.env), principal, id);
    c.header("etag", `"${user.version}"`);
    return c.json(userView(user), 200);
  })
  .openapi(patch, async (c) => {
    const principal = principalOf(c);
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const db = getDb(c.env);
    const user = await userInScope(db, principal, id);
    if (Object.keys(body).length === 0) throw problems.badRequest("Nothing to change");
    if (id === principal.userId && (body.disabled === true || (body.role && body.role !== "admin"))) {
      throw problems.conflict("self-lockout", "Administrators cannot disable or demote themselves");
    }
    let unitPath = user.unitPath;
    let unitLevel: string | null = null;
    if (body.unitId && body.unitId !== user.unitId) {
      const unit = await unitInScope(db, principal, body.unitId);
      unitPath = unit.path;
      unitLevel = unit.level;
    }
    const role = body.role ?? user.role;
    if (body.role || body.unitId) {
      if (!unitLevel) {
        const [unit] = await db
          .select({ level: units.level })
          .from(units)
          .where(eq(units.id, body.unitId ?? user.unitId));
        unitLevel = unit?.level ?? null;
      }
      if (!unitLevel || !roleFitsLevel(role as (typeof ROLES)[number], unitLevel as never)) {
        const message = `a ${role} cannot belong to a ${unitLevel}`;
        throw problems.badRequest(message, [{ path: "role", message }]);
      }
    }
    const now = new Date().toISOString();
    const next: UserRow = {
      ...user,
      displayName: body.displayName ?? user.displayName,
      role,
      unitId: body.unitId ?? user.unitId,
      unitPath,
      phone: body.phone === undefined ? user.phone : body.phone,
      passwordHash: body.password ? await hashPassword(body.password) : user.passwordHash,
      disabled: body.disabled ?? user.disabled,
      version: user.version + 1,
      updatedAt: now,
    };
    const statements: InStatement[] = [
      stmt(
        db
          .update(users)
          .set({
            displayName: next.displayName,
            role: next.role,
            unitId: next.unitId,
            unitPath: next.unitPath,
            phone: next.phone,
            passwordHash: next.passwordHash,
            disabled: next.disabled,
            version: next.version,
            updatedAt: now,
          })
          .where(and(eq(users.id, id), eq(users.version, user.version))),
      ),
    ];
    const revoke =
      body.disabled === true ||
      body.password !== undefined ||
      body.role !== undefined ||
      body.unitId !== undefined;
    if (revoke) {
      statements.push({
        sql: "UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
        args: [now, id],
      });
    }
    const changed = Object.keys(body).filter((k) => k !== "password");
    try {
      await writeAudited(
        db,
        statements,
        [
          {
            actorId: principal.userId,
            actorRole: principal.role,
            scopePath: next.unitPath,
            action: body.disabled === true ? "user.disable" : "user.update",
            objectType: "user",
            objectId: id,
            outcome: "success",
            requestId: c.get("requestId"),
            detail: { changed, passwordReset: body.password !== undefined, sessionsRevoked: revoke },
          },
        ],
        { mustChange: [0] },
      );
    } catch (error) {
      if (error instanceof GuardFailed)
        throw problems.conflict("concurrent-update", "The user changed meanwhile; retry");
      throw error;
    }
    c.header("etag", `"${next.version}"`);
    return c.json(userView(next), 200);
  });
