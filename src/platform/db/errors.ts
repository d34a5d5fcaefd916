import { LibsqlError } from "@libsql/client/web";

/**
 * libSQL could not be reached: the request to it never got an answer (refused, reset, timed out). Thrown by
 * the client's own `fetch`, so an outage is told apart by its class, never by an error's text.
 */
export class DbUnavailableError extends Error {
  constructor(cause: unknown) {
    super("libSQL is unreachable", { cause });
    this.name = "DbUnavailableError";
  }
}

/** What kind of database failure an error is, from `LibsqlError.code` and the error classes alone. */
export type DbErrorKind =
  /** The database could not be reached, answered 5xx, or refused the request as overloaded (429): try again later (503). */
  | "unavailable"
  /** A constraint refused the write: UNIQUE, CHECK, NOT NULL, FOREIGN KEY or a trigger's RAISE(ABORT). */
  | "constraint"
  /** The statement itself is wrong (no such column, syntax): a bug on our side (500). */
  | "statement"
  /** Not a database error. */
  | "other";

const UNAVAILABLE_CODES = new Set(["HRANA_CLOSED_ERROR", "HRANA_WEBSOCKET_ERROR", "CLIENT_CLOSED"]);

/** Walks `cause` links (drizzle wraps driver errors in its own) to the first `LibsqlError`, if any. */
function libsqlErrorIn(error: unknown): LibsqlError | DbUnavailableError | null {
  for (let e = error, depth = 0; e && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof DbUnavailableError || e instanceof LibsqlError) return e;
  }
  return null;
}

/**
 * Classifies a database error by its code.
 *
 * @example
 * if (dbErrorKind(error) === "constraint") throw problems.conflict("duplicate", "Already registered");
 */
export function dbErrorKind(error: unknown): DbErrorKind {
  const e = libsqlErrorIn(error);
  if (!e) return "other";
  if (e instanceof DbUnavailableError) return "unavailable";
  if (UNAVAILABLE_CODES.has(e.code)) return "unavailable";
  if (e.code === "SERVER_ERROR") {
    // The HTTP client reports a non-2xx answer as SERVER_ERROR with the status on its cause. sqld answers 429
    // when more requests are in flight than it serves at once (`--max-concurrent-requests`): an overload, not
    // a bug, so it is a 503 with Retry-After like an outage.
    const status = serverStatusOf(e);
    return status !== null && (status >= 500 || status === 429) ? "unavailable" : "statement";
  }
  if (e.code === "SQLITE_CONSTRAINT" || e.code.startsWith("SQLITE_CONSTRAINT_")) return "constraint";
  if (e.code === "SQLITE_BUSY" || e.code === "SQLITE_LOCKED") return "unavailable";
  return "statement";
}

/** The HTTP status of a libSQL `SERVER_ERROR` (on its cause), or null. */
function serverStatusOf(e: LibsqlError): number | null {
  const status = (e.cause as { status?: unknown } | undefined)?.status;
  return typeof status === "number" ? status : null;
}

/**
 * Whether libSQL refused the request because it had too many in flight (HTTP 429). It is reachable and was
 * answering, so unlike an outage this is no reason to go on without it: checks that may be skipped while libSQL
 * is down (the session check) must refuse with 503 instead.
 */
export function isDbOverloaded(error: unknown): boolean {
  const e = libsqlErrorIn(error);
  return e instanceof LibsqlError && e.code === "SERVER_ERROR" && serverStatusOf(e) === 429;
}

/** Whether libSQL was unreachable (answered 503 with Retry-After). */
export function isDbUnavailable(error: unknown): boolean {
  return dbErrorKind(error) === "unavailable";
}

/**
 * Whether a constraint refused the write. sqld reports every constraint as `SQLITE_CONSTRAINT` without an
 * extended code, so callers that must tell a duplicate from a guard write `ON CONFLICT … DO NOTHING` and
 * count the rows instead.
 */
export function isConstraintViolation(error: unknown): boolean {
  return dbErrorKind(error) === "constraint";
}

/** A `fetch` for the libSQL client that turns a failed round trip into `DbUnavailableError`. */
export function fetchReportingOutages(fetcher: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    try {
      return await fetcher(input, init);
    } catch (error) {
      if (init?.signal?.aborted) throw error;
      throw new DbUnavailableError(error);
    }
  };
}
