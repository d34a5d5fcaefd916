import { OpenAPIHono } from "@hono/zod-openapi";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "./env";
import { isDbOverloaded, isDbUnavailable } from "./platform/db/client";
import { authenticate } from "./platform/http/auth";
import { allowedMethods } from "./platform/http/methods";
import { limitBodies, requestContext, requireJson } from "./platform/http/middleware";
import { describeRoles } from "./platform/http/openapi";
import { finishDocument } from "./platform/http/openapi-document";
import { Problem, problemResponse } from "./platform/http/problem";
import { authenticateResident, isResidentPath } from "./platform/http/resident-auth";
import { timedMiddleware } from "./platform/http/timing";
import { api } from "./routes";

const PUBLIC_V1 = new Set(["/v1/auth/login", "/v1/auth/login/second-factor", "/v1/auth/refresh"]);

/** The village notice boards (村务公开): read without a token. */
const isPublicBoard = (path: string) => /^\/v1\/public\/units\/[^/]+\/notices$/.test(path);

export type { AppType } from "./routes";

/** The document's header; paths and components come from the routes. */
const DOCUMENT_CONFIG = {
  openapi: "3.1.0",
  info: {
    title: "grid321 API",
    version: "1.0.0",
    description:
      "The API of Ankang's 321 grassroots-governance platform (三线联系、网格化管理和精细化服务、一个平台). " +
      "Errors are RFC 9457 application/problem+json; every response carries `x-request-id`.",
    license: { name: "Proprietary: Ankang municipal government", identifier: "LicenseRef-Proprietary" },
  },
  servers: [{ url: "/" }],
};

const DOCS_CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'";
const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>grid321 API</title>
<link rel="stylesheet" href="/docs/vendor/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-spec="/openapi.json"></div>
<script src="/docs/vendor/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

/** Builds the grid321 Hono app: middleware, every resource router, `/openapi.json` and `/docs`. */
export function createApp() {
  const app = new OpenAPIHono<AppEnv>();

  app.use("*", requestContext());
  app.use("*", async (c, next) => {
    const origins = (c.env.CORS_ORIGINS ?? "")
      .split(",")
      .map((o) => o.trim())
      .filter(Boolean);
    return cors({
      origin: (origin) => (origins.includes(origin) || origins.includes("*") ? origin : null),
      allowHeaders: [
        "authorization",
        "content-type",
        "if-match",
        "idempotency-key",
        "x-purpose",
        "x-purpose-ref",
        "x-request-id",
      ],
      exposeHeaders: ["etag", "x-request-id", "retry-after", "location", "server-timing"],
      maxAge: 600,
    })(c, next);
  });
  app.use("*", limitBodies());
  app.use("*", requireJson());
  app.use(
    "/v1/*",
    timedMiddleware("auth", async (c, next) =>
      PUBLIC_V1.has(c.req.path) || isPublicBoard(c.req.path)
        ? next()
        : isResidentPath(c.req.path)
          ? authenticateResident()(c, next)
          : authenticate()(c, next),
    ),
  );

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "residentBearer", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description:
      "A resident token (audience `<JWT_AUDIENCE>:resident`, role `resident`) from POST /v1/resident/auth/tokens",
  });
  app.route("/", api);

  describeRoles(app);
  // Built on first request, then kept: finishDocument completes it and refuses an incomplete one (a missing
  // or shared operationId, an operation with no security), which fails every contract-checked test.
  let document: object | undefined;
  app.get("/openapi.json", (c) => {
    document ??= finishDocument(app.getOpenAPI31Document(DOCUMENT_CONFIG));
    return c.json(document);
  });
  // The interactive reference: Swagger UI from this Worker's static assets (public/docs/), no other origin.
  app.get("/docs", (c) => {
    c.header("content-security-policy", DOCS_CSP);
    return c.html(DOCS_HTML);
  });

  app.notFound((c) => {
    const allow = allowedMethods(app.routes, c.req.path);
    if (allow.length) {
      return problemResponse(
        c,
        new Problem(405, "method-not-allowed", `${c.req.method} is not allowed on ${c.req.path}`, {
          headers: { allow: allow.join(", ") },
        }),
      );
    }
    return problemResponse(c, new Problem(404, "not-found", `No route for ${c.req.method} ${c.req.path}`));
  });

  app.onError((error, c) => {
    if (error instanceof Problem) return problemResponse(c, error);
    if (error instanceof HTTPException) {
      const status = error.status;
      const slug = status === 413 ? "body-too-large" : status === 400 ? "malformed-body" : "http-error";
      return problemResponse(c, new Problem(status as 400, slug, error.message || "Bad request"));
    }
    if (isDbUnavailable(error)) {
      const overloaded = isDbOverloaded(error);
      console.error(
        JSON.stringify({
          requestId: c.get("requestId"),
          error: String(error),
          kind: overloaded ? "db-overloaded" : "db-unavailable",
        }),
      );
      return problemResponse(
        c,
        new Problem(
          503,
          "db-unavailable",
          overloaded
            ? "The database is overloaded; try again shortly"
            : "The database is unavailable; try again shortly",
          { headers: { "retry-after": overloaded ? "1" : "5" } },
        ),
      );
    }
    console.error(
      JSON.stringify({
        requestId: c.get("requestId"),
        error: String(error),
        causes: causesOf(error),
        stack: (error as Error)?.stack,
      }),
    );
    return problemResponse(c, new Problem(500, "internal", "Something went wrong on our side"));
  });

  return app;
}

/** The messages of an error's `cause` chain (drizzle wraps the driver's error, which wraps the fetch's). */
function causesOf(error: unknown): string[] {
  const causes: string[] = [];
  for (
    let e = (error as { cause?: unknown })?.cause;
    e && causes.length < 6;
    e = (e as { cause?: unknown }).cause
  )
    causes.push(`${(e as Error).name ?? "Error"}: ${(e as Error).message ?? String(e)}`);
  return causes;
}
