import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** One field-level validation failure, as carried in a problem's `errors` array. */
export interface FieldError {
  path: string;
  message: string;
}

/** The RFC 9457 problem body every grid321 error uses. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  412: "Precondition Failed",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  428: "Precondition Required",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

/**
 * An error that the error handler turns into an `application/problem+json` response.
 *
 * @example
 * throw new Problem(409, "unit-has-children", "The unit still has children");
 */
export class Problem extends Error {
  readonly status: ContentfulStatusCode;
  readonly slug: string;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string>;
  readonly extensions: Record<string, unknown>;

  constructor(
    status: ContentfulStatusCode,
    slug: string,
    detail: string,
    options: {
      errors?: FieldError[];
      headers?: Record<string, string>;
      extensions?: Record<string, unknown>;
    } = {},
  ) {
    super(detail);
    this.name = "Problem";
    this.status = status;
    this.slug = slug;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
    this.extensions = options.extensions ?? {};
  }
}

/** Shorthands for the problems handlers raise most. */
export const problems = {
  badRequest: (detail: string, errors?: FieldError[]) => new Problem(400, "bad-request", detail, { errors }),
  unauthorized: (detail = "A valid bearer token is required") =>
    new Problem(401, "unauthorized", detail, { headers: { "www-authenticate": 'Bearer realm="grid321"' } }),
  forbidden: (detail = "Your role may not do this") => new Problem(403, "forbidden", detail),
  notFound: (what = "resource") => new Problem(404, "not-found", `No such ${what}`),
  conflict: (slug: string, detail: string, extensions?: Record<string, unknown>) =>
    new Problem(409, slug, detail, { extensions }),
  preconditionFailed: (detail: string, extensions?: Record<string, unknown>) =>
    new Problem(412, "stale-version", detail, { extensions }),
  preconditionRequired: (detail = "This command requires an If-Match header with the current version") =>
    new Problem(428, "if-match-required", detail),
};

/** Builds the problem body for a status, slug and detail. */
export function problemBody(
  status: number,
  slug: string,
  detail: string,
  instance: string | undefined,
  extra: Record<string, unknown> = {},
): ProblemBody {
  return {
    type: `https://grid321.ankang.gov.cn/problems/${slug}`,
    title: TITLES[status] ?? "Error",
    status,
    detail,
    ...(instance ? { instance } : {}),
    ...extra,
  };
}

/** Writes a problem response on a Hono context. */
export function problemResponse(c: Context, problem: Problem): Response {
  const body = problemBody(problem.status, problem.slug, problem.message, c.req.path, {
    ...problem.extensions,
    ...(problem.errors ? { errors: problem.errors } : {}),
  });
  return new Response(JSON.stringify(body), {
    status: problem.status,
    headers: { "content-type": "application/problem+json", ...problem.headers },
  });
}
