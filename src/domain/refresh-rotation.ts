/**
 * The rotation rule shared by staff and resident refresh tokens: a token is spent when it is exchanged for a
 * new pair of the same family (login). A spent token presented again means two parties hold it, so it is
 * taken as stolen and the whole family is revoked; a revoked, unknown or expired token is simply refused.
 */

/** What the rule needs of a stored refresh token. */
export interface StoredRefreshToken {
  expiresAt: string;
  rotatedAt: string | null;
  revokedAt: string | null;
}

/**
 * What to do with a presented refresh token: `rotate` it (spend it, issue the next of its family), refuse it as
 * `reused` (revoke the family, audit), or refuse it as `invalid` (unknown or revoked) or `expired`.
 *
 * @example
 * refreshVerdict({ expiresAt: "2027-01-01T00:00:00.000Z", rotatedAt: null, revokedAt: null }, "2026-12-01T00:00:00.000Z"); // "rotate"
 */
export function refreshVerdict(
  stored: StoredRefreshToken | null | undefined,
  nowIso: string,
): "rotate" | "reused" | "invalid" | "expired" {
  if (!stored || stored.revokedAt) return "invalid";
  if (stored.rotatedAt) return "reused";
  if (stored.expiresAt <= nowIso) return "expired";
  return "rotate";
}
