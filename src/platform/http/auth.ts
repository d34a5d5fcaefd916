import type { Context, MiddlewareHandler } from "hono";
import { sessionStatesOf } from "../../db/repos/users";
import { type Action, can, rolesFor } from "../../domain/permissions";
import type { Role } from "../../domain/roles";
import { hasSecondFactor, secondFactorRequired } from "../../domain/second-factor";
import { inScope } from "../../domain/units";
import type { AppEnv, Principal } from "../../env";
import { TokenError, verifyAccessToken } from "../crypto/tokens";
import { isDbOverloaded, isDbUnavailable } from "../db/errors";
import { Problem, problems } from "./problem";

/** How long an isolate trusts a user's session state (disabled, epoch) before reading it again. */
export const SESSION_STATE_MAX_AGE_MS = 5_000;
/**
 * Past this age the next request of the user reads the state again while the user's other requests keep using
 * the cached one (still within `SESSION_STATE_MAX_AGE_MS`): without it every request in flight when the state
 * expired read it again, and a busy user's commands paid a libSQL read one time in three under load.
 */
const SESSION_STATE_REFRESH_AFTER_MS = 3_500;
const SESSION_CACHE_LIMIT = 10_000;
/**
 * When a user's state is read, the states of the isolate's other users active within this long and due for a
 * refresh are read with it, in the same query: with many users each writing now and then (a thousand grid
 * workers reporting), almost every write missed its own cache entry and paid a libSQL round trip.
 */
const SESSION_ACTIVE_MS = 60_000;
/** At most this many users' states in one read. */
const SESSION_READ_BATCH = 500;
/**
 * When the read taking other users along that is in flight began (null: none). One at a time, so that when
 * libSQL is slow the reads do not pile up carrying hundreds of users each (the others read only their own user
 * meanwhile); a read that never settled (its request was cancelled) stops counting after the state's max age.
 */
let readingAlongSince: number | null = null;
const readingAlong = (now: number) =>
  readingAlongSince !== null && now - readingAlongSince < SESSION_STATE_MAX_AGE_MS;

interface SessionState {
  disabled: boolean;
  sessionEpoch: number;
  at: number;
  /** A request is reading this user's state again (see `SESSION_STATE_REFRESH_AFTER_MS`). */
  refreshing?: boolean;
  /** When this isolate last checked a request of the user (epoch ms). */
  seen: number;
}

const sessionCache = new Map<string, SessionState>();

/**
 * Forgets a user's cached session state in this isolate, so that a revocation made here applies at once
 * (other isolates see it within `SESSION_STATE_MAX_AGE_MS`).
 */
export function forgetSessionState(userId: string): void {
  sessionCache.delete(userId);
}

/**
 * 401 unless the caller's account is enabled and their token was minted under the current session epoch:
 * disabling a user, resetting their password, role, unit or second factor raises it. Read through a
 * per-isolate cache at most `SESSION_STATE_MAX_AGE_MS` old.
 *
 * While libSQL is unreachable (not when it is only overloaded: then 503) the check uses the last state this
 * isolate read, however old, or lets the request through when it has none: case reports and commands must keep going in through their desks during
 * an outage, and every other write and every sensitive read needs libSQL and fails with 503 anyway. The
 * exposure is bounded by the access token's lifetime (15 minutes).
 */
export async function assertSessionCurrent(env: Cloudflare.Env, principal: Principal): Promise<void> {
  const now = Date.now();
  let state: SessionState | null | undefined = sessionCache.get(principal.userId);
  const age = state ? now - state.at : Number.POSITIVE_INFINITY;
  if (state) state.seen = now;
  if (!state || age > SESSION_STATE_MAX_AGE_MS) {
    state = await readSessionState(env, principal.userId, state, now);
    if (!state) return;
  } else if (age > SESSION_STATE_REFRESH_AFTER_MS && !state.refreshing) {
    state.refreshing = true;
    state = (await readSessionState(env, principal.userId, state, now)) ?? state;
  }
  if (state.disabled || (principal.sessionEpoch ?? 0) < state.sessionEpoch)
    throw problems.unauthorized("The session was revoked; log in again");
}

/**
 * Reads a user's session state and caches it as of `now` (when the read began), together with the states of
 * the isolate's other active users that are due for a refresh (`SESSION_ACTIVE_MS`): the bound stays the same
 * for every one of them, since each is stamped with the time the read began. While libSQL is unreachable it
 * keeps `cached`, or answers null (let the request through) when there is none. A state forgotten meanwhile (a
 * revocation in this isolate) is not put back by a read that may have begun before it.
 */
async function readSessionState(
  env: Cloudflare.Env,
  userId: string,
  cached: SessionState | undefined,
  now: number,
): Promise<SessionState | null> {
  const riders = readingAlong(now) ? new Map<string, SessionState>() : dueForRefresh(userId, now);
  for (const rider of riders.values()) rider.refreshing = true;
  if (riders.size > 0) readingAlongSince = now;
  let states: Awaited<ReturnType<typeof sessionStatesOf>>;
  try {
    states = await sessionStatesOf(env, [userId, ...riders.keys()]);
  } catch (error) {
    if (cached) cached.refreshing = false;
    for (const rider of riders.values()) rider.refreshing = false;
    if (riders.size > 0) readingAlongSince = null;
    // The others taken along keep their cached states: a failed read says nothing about them (putting them
    // back from this read's one row would mark every one of them disabled, and answer 401 to each for a while).
    riders.clear();
    // An overloaded libSQL (429) is up and answering others: going on without the check would let a revoked
    // token through whenever the database is busy, so the request fails with 503 and the client retries.
    if (!isDbUnavailable(error) || isDbOverloaded(error)) throw error;
    console.error(JSON.stringify({ kind: "session-check-skipped", userId, cached: !!cached }));
    if (!cached) return null;
    states = new Map([[userId, { disabled: cached.disabled, sessionEpoch: cached.sessionEpoch }]]);
  }
  const stateOf = (id: string, seen: number): SessionState => {
    const stored = states.get(id);
    return { disabled: stored?.disabled ?? true, sessionEpoch: stored?.sessionEpoch ?? 0, at: now, seen };
  };
  if (riders.size > 0) readingAlongSince = null;
  for (const [id, rider] of riders) {
    if (sessionCache.get(id) === rider) sessionCache.set(id, stateOf(id, rider.seen));
  }
  const state = stateOf(userId, now);
  if (cached && sessionCache.get(userId) !== cached) return state;
  if (sessionCache.size >= SESSION_CACHE_LIMIT) sessionCache.clear();
  sessionCache.set(userId, state);
  return state;
}

/** Other users seen within `SESSION_ACTIVE_MS` whose cached state is past the refresh age and not being read. */
function dueForRefresh(userId: string, now: number): Map<string, SessionState> {
  const due = new Map<string, SessionState>();
  for (const [id, state] of sessionCache) {
    if (due.size >= SESSION_READ_BATCH - 1) break;
    if (id === userId || state.refreshing) continue;
    if (now - state.seen <= SESSION_ACTIVE_MS && now - state.at > SESSION_STATE_REFRESH_AFTER_MS)
      due.set(id, state);
  }
  return due;
}

/**
 * 403 `second-factor-required` when the caller's role and level need a second factor (admin; centre staff
 * and leaders at county and city level) and their token was issued without one. Every reveal of personal
 * data and every search by ID number calls it (through `authenticate`, and callable again by a service).
 *
 * @example
 * requireSecondFactorForSensitive(actor.principal); // before unmasking
 */
export function requireSecondFactorForSensitive(principal: Principal): void {
  if (secondFactorRequired(principal.role, principal.unitLevel) && !hasSecondFactor(principal.amr))
    throw new Problem(
      403,
      "second-factor-required",
      "Your role needs a second factor for this: log in with your authenticator code (or enrol one first)",
    );
}

/** Writes a privileged user may make before a second factor is enrolled: enrolment itself, and logging out. */
const WRITES_BEFORE_SECOND_FACTOR = new Set([
  "/v1/auth/logout",
  "/v1/auth/second-factor/enrolment",
  "/v1/auth/second-factor/confirmation",
]);

const ID_NUMBER = /^\s*\d{17}[\dXx]\s*$/;

/**
 * Whether a request reads personal data unmasked: `reveal=true`, a stated purpose (`x-purpose`), or a
 * search by an exact ID number.
 */
export function isSensitiveRead(c: Context<AppEnv>): boolean {
  if (c.req.query("reveal") === "true" || c.req.header("x-purpose") !== undefined) return true;
  const q = c.req.query("q");
  return q !== undefined && ID_NUMBER.test(q);
}

const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Verifies the bearer token and puts the caller's principal on the context; 401 otherwise. Every write and
 * every sensitive read also checks that the session was not revoked since the token was minted (401), and
 * that a privileged caller passed a second factor (403): before enrolling one, such a caller may only read
 * (masked), enrol and log out.
 */
export function authenticate(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer ([A-Za-z0-9_\-.]{10,4096})$/.exec(header);
    if (!match) throw problems.unauthorized();
    let principal: Principal;
    try {
      principal = await verifyAccessToken(c.env, match[1]!);
    } catch (error) {
      if (error instanceof TokenError) throw problems.unauthorized("The access token is invalid or expired");
      throw error;
    }
    const write = !READ_METHODS.has(c.req.method);
    const sensitive = !write && isSensitiveRead(c);
    if (write || sensitive) await assertSessionCurrent(c.env, principal);
    if (sensitive || (write && !WRITES_BEFORE_SECOND_FACTOR.has(c.req.path)))
      requireSecondFactorForSensitive(principal);
    c.set("principal", principal);
    await next();
  };
}

/**
 * Lets through only the roles the permissions table allows `action`; 403 for everyone else.
 *
 * @example
 * createRoute({ ..., middleware: [authorize("units.write")] as const })
 */
export function authorize(action: Action): MiddlewareHandler<AppEnv> {
  const handler: MiddlewareHandler<AppEnv> = async (c, next) => {
    const principal = c.get("principal");
    if (!principal || !can(principal.role, action)) throw problems.forbidden();
    await next();
  };
  return Object.assign(handler, { action, roles: rolesFor(action) });
}

/** Lets only the listed roles through; 403 for everyone else. Prefer `authorize(action)`. */
export function requireRole(...roles: Role[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const principal = c.get("principal");
    if (!principal || !roles.includes(principal.role)) throw problems.forbidden();
    await next();
  };
}

/** The authenticated caller. */
export function principalOf(c: Context<AppEnv>): Principal {
  const principal = c.get("principal");
  if (!principal) throw problems.unauthorized();
  return principal;
}

/** Who asks and in which request: what services take for scope checks and the audit trail (`Caller`). */
export function callerOf(c: Context<AppEnv>): { principal: Principal; requestId: string } {
  return { principal: principalOf(c), requestId: c.get("requestId") };
}

/**
 * Throws 404 unless `path` is inside the caller's subtree: objects outside one's scope are answered
 * exactly as if they did not exist.
 */
export function assertInScope(
  principal: Principal,
  path: string | null | undefined,
  what = "resource",
): void {
  if (!path || !inScope(principal.unitPath, path)) throw problems.notFound(what);
}
