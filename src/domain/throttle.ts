/** Failed logins allowed per username within the window before further attempts are refused. */
export const LOGIN_MAX_FAILURES = 5;
/** The login throttling window: 15 minutes. */
export const LOGIN_WINDOW_MS = 15 * 60 * 1000;

/**
 * Whether a login for a username must be refused, given the times of its recent failures, and for how many
 * seconds (until the oldest failure in the window leaves it).
 */
export function loginThrottle(
  failureTimes: number[],
  now: number,
): { blocked: boolean; retryAfterSeconds: number } {
  const recent = failureTimes.filter((t) => t > now - LOGIN_WINDOW_MS).sort((a, b) => a - b);
  if (recent.length < LOGIN_MAX_FAILURES) return { blocked: false, retryAfterSeconds: 0 };
  const oldestThatMatters = recent[recent.length - LOGIN_MAX_FAILURES]!;
  return {
    blocked: true,
    retryAfterSeconds: Math.max(1, Math.ceil((oldestThatMatters + LOGIN_WINDOW_MS - now) / 1000)),
  };
}
