import { base32Decode, base32Encode } from "../../domain/totp";
import { decryptPii, encryptPii, piiKeys } from "./pii";

function sealContext(userId: string): string {
  return `user_second_factors:${userId}:secret`;
}

/** Seals a TOTP secret like an ID number: AES-256-GCM under PII_KEY, bound to its user. */
export async function sealTotpSecret(
  env: Pick<Cloudflare.Env, "PII_KEY">,
  userId: string,
  secret: Uint8Array,
): Promise<string> {
  return encryptPii(await piiKeys(env.PII_KEY), base32Encode(secret), sealContext(userId));
}

/** Opens a sealed TOTP secret; throws if it was altered or moved to another user. */
export async function openTotpSecret(
  env: Pick<Cloudflare.Env, "PII_KEY">,
  userId: string,
  sealed: string,
): Promise<Uint8Array> {
  return base32Decode(await decryptPii(await piiKeys(env.PII_KEY), sealed, sealContext(userId)));
}
