import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { Problem, problems } from "./problem";

const VERSION = /^(?:W\/)?"?(\d{1,9})"?$/;

/**
 * The `If-Match` header as every versioned write declares it. Whether it is required is stated per route
 * (`ifMatchHeader(true)`): the statuses are the same everywhere.
 */
export function ifMatchHeader(required: boolean) {
  const header = z
    .string()
    .max(40)
    .openapi({
      description: required
        ? 'The current version (ETag), e.g. "3". Required: 428 without it, 400 when malformed, 412 when stale.'
        : 'The version (ETag) you last read, e.g. "3": 400 when malformed, 412 when stale. Without it the write is unconditional.',
      example: '"3"',
    });
  // Validation never requires the header: a missing one must reach `requiredVersion` and answer 428, not a
  // 400 from the validator. The document still marks it required where it is.
  return z.object({
    "if-match": required ? header.optional().openapi({ param: { required: true } }) : header.optional(),
  });
}

function parse(header: string | undefined): number | null {
  if (header === undefined) return null;
  const trimmed = header.trim();
  if (trimmed === "") return null;
  const match = VERSION.exec(trimmed);
  if (!match) {
    throw problems.badRequest('If-Match must be a version ETag such as "3"', [
      { path: "header.if-match", message: "not a version" },
    ]);
  }
  return Number(match[1]);
}

/**
 * The version a write must find, from `If-Match`: 428 when missing or empty, 400 when malformed.
 *
 * @example
 * const expected = requiredVersion(c.req.header("if-match"));
 */
export function requiredVersion(header: string | undefined): number {
  const version = parse(header);
  if (version === null) throw problems.preconditionRequired();
  return version;
}

/** The version a write must find when the client sent one (null when it sent none); 400 when malformed. */
export function optionalVersion(header: string | undefined): number | null {
  return parse(header);
}

/**
 * The 412 for a write whose expected version is not the stored one, or that lost its version to a
 * concurrent writer. Carries the current version (when known) as `currentVersion` and as the ETag.
 */
export function staleVersion(currentVersion?: number | null, what = "resource"): Problem {
  return new Problem(412, "stale-version", `The ${what} has changed; read it again and retry`, {
    ...(currentVersion != null
      ? { extensions: { currentVersion }, headers: { etag: etagOf(currentVersion) } }
      : {}),
  });
}

/** Throws the 412 unless `expected` (when given) is the stored version. */
export function checkVersion(expected: number | null, current: number, what = "resource"): void {
  if (expected !== null && expected !== current) throw staleVersion(current, what);
}

/** The strong ETag of a version. */
export function etagOf(version: number): string {
  return `"${version}"`;
}

/** Sets the response's ETag to a version. */
export function setEtag(c: Context, version: number): void {
  c.header("etag", etagOf(version));
}
