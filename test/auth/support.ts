import { env } from "cloudflare:workers";
import { signAccessToken } from "../../src/platform/crypto/tokens";
import { api, read } from "../support/client";
import type { TestUser } from "../support/helpers";

/** A fresh client address from the documentation range, so that no two tests share a throttle bucket. */
export function freshIp(): string {
  const n = crypto.getRandomValues(new Uint32Array(1))[0]!;
  return `2001:db8:${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}::1`;
}

/** POST /v1/auth/login from `ip`, read once. */
export async function loginFrom(username: string, password: string, ip: string, requestId?: string) {
  return read(
    await api(undefined, requestId ? { "x-request-id": requestId } : {}).v1.auth.login.$post({
      json: { username, password },
      header: { "cf-connecting-ip": ip },
    }),
  );
}

/** POST /v1/auth/login/second-factor from `ip`, read once. */
export async function answerChallenge(
  challenge: string,
  method: "totp" | "recovery",
  code: string,
  ip: string,
) {
  return read(
    await api().v1.auth.login["second-factor"].$post({
      json: { challenge, method, code },
      header: { "cf-connecting-ip": ip },
    }),
  );
}

/** An access token for a test user as a password-only login mints it (no second factor). */
export function passwordOnlyToken(user: TestUser): Promise<string> {
  return signAccessToken(env, {
    userId: user.id,
    username: user.username,
    role: user.role,
    unitId: user.unit.id,
    unitPath: user.unit.path,
    unitLevel: user.unit.level,
    amr: ["pwd"],
  });
}

/** The JSON payload of a JWT (not verified: the API verified it). */
export function jwtPayload(token: string): Record<string, unknown> {
  const part = token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(part)) as Record<string, unknown>;
}
