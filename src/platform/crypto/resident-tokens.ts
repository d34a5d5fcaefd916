import { RESIDENT_TOKEN_TTL_SECONDS } from "../../domain/resident-channel";
import { signPlatformToken, TokenError, verifyPlatformToken } from "./tokens";

/** A resident (群众) calling through their own channel, from a verified resident token. */
export interface ResidentPrincipal {
  accountId: string;
  role: "resident";
  sessionEpoch: number;
}

/**
 * The audience of resident tokens: its own, so that the staff API (which checks `JWT_AUDIENCE`) refuses
 * every resident token, and the resident channel refuses every staff token.
 */
export function residentAudience(env: Cloudflare.Env): string {
  return `${env.JWT_AUDIENCE}:resident`;
}

/** Signs a resident's 1-hour ES256 access token (`aud` = the resident audience, `role: resident`). */
export function signResidentToken(
  env: Cloudflare.Env,
  accountId: string,
  sessionEpoch: number,
  now = Date.now(),
): Promise<string> {
  return signPlatformToken(
    env,
    { role: "resident", sep: sessionEpoch, amr: ["otp"] },
    { subject: accountId, audience: residentAudience(env), ttlSeconds: RESIDENT_TOKEN_TTL_SECONDS },
    now,
  );
}

/** Verifies a resident token: ES256, the platform's keys, `iss`, the resident `aud`, `typ`, `role: resident`. */
export async function verifyResidentToken(env: Cloudflare.Env, token: string): Promise<ResidentPrincipal> {
  const payload = await verifyPlatformToken(env, token, residentAudience(env));
  const { sub, role, sep } = payload as Record<string, unknown>;
  if (typeof sub !== "string" || role !== "resident" || !Number.isSafeInteger(sep)) {
    throw new TokenError("missing claims");
  }
  return { accountId: sub, role: "resident", sessionEpoch: sep as number };
}
