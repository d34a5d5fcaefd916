import { createRoute, z } from "@hono/zod-openapi";
import { ROLE_LABELS, ROLES } from "../../domain/roles";
import { ifMatchHeader } from "../../platform/http/if-match";
import { errorResponses, guarded, IdParam, jsonBody, jsonResponse } from "../../platform/http/openapi";
import { pageQuery, pageSchema } from "../../platform/http/pagination";

const Role = z.enum(ROLES).openapi({
  description: Object.entries(ROLE_LABELS)
    .map(([k, v]) => `\`${k}\` — ${v}`)
    .join("; "),
});
const Password = z.string().min(10, "at least 10 characters").max(256);
const Phone = z.string().regex(/^\+?\d{5,20}$/);

/** A user as every user endpoint returns it (never the password hash). */
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

export const create = createRoute({
  method: "post",
  path: "/v1/users",
  operationId: "createUser",
  tags: ["users"],
  summary: "Create a user in a unit of the caller's subtree (admin)",
  ...guarded("users.write"),
  request: {
    body: jsonBody(
      z
        .strictObject({
          username: z.string().regex(/^[a-z0-9][a-z0-9._-]{2,63}$/, "3–64 of a-z 0-9 . _ -"),
          displayName: z.string().trim().min(1).max(100),
          role: Role,
          unitId: z.uuid(),
          phone: Phone.optional(),
          password: Password,
        })
        .openapi("NewUser"),
    ),
  },
  responses: {
    201: jsonResponse(UserSchema, "Created", ["ETag", "Location"]),
    ...errorResponses(403, 404, 409),
  },
});

export const list = createRoute({
  method: "get",
  path: "/v1/users",
  operationId: "listUsers",
  tags: ["users"],
  summary: "Users in the caller's subtree (admin, center_staff, leader)",
  ...guarded("users.read"),
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

export const getOne = createRoute({
  method: "get",
  path: "/v1/users/{id}",
  operationId: "getUser",
  tags: ["users"],
  summary: "One user (admin, center_staff, leader, or the user themself)",
  description:
    "Anyone may read their own user; reading another needs `users.read` (admin, center_staff, leader).",
  ...guarded("users.read-own"),
  request: { params: IdParam },
  responses: { 200: jsonResponse(UserSchema, "The user", ["ETag"]), ...errorResponses(403, 404) },
});

export const patch = createRoute({
  method: "patch",
  path: "/v1/users/{id}",
  operationId: "updateUser",
  tags: ["users"],
  summary: "Change a user, move them to another unit, reset the password, or disable them (admin)",
  description:
    "Disabling or resetting the password revokes every refresh token of the user. `If-Match` is honoured.",
  ...guarded("users.write"),
  request: {
    params: IdParam,
    headers: ifMatchHeader(false),
    body: jsonBody(
      z
        .strictObject({
          displayName: z.string().trim().min(1).max(100).optional(),
          role: Role.optional(),
          unitId: z.uuid().optional(),
          phone: Phone.nullable().optional(),
          password: Password.optional(),
          disabled: z.boolean().optional(),
        })
        .openapi("UserPatch"),
    ),
  },
  responses: {
    200: jsonResponse(UserSchema, "Updated", ["ETag"]),
    ...errorResponses(403, 404, 409, 412),
  },
});
