import type { Role } from "./roles";

/** Authentication methods a token records (RFC 8176): the password, and a one-time code. */
export type AuthMethod = "pwd" | "otp";

/** Levels at which centre staff and leaders are privileged. */
const PRIVILEGED_LEVELS = new Set(["city", "county"]);

/**
 * Whether a user must log in with a second factor (MLPS level 3 asks two factors for privileged users):
 * every admin, and centre staff and leaders at county and city level.
 */
export function secondFactorRequired(role: Role, unitLevel: string): boolean {
  if (role === "admin") return true;
  return (role === "center_staff" || role === "leader") && PRIVILEGED_LEVELS.has(unitLevel);
}

/** Whether a token's methods include a second factor. */
export function hasSecondFactor(amr: readonly AuthMethod[] | undefined): boolean {
  return amr?.includes("otp") ?? false;
}

/** How long the challenge a correct password earns stays valid: 5 minutes. */
export const LOGIN_CHALLENGE_TTL_SECONDS = 5 * 60;
/** How many recovery codes a confirmed factor gets. */
export const RECOVERY_CODE_COUNT = 10;
