import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "../../env";
import { bodyLimitFor, isRawBodyPath } from "./limits";
import { Problem } from "./problem";
import { RequestTimings, withTimings } from "./timing";

const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * Gives every request an id (the client's `x-request-id` if well-formed, else a new UUID), echoes it on
 * the response with a `Server-Timing` header (see `./timing`), and logs one JSON line per request.
 */
export function requestContext(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = Date.now();
    const incoming = c.req.header("x-request-id");
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    c.set("requestId", requestId);
    const timings = new RequestTimings();
    try {
      await withTimings(timings, next);
    } finally {
      c.res.headers.set("x-request-id", requestId);
      c.res.headers.set("server-timing", timings.header());
      const principal = c.get("principal");
      console.log(
        JSON.stringify({
          at: new Date(started).toISOString(),
          requestId,
          method: c.req.method,
          path: c.req.path,
          status: c.res.status,
          ms: Date.now() - started,
          user: principal?.userId,
          role: principal?.role,
        }),
      );
    }
  };
}

/** Rejects write bodies that are not JSON (415), except raw-upload paths. */
export function requireJson(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const method = c.req.method;
    if ((method === "POST" || method === "PUT" || method === "PATCH") && !isRawBodyPath(c.req.path)) {
      const length = c.req.header("content-length");
      const hasBody =
        (length !== undefined && length !== "0") || c.req.header("transfer-encoding") !== undefined;
      const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
      if (hasBody && type !== "application/json" && !type.endsWith("+json")) {
        throw new Problem(415, "unsupported-media-type", "Request bodies must be application/json");
      }
    }
    await next();
  };
}

/** Enforces the per-path body limit (1 MiB by default), answering 413. */
export function limitBodies(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const maxSize = bodyLimitFor(c.req.path);
    const limiter = bodyLimit({
      maxSize,
      onError: () => {
        throw new Problem(413, "body-too-large", `The request body exceeds ${maxSize} bytes`);
      },
    });
    return limiter(c, next);
  };
}
