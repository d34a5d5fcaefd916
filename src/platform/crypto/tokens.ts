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
import { ROLES, type Role } from "../../domain/roles";
import type { AuthMethod } from "../../domain/second-factor";
import type { Principal } from "../../env";

/** Access tokens live 15 minutes. */
export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
/** Refresh tokens live 30 days, rotating on every use. */
export const REFRESH_TOKEN_TTL_SECONDS = 30 * 24 * 3600;
/** The JWT `typ` header of grid321 access tokens (RFC 9068). */
export const ACCESS_TOKEN_TYPE = "at+jwt";

interface KeyMaterial {
  kid: string;
  privateKey: CryptoKey;
  jwks: { keys: JWK[] };
  verifier: ReturnType<typeof createLocalJWKSet>;
}

const keyCache = new Map<string, Promise<KeyMaterial>>();

function publicPart(jwk: JWK): JWK {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = jwk;
  return { ...pub, alg: "ES256", use: "sig" };
}

async function loadKeys(env: Cloudflare.Env): Promise<KeyMaterial> {
  const cacheKey = `${env.JWT_PRIVATE_JWK}|${env.JWT_PREVIOUS_PUBLIC_JWKS ?? ""}`;
  let material = keyCache.get(cacheKey);
  if (!material) {
    material = (async () => {
      if (!env.JWT_PRIVATE_JWK) throw new Error("JWT_PRIVATE_JWK is not configured");
      const jwk = JSON.parse(env.JWT_PRIVATE_JWK) as JWK;
      if (!jwk.kid) throw new Error("JWT_PRIVATE_JWK needs a kid");
      const privateKey = (await importJWK({ ...jwk, alg: "ES256" }, "ES256")) as CryptoKey;
      const previous = env.JWT_PREVIOUS_PUBLIC_JWKS
        ? (JSON.parse(env.JWT_PREVIOUS_PUBLIC_JWKS) as JWK[])
        : [];
      const jwks = { keys: [publicPart(jwk), ...previous.map(publicPart)] };
      return { kid: jwk.kid, privateKey, jwks, verifier: createLocalJWKSet(jwks) };
    })();
    keyCache.set(cacheKey, material);
    material.catch(() => keyCache.delete(cacheKey));
  }
  return material;
}

/** The public signing keys, for `/.well-known/jwks.json`. */
export async function publicJwks(env: Cloudflare.Env): Promise<{ keys: JWK[] }> {
  return (await loadKeys(env)).jwks;
}

/**
 * Signs a 15-minute ES256 access token for a principal, recording how the user authenticated (`amr`, `["pwd"]`
 * unless given) and their session epoch (`sep`).
 */
export async function signAccessToken(
  env: Cloudflare.Env,
  principal: Principal,
  now = Date.now(),
): Promise<string> {
  return signPlatformToken(
    env,
    {
      role: principal.role,
      unit: principal.unitId,
      path: principal.unitPath,
      lvl: principal.unitLevel,
      name: principal.username,
      amr: principal.amr ?? ["pwd"],
      sep: principal.sessionEpoch ?? 0,
    },
    { subject: principal.userId, audience: env.JWT_AUDIENCE, ttlSeconds: ACCESS_TOKEN_TTL_SECONDS },
    now,
  );
}

/**
 * Signs an ES256 access token with the platform's key (`typ` at+jwt, `iss`, `iat`/`nbf`/`exp`, a fresh
 * `jti`): the one signer of staff and resident tokens, which differ in audience, lifetime and claims.
 */
export async function signPlatformToken(
  env: Cloudflare.Env,
  claims: JWTPayload,
  token: { subject: string; audience: string; ttlSeconds: number },
  now = Date.now(),
): Promise<string> {
  const { kid, privateKey } = await loadKeys(env);
  const iat = Math.floor(now / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "ES256", kid, typ: ACCESS_TOKEN_TYPE })
    .setSubject(token.subject)
    .setIssuer(env.JWT_ISSUER)
    .setAudience(token.audience)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + token.ttlSeconds)
    .setJti(crypto.randomUUID())
    .sign(privateKey);
}

const AUTH_METHODS: readonly unknown[] = ["pwd", "otp"] satisfies AuthMethod[];

/** Why a token was refused, for logs (the client always sees a plain 401). */
export class TokenError extends Error {}

/**
 * Verifies an access token: ES256 only, key chosen by `kid`, `iss`, `aud`, `exp`, `nbf` and `typ` checked.
 */
export async function verifyAccessToken(env: Cloudflare.Env, token: string): Promise<Principal> {
  const payload = await verifyPlatformToken(env, token, env.JWT_AUDIENCE);
  const { sub, role, unit, path, lvl, name, amr, sep } = payload as Record<string, unknown>;
  const methods = amr === undefined ? ["pwd"] : amr;
  if (
    !Array.isArray(methods) ||
    !methods.every((m) => AUTH_METHODS.includes(m)) ||
    (sep !== undefined && !Number.isSafeInteger(sep)) ||
    typeof sub !== "string" ||
    typeof unit !== "string" ||
    typeof path !== "string" ||
    typeof lvl !== "string" ||
    typeof name !== "string" ||
    !ROLES.includes(role as Role)
  ) {
    throw new TokenError("missing claims");
  }
  return {
    userId: sub,
    role: role as Role,
    unitId: unit,
    unitPath: path,
    unitLevel: lvl,
    username: name,
    amr: methods as AuthMethod[],
    sessionEpoch: (sep as number | undefined) ?? 0,
  };
}

/**
 * Verifies a token signed by {@link signPlatformToken} for `audience`: ES256 only, key chosen by `kid` among the
 * current and previous public keys, `iss`, `aud`, `exp`, `nbf` and `typ` checked. Claims are the caller's to check.
 */
export async function verifyPlatformToken(
  env: Cloudflare.Env,
  token: string,
  audience: string,
): Promise<JWTPayload> {
  const { verifier } = await loadKeys(env);
  try {
    const { payload } = await jwtVerify(token, verifier, {
      algorithms: ["ES256"],
      issuer: env.JWT_ISSUER,
      audience,
      typ: ACCESS_TOKEN_TYPE,
      requiredClaims: ["exp", "nbf", "iat", "sub"],
      clockTolerance: 5,
    });
    return payload;
  } catch (error) {
    if (error instanceof errors.JOSEError) throw new TokenError(error.code);
    throw new TokenError("malformed token");
  }
}

/** SHA-256 of a string as lowercase hex. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A new opaque refresh token (256 random bits, base64url). */
export function newRefreshToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
