import { OpenAPIHono, type RouteConfig, type RouteHandler, z } from "@hono/zod-openapi";
import { type Action, rolesFor } from "../../domain/permissions";
import { ROLE_LABELS } from "../../domain/roles";
import type { AppEnv } from "../../env";
import { authorize } from "./auth";
import { type DeclaredHeader, responseHeaders } from "./openapi-document";
import { Problem } from "./problem";

/** A handler for one route, typed by its createRoute config (params, query, body and responses). */
export type AppRouteHandler<R extends RouteConfig> = RouteHandler<R, AppEnv>;

/** The RFC 9457 problem body, as documented for every error response. */
export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: "https://grid321.ankang.gov.cn/problems/validation" }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .passthrough()
  .openapi("Problem");

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Invalid input (see `errors` for field paths)",
  401: "Missing, invalid or expired bearer token",
  403: "The caller's role may not do this",
  404: "Not found, or outside the caller's scope",
  409: "Conflict with the current state",
  412: "Stale If-Match: the resource changed",
  413: "Body too large",
  415: "Body is not application/json",
  422: "Idempotency key reused with a different body",
  428: "If-Match header required",
  429: "Too many requests; see Retry-After",
  503: "A backing service is unavailable",
};

/** OpenAPI response entries for the listed error statuses, all `application/problem+json`. */
export function errorResponses(...statuses: number[]) {
  const out: Record<
    number,
    { description: string; content: { "application/problem+json": { schema: typeof ProblemSchema } } }
  > = {};
  for (const status of [400, 401, ...statuses]) {
    out[status] = {
      description: ERROR_DESCRIPTIONS[status] ?? "Error",
      content: { "application/problem+json": { schema: ProblemSchema } },
    };
  }
  return out;
}

/** A JSON request body entry for createRoute. */
export function jsonBody<T extends z.ZodTypeAny>(schema: T, description?: string) {
  return {
    required: true,
    content: { "application/json": { schema } },
    ...(description ? { description } : {}),
  };
}

/**
 * A JSON response entry for createRoute, with the headers it sets (declared under `components.headers`).
 *
 * @example
 * 201: jsonResponse(UnitSchema, "Created", ["ETag", "Location"])
 */
export function jsonResponse<T extends z.ZodTypeAny>(
  schema: T,
  description: string,
  headers: DeclaredHeader[] = [],
) {
  return {
    description,
    content: { "application/json": { schema } },
    ...(headers.length ? { headers: responseHeaders(...headers) } : {}),
  };
}

/** `{id}` path parameter that must be a UUID. */
export const IdParam = z.object({
  id: z.uuid().openapi({ param: { name: "id", in: "path" }, description: "UUID" }),
});

/**
 * The authorization part of a route: the bearer requirement, the permission check as middleware, and the
 * roles allowed (from the permissions table) as `x-roles`, which the app also writes into the description.
 *
 * @example
 * createRoute({ method: "post", path: "/v1/units", ...guarded("units.write"), request, responses })
 */
export function guarded<A extends Action>(action: A) {
  return {
    security: bearer,
    middleware: authorize(action),
    "x-roles": [...rolesFor(action)],
  };
}

/** Appends "Roles: …" to the description of every registered route that declares `x-roles`. */
export function describeRoles(app: OpenAPIHono<AppEnv>): void {
  for (const definition of app.openAPIRegistry.definitions) {
    if (definition.type !== "route") continue;
    const route = definition.route as typeof definition.route & { "x-roles"?: string[] };
    const roles = route["x-roles"];
    if (!roles || route.description?.includes("**Roles:**")) continue;
    const list = roles.map((r) => `\`${r}\` (${ROLE_LABELS[r as keyof typeof ROLE_LABELS] ?? r})`).join(", ");
    route.description = `${route.description ? `${route.description}\n\n` : ""}**Roles:** ${list}.`;
  }
}

/** Bearer-token security requirement for createRoute. */
export const bearer = [{ bearer: [] as string[] }];

/**
 * A router for one resource: OpenAPI-aware, with validation failures turned into problem+json
 * (`errors: [{path, message}]`).
 */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      const target = (result as { target?: string }).target ?? "body";
      const prefix = target === "json" ? "" : `${target}.`;
      const at = (path: PropertyKey[]) => prefix + (path.length ? path.map(String).join(".") : "(root)");
      if (result.success) {
        // JSON may spell a lone UTF-16 surrogate (`"\ud800"`); no store can keep it, so refuse it here.
        const bad = illFormedAt(result.data, []);
        if (bad) {
          throw new Problem(400, "validation", "The request is not valid", {
            errors: [{ path: at(bad), message: "not valid Unicode text (a lone surrogate)" }],
          });
        }
      } else {
        // An unknown field is reported at its own path, so a client sees which field to drop.
        const errors = result.error.issues.flatMap((issue) =>
          issue.code === "unrecognized_keys"
            ? issue.keys.map((key) => ({ path: at([...issue.path, key]), message: "unknown field" }))
            : [{ path: at(issue.path), message: parameterMessage(target, issue, c.req) ?? issue.message }],
        );
        throw new Problem(400, "validation", "The request is not valid", { errors });
      }
    },
  });
}

const EXPECTED: Record<string, string> = {
  number: "a number",
  int: "a whole number",
  bigint: "a whole number",
  boolean: "true or false",
};

/**
 * A clear message for a query, path or header parameter: "year is required" when it is missing or empty
 * (rather than what coercing nothing gave, e.g. "expected number, received NaN"), "year must be a number, not
 * \"abc\"" when it does not parse. Null for anything else (the schema's own message stands).
 */
function parameterMessage(
  target: string,
  issue: { code: string; path: PropertyKey[]; expected?: string },
  req: {
    query(name: string): string | undefined;
    header(name: string): string | undefined;
    param(name: string): string | undefined;
  },
): string | null {
  if (issue.path.length !== 1 || !["query", "param", "header"].includes(target)) return null;
  const name = String(issue.path[0]);
  const raw = target === "query" ? req.query(name) : target === "header" ? req.header(name) : req.param(name);
  if (raw === undefined || raw.trim() === "") return `${name} is required`;
  const expected = issue.code === "invalid_type" && issue.expected ? EXPECTED[issue.expected] : undefined;
  return expected ? `${name} must be ${expected}, not ${JSON.stringify(raw.slice(0, 40))}` : null;
}

const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** The path of the first string (or key) in `value` holding a lone UTF-16 surrogate, or null. */
function illFormedAt(value: unknown, path: PropertyKey[]): PropertyKey[] | null {
  if (typeof value === "string") return LONE_SURROGATE.test(value) ? path : null;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const bad = illFormedAt(item, [...path, i]);
      if (bad) return bad;
    }
    return null;
  }
  if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      if (LONE_SURROGATE.test(key)) return [...path, key];
      const bad = illFormedAt(item, [...path, key]);
      if (bad) return bad;
    }
  }
  return null;
}
