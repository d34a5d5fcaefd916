import { ROLES } from "../../domain/roles";

/**
 * Response headers every client may rely on, declared once under `components.headers` and referenced from
 * each response that carries them (`jsonResponse(schema, description, ["ETag", "Location"])` or `responseHeaders(...)` in a route, the rest here).
 */
export const HEADER_COMPONENTS = {
  "X-Request-Id": {
    description:
      "The request's id: the client's `x-request-id` when well-formed (8–128 of `A-Za-z0-9._:-`), else a new UUID. Quote it when reporting a problem.",
    schema: { type: "string" },
  },
  "Server-Timing": {
    description:
      "Where the time went (W3C Server Timing): the stages of this request and their milliseconds.",
    schema: { type: "string" },
  },
  "WWW-Authenticate": {
    description: 'The scheme to authenticate with: `Bearer realm="grid321"`.',
    schema: { type: "string" },
  },
  "Retry-After": {
    description: "Seconds to wait before trying again.",
    schema: { type: "integer", minimum: 0 },
  },
  ETag: {
    description: 'The resource\'s current version as a strong ETag, e.g. `"3"`; send it back in `If-Match`.',
    schema: { type: "string", example: '"3"' },
  },
  Location: {
    description: "The URL of the resource this request created (or found, on a replay).",
    schema: { type: "string", format: "uri-reference" },
  },
  Deprecation: {
    description:
      'Present when the request used a deprecated form (RFC 9745), as the date it was deprecated (`@` Unix seconds); see the `Link` with `rel="deprecation"`.',
    schema: { type: "string", example: "@1767225600" },
  },
  Link: {
    description: 'With `Deprecation`: where the deprecation is explained (`rel="deprecation"`).',
    schema: { type: "string" },
  },
} as const;

/** The name of a header declared under `components.headers`. */
export type DeclaredHeader = keyof typeof HEADER_COMPONENTS;

/**
 * A response's `headers` entry referencing the shared header components.
 *
 * @example
 * 201: { ...jsonResponse(UnitSchema, "Created"), headers: responseHeaders("ETag", "Location") }
 */
export function responseHeaders(...names: DeclaredHeader[]): Record<string, { $ref: string }> {
  return Object.fromEntries(names.map((name) => [name, { $ref: `#/components/headers/${name}` }]));
}

/** Operations that need no bearer token. Any other operation without `security` fails the document. */
export const PUBLIC_OPERATIONS = new Set([
  "GET /health",
  "GET /.well-known/jwks.json",
  "POST /v1/auth/login",
  "POST /v1/auth/login/second-factor",
  "POST /v1/auth/refresh",
  "GET /v1/public/units/{id}/notices",
  "POST /v1/resident/auth/codes",
  "POST /v1/resident/auth/tokens",
  "POST /v1/resident/auth/refresh",
  "GET /v1/resident/dev/codes",
]);

/** Paths under this prefix take a resident's token (`residentBearer`), never a staff one. */
export const RESIDENT_PREFIX = "/v1/resident/";

/** Operations that never reach libSQL, so never answer 503 `db-unavailable`. */
const WITHOUT_DATABASE = new Set(["GET /.well-known/jwks.json"]);

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;
const OPERATION_ID = /^[a-z][A-Za-z0-9]*$/;

const PROBLEM_REF = { $ref: "#/components/schemas/Problem" };
const CENTRAL_ERRORS: Record<number, string> = {
  403: "The caller's role may not do this",
  413: "Body too large",
  415: "Body is not application/json",
  503: "The database is unavailable; try again after Retry-After",
};

// biome-ignore lint/suspicious/noExplicitAny: the generated document is walked by key, any shape.
type Json = Record<string, any>;

/**
 * Completes the generated OpenAPI document with what holds for every operation, and refuses a document
 * clients could not build on. Throws when an operation lacks an `operationId` (and none is pending for it),
 * when two share one, or when an operation has no `security` and is not one of `PUBLIC_OPERATIONS`.
 *
 * Adds: `security: []` on public operations; 503 (with `Retry-After`) on everything that reads libSQL; 413
 * and 415 on JSON bodies (the body-limit and content-type middleware); 403 where a role can be refused;
 * `X-Request-Id` and `Server-Timing` on every response, `WWW-Authenticate` on 401; `Retry-After` on 429 and 503; `ETag` on 412 (the current version);
 * the header components. Rewrites `allOf: [$ref, {type: [..., "null"]}]` (how a nullable named schema is
 * emitted, which no instance can satisfy when null) into `anyOf: [$ref, {type: "null"}]`.
 */
export function finishDocument<D extends object>(generated: D): D {
  const doc = structuredClone(generated) as Json;
  doc.components ??= {};
  doc.components.headers = { ...HEADER_COMPONENTS, ...(doc.components.headers ?? {}) };
  const seen = new Map<string, string>();
  const failures: string[] = [];
  for (const [path, item] of Object.entries<Json>(doc.paths ?? {})) {
    for (const method of METHODS) {
      const operation = item[method] as Json | undefined;
      if (!operation) continue;
      const key = `${method.toUpperCase()} ${path}`;
      const id = operation.operationId as string | undefined;
      if (!id) failures.push(`${key} has no operationId`);
      else if (!OPERATION_ID.test(id)) failures.push(`${key}: operationId "${id}" is not camelCase`);
      else if (seen.has(id)) failures.push(`${key}: operationId "${id}" is also ${seen.get(id)}'s`);
      else seen.set(id, key);

      if (operation.security === undefined) {
        if (PUBLIC_OPERATIONS.has(key)) operation.security = [];
        else failures.push(`${key} declares no security (spread guarded(...) or list it as public)`);
      }
      operation.responses ??= {};
      const responses = operation.responses as Json;
      const roles = operation["x-roles"] as string[] | undefined;
      if (roles && roles.length < ROLES.length) addProblem(responses, 403);
      if (operation.requestBody?.content?.["application/json"]) {
        addProblem(responses, 413);
        addProblem(responses, 415);
      }
      if (!WITHOUT_DATABASE.has(key)) addProblem(responses, 503);
      for (const [status, response] of Object.entries<Json>(responses)) {
        const extra: DeclaredHeader[] = ["X-Request-Id", "Server-Timing"];
        if (status === "401") extra.push("WWW-Authenticate");
        if (status === "429" || status === "503") extra.push("Retry-After");
        if (status === "412") extra.push("ETag");
        response.headers = { ...(response.headers ?? {}), ...responseHeaders(...extra) };
      }
    }
  }
  if (failures.length) throw new Error(`The OpenAPI document is incomplete:\n  ${failures.join("\n  ")}`);
  fixNullableRefs(doc);
  return doc as D;
}

function addProblem(responses: Json, status: number): void {
  responses[status] ??= {
    description: CENTRAL_ERRORS[status],
    content: { "application/problem+json": { schema: PROBLEM_REF } },
  };
}

/** `allOf: [{$ref}, {type: [..., "null"]}]` → `anyOf: [{$ref}, {type: "null"}]`, everywhere in the document. */
function fixNullableRefs(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) fixNullableRefs(item);
    return;
  }
  if (node === null || typeof node !== "object") return;
  const schema = node as Json;
  const allOf = schema.allOf as Json[] | undefined;
  if (Array.isArray(allOf) && allOf.length === 2 && allOf[0]?.$ref && isNullMarker(allOf[1])) {
    const { type: _type, ...rest } = allOf[1]!;
    delete schema.allOf;
    Object.assign(schema, rest, { anyOf: [allOf[0], { type: "null" }] });
  }
  for (const value of Object.values(schema)) fixNullableRefs(value);
}

function isNullMarker(schema: Json | undefined): boolean {
  if (!schema) return false;
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  const keys = Object.keys(schema).filter((k) => k !== "type" && k !== "description");
  return types.includes("null") && keys.length === 0;
}
