import {
  type CryptoKey,
  createLocalJWKSet,
  errors,
  importJWK,
  type JWK,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from "jose";
import { RESIDENT_TOKEN_TTL_SECONDS } from "../../domain/resident-channel";
import { ACCESS_TOKEN_TYPE, publicJwks, TokenError } from "./tokens";

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

const signers = new Map<string, Promise<{ kid: string; key: CryptoKey }>>();

function signer(env: Cloudflare.Env) {
  let found = signers.get(env.JWT_PRIVATE_JWK);
  if (!found) {
    found = (async () => {
      const jwk = JSON.parse(env.JWT_PRIVATE_JWK) as JWK;
      if (!jwk.kid) throw new Error("JWT_PRIVATE_JWK needs a kid");
      return { kid: jwk.kid, key: (await importJWK({ ...jwk, alg: "ES256" }, "ES256")) as CryptoKey };
    })();
    signers.set(env.JWT_PRIVATE_JWK, found);
    found.catch(() => signers.delete(env.JWT_PRIVATE_JWK));
  }
  return found;
}

/** Signs a resident's 1-hour ES256 access token (`aud` = the resident audience, `role: resident`). */
export async function signResidentToken(
  env: Cloudflare.Env,
  accountId: string,
  sessionEpoch: number,
  now = Date.now(),
): Promise<string> {
  const { kid, key } = await signer(env);
  const iat = Math.floor(now / 1000);
  return new SignJWT({ role: "resident", sep: sessionEpoch, amr: ["otp"] })
    .setProtectedHeader({ alg: "ES256", kid, typ: ACCESS_TOKEN_TYPE })
    .setSubject(accountId)
    .setIssuer(env.JWT_ISSUER)
    .setAudience(residentAudience(env))
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + RESIDENT_TOKEN_TTL_SECONDS)
    .setJti(crypto.randomUUID())
    .sign(key);
}

/** Verifies a resident token: ES256, the platform's keys, `iss`, the resident `aud`, `typ`, `role: resident`. */
export async function verifyResidentToken(env: Cloudflare.Env, token: string): Promise<ResidentPrincipal> {
  const verifier = createLocalJWKSet(await publicJwks(env));
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, verifier, {
      algorithms: ["ES256"],
      issuer: env.JWT_ISSUER,
      audience: residentAudience(env),
      typ: ACCESS_TOKEN_TYPE,
      requiredClaims: ["exp", "nbf", "iat", "sub"],
      clockTolerance: 5,
    }));
  } catch (error) {
    if (error instanceof errors.JOSEError) throw new TokenError(error.code);
    throw new TokenError("malformed token");
  }
  const { sub, role, sep } = payload as Record<string, unknown>;
  if (typeof sub !== "string" || role !== "resident" || !Number.isSafeInteger(sep)) {
    throw new TokenError("missing claims");
  }
  return { accountId: sub, role: "resident", sessionEpoch: sep as number };
}
