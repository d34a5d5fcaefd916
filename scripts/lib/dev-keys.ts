import { exportJWK, generateKeyPair } from "jose";

/** A fresh ES256 signing key as a private JWK string with a `kid`, for local development and tests only. */
export async function generateJwtPrivateJwk(): Promise<string> {
  const { privateKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk = await exportJWK(privateKey);
  return JSON.stringify({ ...jwk, alg: "ES256", use: "sig", kid: `dev-${crypto.randomUUID().slice(0, 8)}` });
}

/** A fresh 256-bit key for the audit log's HMACs (AUDIT_KEY), base64. */
export function generateAuditKey(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64");
}

/** A fresh 256-bit key for personal-data encryption and lookup HMACs, base64. */
export function generatePiiKey(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64");
}
