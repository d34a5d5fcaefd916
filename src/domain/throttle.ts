/** Failed logins allowed per (username, client IP) within the window before further attempts are refused. */
export const LOGIN_MAX_FAILURES = 5;
/** Failed logins allowed per client IP, over every username, within the window. */
export const LOGIN_MAX_FAILURES_PER_IP = 30;
/**
 * Failed logins allowed per username over every IP within the window: the ceiling an attacker spread over
 * many addresses reaches; reaching it refuses the username everywhere and alerts the city centre.
 */
export const LOGIN_MAX_FAILURES_PER_USERNAME = 50;
/** The login throttling window: 15 minutes. */
export const LOGIN_WINDOW_MS = 15 * 60 * 1000;
/** The client key used when a request carries no `cf-connecting-ip` (never on Cloudflare's edge). */
export const UNKNOWN_CLIENT_IP = "unknown";

/** The three buckets a login attempt counts in, and their ceilings. */
export const LOGIN_LIMITS = {
  pair: LOGIN_MAX_FAILURES,
  ip: LOGIN_MAX_FAILURES_PER_IP,
  username: LOGIN_MAX_FAILURES_PER_USERNAME,
} as const;
/** Which bucket refused an attempt. */
export type ThrottleBucket = keyof typeof LOGIN_LIMITS;

/**
 * Whether a login must be refused, given the times of recent failures in one bucket and its ceiling, and for
 * how many seconds (until the oldest failure that matters leaves the window).
 */
export function loginThrottle(
  failureTimes: number[],
  now: number,
  max: number = LOGIN_MAX_FAILURES,
): { blocked: boolean; retryAfterSeconds: number } {
  const recent = failureTimes.filter((t) => t > now - LOGIN_WINDOW_MS).sort((a, b) => a - b);
  if (recent.length < max) return { blocked: false, retryAfterSeconds: 0 };
  const oldestThatMatters = recent[recent.length - max]!;
  return {
    blocked: true,
    retryAfterSeconds: Math.max(1, Math.ceil((oldestThatMatters + LOGIN_WINDOW_MS - now) / 1000)),
  };
}

/**
 * Which bucket refuses an attempt (the one that frees up last), from the failure times in each: null when
 * none is full. The unknown-IP key has no per-IP bucket, so that requests without a client address cannot
 * lock every username out together.
 */
export function loginThrottleBucket(
  times: Record<ThrottleBucket, number[]>,
  ip: string,
  now: number,
): { bucket: ThrottleBucket; retryAfterSeconds: number } | null {
  let worst: { bucket: ThrottleBucket; retryAfterSeconds: number } | null = null;
  for (const bucket of Object.keys(LOGIN_LIMITS) as ThrottleBucket[]) {
    if (bucket === "ip" && ip === UNKNOWN_CLIENT_IP) continue;
    const t = loginThrottle(times[bucket], now, LOGIN_LIMITS[bucket]);
    if (t.blocked && (!worst || t.retryAfterSeconds > worst.retryAfterSeconds))
      worst = { bucket, retryAfterSeconds: t.retryAfterSeconds };
  }
  return worst;
}

/** The 15-minute bucket a moment falls in, so that a username's ceiling alerts once per window. */
export function throttleWindowStart(now: number): string {
  return new Date(Math.floor(now / LOGIN_WINDOW_MS) * LOGIN_WINDOW_MS).toISOString();
}
