import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../../src/app";
import { finishDocument, PUBLIC_OPERATIONS } from "../../../src/platform/http/openapi-document";
import {
  isResidentPath,
  PUBLIC_RESIDENT_PATHS,
  residentBearer,
} from "../../../src/platform/http/resident-auth";
import { call } from "../../support/helpers";

const METHODS = ["get", "post", "put", "patch", "delete"] as const;
const UNDOCUMENTED = new Set(["GET /openapi.json", "GET /docs"]);
const PUBLIC = new Set(["POST /v1/auth/login", "POST /v1/auth/login/second-factor", "POST /v1/auth/refresh"]);
/** The GeoReport v2 routes are held to the Open311 specification instead (test/open311/conformance.test.ts). */
const isOpen311 = (route: string) => route.split(" ")[1]!.startsWith("/open311/");

/** The security an operation must declare: the residents' channel has its own bearer scheme and public paths. */
function expectedSecurity(route: string) {
  const path = route.split(" ")[1]!;
  if (isResidentPath(path)) return PUBLIC_RESIDENT_PATHS.has(path) ? [] : residentBearer;
  return PUBLIC_OPERATIONS.has(route) ? [] : [{ bearer: [] }];
}

interface Operation {
  security?: Array<Record<string, string[]>>;
  requestBody?: { content: Record<string, unknown> };
  parameters?: unknown[];
  responses: Record<string, { content?: Record<string, unknown> }>;
  summary?: string;
}

let doc: { openapi: string; paths: Record<string, Record<string, Operation>>; components: any };

/** "GET /v1/units/{id}" for every route the app serves, from Hono's own registry. */
function servedRoutes(): Set<string> {
  const served = new Set<string>();
  for (const route of createApp().routes) {
    if (route.method === "ALL") continue;
    served.add(`${route.method.toUpperCase()} ${route.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}")}`);
  }
  return served;
}

/** The same for every operation /openapi.json documents. */
function documentedRoutes(): Map<string, Operation> {
  const documented = new Map<string, Operation>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (operation) documented.set(`${method.toUpperCase()} ${path}`, operation);
    }
  }
  return documented;
}

beforeAll(async () => {
  const res = await call("/openapi.json");
  expect(res.status).toBe(200);
  doc = res.body;
});

describe("/openapi.json", () => {
  it("is an OpenAPI 3.1 document with the bearer scheme and the Problem schema", () => {
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.components.schemas.Problem).toBeDefined();
  });

  it("documents every route the app serves, and serves every route it documents", () => {
    const served = servedRoutes();
    const documented = documentedRoutes();
    expect(served.size).toBeGreaterThan(15);
    for (const core of [
      "GET /health",
      "GET /.well-known/jwks.json",
      "POST /v1/auth/login",
      "POST /v1/auth/refresh",
      "POST /v1/auth/logout",
      "GET /v1/me",
      "GET /v1/units",
      "POST /v1/units",
      "POST /v1/units/import",
      "GET /v1/units/{id}",
      "PATCH /v1/units/{id}",
      "DELETE /v1/units/{id}",
      "GET /v1/units/{id}/children",
      "GET /v1/users",
      "POST /v1/users",
      "GET /v1/users/{id}",
      "PATCH /v1/users/{id}",
      "GET /v1/audit",
      "GET /v1/audit/verify",
    ]) {
      expect(served, core).toContain(core);
    }
    const undocumented = [...served].filter(
      (r) => !UNDOCUMENTED.has(r) && !isOpen311(r) && !documented.has(r),
    );
    const unserved = [...documented.keys()].filter((r) => !served.has(r));
    expect(undocumented, "served but missing from /openapi.json").toEqual([]);
    expect(unserved, "documented but not served").toEqual([]);
  });

  it("gives every operation a summary, a success response and, when it takes input, problem+json errors", () => {
    for (const [route, operation] of documentedRoutes()) {
      expect(operation.summary, route).toBeTruthy();
      const statuses = Object.keys(operation.responses);
      expect(
        statuses.some((s) => s.startsWith("2")),
        `${route} documents a success`,
      ).toBe(true);
      const errors = statuses.filter((s) => Number(s) >= 400);
      const takesInput = Boolean(
        operation.security?.length || operation.requestBody || operation.parameters?.length,
      );
      if (takesInput) expect(errors.length, `${route} documents its errors`).toBeGreaterThan(0);
      for (const status of errors) {
        expect(Object.keys(operation.responses[status]!.content ?? {}), `${route} ${status}`).toEqual([
          "application/problem+json",
        ]);
      }
    }
  });

  it("marks every /v1 route but login and refresh as needing a bearer token, with 401 documented", () => {
    for (const [route, operation] of documentedRoutes()) {
      if (!route.split(" ")[1]!.startsWith("/v1/") || PUBLIC.has(route)) continue;
      if (PUBLIC_RESIDENT_PATHS.has(route.split(" ")[1]!)) continue;
      expect(operation.security, route).toEqual(expectedSecurity(route));
      expect(Object.keys(operation.responses), route).toContain("401");
    }
  });

  it("documents request bodies for writes, with 400 for invalid ones", () => {
    const documented = documentedRoutes();
    for (const route of [
      "POST /v1/units",
      "PATCH /v1/units/{id}",
      "POST /v1/units/import",
      "POST /v1/users",
    ]) {
      const operation = documented.get(route)!;
      expect(Object.keys(operation.requestBody?.content ?? {}), route).toEqual(["application/json"]);
      expect(Object.keys(operation.responses), route).toContain("400");
    }
    expect(JSON.stringify(documented.get("POST /v1/units/import"))).toMatch(/16 MiB/);
    expect(Object.keys(documented.get("POST /v1/units/import")!.responses)).toContain("413");
  });
});

describe("/openapi.json for clients", () => {
  it("names every operation with a unique camelCase operationId", () => {
    const ids = [...documentedRoutes().values()].map((o) => (o as { operationId?: string }).operationId);
    for (const id of ids) expect(id).toMatch(/^[a-z][A-Za-z0-9]*$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("refuses to build a document with an operation lacking an operationId, sharing one, or lacking security", () => {
    const op = (operationId?: string, security?: unknown) => ({
      ...(operationId ? { operationId } : {}),
      ...(security ? { security } : {}),
      responses: { 200: { description: "ok" } },
    });
    const bearer = [{ bearer: [] }];
    expect(() => finishDocument({ paths: { "/v1/a": { get: op(undefined, bearer) } } })).toThrow(
      /GET \/v1\/a has no operationId/,
    );
    expect(() =>
      finishDocument({
        paths: { "/v1/a": { get: op("same", bearer) }, "/v1/b": { get: op("same", bearer) } },
      }),
    ).toThrow(/operationId "same" is also GET \/v1\/a's/);
    expect(() => finishDocument({ paths: { "/v1/a": { get: op("getA") } } })).toThrow(/declares no security/);
    expect(() => finishDocument({ paths: { "/v1/a": { get: op("Get_A", bearer) } } })).toThrow(/camelCase/);
  });

  it("marks public operations with security: [] and every other one with the bearer scheme", () => {
    for (const [route, operation] of documentedRoutes()) {
      expect(operation.security, route).toEqual(expectedSecurity(route));
    }
  });

  it("declares x-request-id on every response, Retry-After on 429 and 503, and 503 where libSQL is read", () => {
    for (const [route, operation] of documentedRoutes()) {
      for (const [status, response] of Object.entries(operation.responses)) {
        const headers = Object.keys((response as { headers?: object }).headers ?? {});
        expect(headers, `${route} ${status}`).toContain("X-Request-Id");
        if (status === "429" || status === "503")
          expect(headers, `${route} ${status}`).toContain("Retry-After");
      }
      if (route !== "GET /.well-known/jwks.json")
        expect(Object.keys(operation.responses), route).toContain("503");
    }
    for (const name of ["X-Request-Id", "Retry-After", "ETag", "Location", "Deprecation", "Link"]) {
      expect(doc.components.headers[name], name).toBeDefined();
    }
  });

  it("declares the headers the API reads and sets where it reads and sets them", () => {
    const documented = documentedRoutes();
    const params = (route: string) =>
      ((documented.get(route)!.parameters ?? []) as Array<{ in: string; name: string; required?: boolean }>)
        .filter((p) => p.in === "header")
        .map((p) => `${p.name}${p.required ? "!" : ""}`);
    const headers = (route: string, status: string) =>
      Object.keys((documented.get(route)!.responses[status] as { headers?: object }).headers ?? {});
    expect(params("PATCH /v1/households/{id}")).toContain("if-match!");
    expect(params("POST /v1/cases/{id}/accept")).toContain("if-match!");
    expect(params("PATCH /v1/units/{id}")).toContain("if-match");
    expect(params("POST /v1/cases")).toContain("idempotency-key");
    expect(params("GET /v1/residents/{id}")).toEqual(expect.arrayContaining(["x-purpose", "x-purpose-ref"]));
    expect(headers("POST /v1/cases", "201")).toEqual(expect.arrayContaining(["ETag", "Location"]));
    expect(headers("POST /v1/households", "201")).toEqual(
      expect.arrayContaining(["ETag", "Location", "Deprecation", "Link"]),
    );
    expect(headers("POST /v1/cases/{id}/accept", "200")).toContain("ETag");
    expect(headers("POST /v1/cases/{id}/accept", "412")).toContain("ETag");
  });

  it("keeps request fields with a default optional, so generated clients need not send them", () => {
    for (const name of ["NewResident", "NewHousehold", "NewCase"]) {
      const schema = doc.components.schemas[name];
      const withDefault = Object.entries(schema.properties as Record<string, { default?: unknown }>)
        .filter(([, property]) => property.default !== undefined)
        .map(([field]) => field);
      expect(withDefault.length, name).toBeGreaterThan(0);
      for (const field of withDefault) expect(schema.required ?? [], `${name}.${field}`).not.toContain(field);
    }
  });
});

describe("/docs", () => {
  it("serves the interactive reference as HTML pointing at /openapi.json", async () => {
    const res = await call("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.text).toContain("/openapi.json");
  });
});
