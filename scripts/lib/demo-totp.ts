/**
 * The demo users' TOTP secrets for local development: kept in `.data/totp-secrets.json` (beside the local
 * database and dev.vars, never committed), so that `npm run totp:code -- admin` prints the code an
 * authenticator app would show, and scripts can log in as `admin` through the second factor.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { InStatement } from "@libsql/client/web";
import { base32Decode, base32Encode, totp } from "../../src/domain/totp";
import { sealTotpSecret } from "../../src/platform/crypto/totp-secret";
import { DEV_VARS_PATH, parseDevVars } from "./dev-vars";

/** Where the demo users' TOTP secrets (base32) are kept. */
export const DEMO_TOTP_PATH = new URL("../../.data/totp-secrets.json", import.meta.url).pathname;

function readSecrets(): Record<string, string> {
  return existsSync(DEMO_TOTP_PATH)
    ? (JSON.parse(readFileSync(DEMO_TOTP_PATH, "utf8")) as Record<string, string>)
    : {};
}

/** The demo user's TOTP secret, created (160 random bits) and saved on first use. */
export function demoTotpSecret(username: string): Uint8Array {
  const secrets = readSecrets();
  let secret = secrets[username];
  if (!secret) {
    secret = base32Encode(crypto.getRandomValues(new Uint8Array(20)));
    secrets[username] = secret;
    mkdirSync(dirname(DEMO_TOTP_PATH), { recursive: true });
    writeFileSync(DEMO_TOTP_PATH, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  }
  return base32Decode(secret);
}

/** The current code of a demo user (by username) or of a base32 secret given directly. */
export function currentCode(usernameOrSecret: string, now = Date.now()): Promise<string> {
  const known = readSecrets()[usernameOrSecret];
  if (known) return totp(base32Decode(known), now);
  if (/^[A-Z2-7]{16,}$/i.test(usernameOrSecret)) return totp(base32Decode(usernameOrSecret), now);
  throw new Error(`no TOTP secret for ${usernameOrSecret} in ${DEMO_TOTP_PATH}; run npm run dev once`);
}

/**
 * Logs in through the API at `base`, answering a second-factor challenge with the local secret (or
 * `GRID321_TOTP_SECRET` for a non-demo instance); returns the token pair's body.
 */
export async function loginWithSecondFactor(
  base: string,
  username: string,
  password: string,
): Promise<{ accessToken: string; user: { unitId: string } }> {
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${path} as ${username}: ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, unknown>;
  };
  const first = await post("/v1/auth/login", { username, password });
  if (typeof first.challenge !== "string") return first as { accessToken: string; user: { unitId: string } };
  const code = await currentCode(process.env.GRID321_TOTP_SECRET ?? username);
  return (await post("/v1/auth/login/second-factor", {
    challenge: first.challenge,
    method: "totp",
    code,
  })) as { accessToken: string; user: { unitId: string } };
}

/** The demo users enrolled with a second factor by the seed (the others that need one enrol themselves). */
export const DEMO_SECOND_FACTOR_USERS = ["admin"] as const;

function piiKey(): string {
  const key =
    process.env.PII_KEY ??
    (existsSync(DEV_VARS_PATH)
      ? parseDevVars(readFileSync(DEV_VARS_PATH, "utf8")).get("PII_KEY")
      : undefined);
  if (!key)
    throw new Error("PII_KEY is neither in the environment nor in .data/dev.vars; run npm run dev once");
  return key;
}

/**
 * The upserts enrolling the demo users' confirmed TOTP factors with the local secrets (sealed under PII_KEY as
 * the API seals them): the local file stays the truth, so `npm run totp:code -- admin` always matches.
 */
export async function demoSecondFactorStatements(
  users: Array<{ id: string; username: string }>,
): Promise<InStatement[]> {
  const now = new Date().toISOString();
  const out: InStatement[] = [];
  for (const user of users) {
    if (!(DEMO_SECOND_FACTOR_USERS as readonly string[]).includes(user.username)) continue;
    const sealed = await sealTotpSecret({ PII_KEY: piiKey() }, user.id, demoTotpSecret(user.username));
    out.push({
      sql: `INSERT INTO user_second_factors (user_id, secret_enc, confirmed_at, last_used_step, created_at, updated_at)
            VALUES (?, ?, ?, NULL, ?, ?)
            ON CONFLICT (user_id) DO UPDATE SET secret_enc = excluded.secret_enc, confirmed_at = excluded.confirmed_at,
              last_used_step = NULL, updated_at = excluded.updated_at`,
      args: [user.id, sealed, now, now, now],
    });
  }
  return out;
}
