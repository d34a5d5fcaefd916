import type { Context, MiddlewareHandler } from "hono";
import { type SessionChange, sessionChangesSince } from "../../db/repos/users";
import { type Action, can, rolesFor } from "../../domain/permissions";
import type { Role } from "../../domain/roles";
import { hasSecondFactor, secondFactorRequired } from "../../domain/second-factor";
import { inScope } from "../../domain/units";
import type { AppEnv, Principal } from "../../env";
import { ACCESS_TOKEN_TTL_SECONDS, TokenError, verifyAccessToken } from "../crypto/tokens";
import { isDbOverloaded, isDbUnavailable } from "../db/errors";
import { Problem, problems } from "./problem";

/** How old the isolate's view of session changes may be when a write or a reveal is checked against it. */
export const SESSION_STATE_MAX_AGE_MS = 5_000;
/**
 * Past this age the next request reads the changes again while the others go on with the view they have
 * (still within `SESSION_STATE_MAX_AGE_MS`), so under steady traffic no request waits for the read but one.
 */
const SESSION_REFRESH_AFTER_MS = 3_500;
/**
 * A change older than this cannot matter: every access token minted before it has expired. One minute more
 * than the token's lifetime, for the skew between the Worker's clock (the token's) and the database's (the
 * change's).
 */
const SESSION_CHANGE_HORIZON_MS = (ACCESS_TOKEN_TTL_SECONDS + 60) * 1000;
/** Each read starts this far before the database's clock at the last one: a change committed late is not missed. */
const SESSION_READ_OVERLAP_MS = 2_000;
/** Changes read at most in one round trip; a longer backlog (a mass revocation) is read in several. */
const SESSION_READ_LIMIT = 5_000;
const SESSION_READ_ROUNDS = 20;

/**
 * What this isolate knows of recent session changes: the state of every user whose `disabled` or session
 * epoch changed within `SESSION_CHANGE_HORIZON_MS`. A user absent from it has had the same state since before
 * any live token was minted, so every live token of theirs holds.
 */
const sessionLog = {
  states: new Map<string, SessionChange>(),
  /** The database's clock, less the overlap, from which the next read starts (null: none read yet). */
  since: null as number | null,
  /** When (isolate clock) the read behind the current view began. */
  readAt: Number.NEGATIVE_INFINITY,
  /** A read is in flight since then (null: none). */
  readingSince: null as number | null,
  /** Raised by a revocation in this isolate; a read begun before it does not count as fresh. */
  generation: 0,
};

/**
 * Makes the next write or reveal of any user read the session changes again, so that a revocation made in
 * this isolate applies at once (other isolates see it within `SESSION_STATE_MAX_AGE_MS`).
 */
export function forgetSessionState(_userId: string): void {
  sessionLog.readAt = Number.NEGATIVE_INFINITY;
  sessionLog.generation += 1;
}

/**
 * 401 unless the caller's account is enabled and their token was minted under the current session epoch:
 * disabling a user, resetting their password, role, unit or second factor raises it. Checked against the
 * isolate's view of recent session changes, at most `SESSION_STATE_MAX_AGE_MS` old: one libSQL read every few
 * seconds for the whole isolate, whatever the number of users writing.
 *
 * While libSQL is unreachable (not when it is only overloaded: then 503) the check uses the last view this
 * isolate read, however old, or lets the request through when it has none: case reports and commands must
 * keep going in through their desks during an outage, and every other write and every sensitive read needs
 * libSQL and fails with 503 anyway. The exposure is bounded by the access token's lifetime (15 minutes).
 */
export async function assertSessionCurrent(env: Cloudflare.Env, principal: Principal): Promise<void> {
  const now = Date.now();
  const age = now - sessionLog.readAt;
  if (age > SESSION_STATE_MAX_AGE_MS) {
    await awaitReadInFlight();
    if (Date.now() - sessionLog.readAt > SESSION_STATE_MAX_AGE_MS) await readOnce(env, Date.now(), true);
  } else if (age > SESSION_REFRESH_AFTER_MS && !readInFlight(now)) {
    await readOnce(env, now, false);
  }
  const state = sessionLog.states.get(principal.userId);
  if (state && (state.disabled || (principal.sessionEpoch ?? 0) < state.sessionEpoch))
    throw problems.unauthorized("The session was revoked; log in again");
}

/** Whether a read of the session changes is in flight (one that never settled stops counting after the max age). */
function readInFlight(now: number): boolean {
  return sessionLog.readingSince !== null && now - sessionLog.readingSince <= SESSION_STATE_MAX_AGE_MS;
}

/** Longest pause between two looks at a read in flight. */
const READ_WAIT_MAX_STEP_MS = 100;

/**
 * Waits while another request's read of the session changes is in flight, so that when libSQL is slow the
 * requests finding the view too old do not each read it again. It sleeps on its own timers rather than
 * awaiting the other request's promise: workerd cancels a request that waits on nothing of its own as hung.
 */
async function awaitReadInFlight(): Promise<void> {
  let step = 5;
  for (let waited = 0; waited < SESSION_STATE_MAX_AGE_MS && readInFlight(Date.now()); waited += step) {
    await new Promise((resolve) => setTimeout(resolve, step));
    step = Math.min(step * 2, READ_WAIT_MAX_STEP_MS);
  }
}

async function readOnce(env: Cloudflare.Env, now: number, required: boolean): Promise<void> {
  sessionLog.readingSince = now;
  try {
    await readSessionChanges(env, now, required);
  } finally {
    if (sessionLog.readingSince === now) sessionLog.readingSince = null;
  }
}

/**
 * Reads the session changes since the last read into the isolate's view. A read that must succeed (the view
 * is past its age) throws when libSQL is overloaded (503: a busy database is no reason to let a revoked token
 * through), and goes on with the old view when libSQL is unreachable; a read ahead of time fails quietly.
 */
async function readSessionChanges(env: Cloudflare.Env, now: number, required: boolean): Promise<void> {
  const generation = sessionLog.generation;
  try {
    for (let round = 0; round < SESSION_READ_ROUNDS; round++) {
      const read = await sessionChangesSince(
        env,
        sessionLog.since,
        SESSION_CHANGE_HORIZON_MS,
        SESSION_READ_LIMIT,
      );
      for (const change of read.changes) {
        const known = sessionLog.states.get(change.userId);
        // Reads may finish out of order: an older read does not put back an older state.
        if (!known || change.changedAt >= known.changedAt) sessionLog.states.set(change.userId, change);
      }
      const last = read.changes.at(-1);
      if (!read.complete && last) {
        sessionLog.since = Math.max(sessionLog.since ?? 0, last.changedAt);
        continue;
      }
      sessionLog.since = Math.max(sessionLog.since ?? 0, read.now - SESSION_READ_OVERLAP_MS);
      for (const [userId, change] of sessionLog.states) {
        if (change.changedAt < read.now - SESSION_CHANGE_HORIZON_MS) sessionLog.states.delete(userId);
      }
      if (generation === sessionLog.generation && now > sessionLog.readAt) sessionLog.readAt = now;
      return;
    }
  } catch (error) {
    if (!required) {
      console.error(JSON.stringify({ kind: "session-read-ahead-failed", error: String(error) }));
      return;
    }
    if (!isDbUnavailable(error) || isDbOverloaded(error)) throw error;
    console.error(JSON.stringify({ kind: "session-check-skipped", known: sessionLog.since !== null }));
  }
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
