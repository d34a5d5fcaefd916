import { devCodes, sinkDevCode } from "../db/repos/resident-accounts";
import { getDb } from "../platform/db/client";
import { Problem } from "../platform/http/problem";

/** Sends a resident's sign-in code to their mobile number. */
export interface CodeSender {
  send(mobile: string, code: string): Promise<void>;
}

/** Environments where codes may go to the local sink instead of a real SMS provider. */
const LOCAL_ENVIRONMENTS: readonly string[] = ["development", "test"];

/** Whether this Worker runs locally (development or tests), where the code sink may be read. */
export function isLocalEnvironment(env: Cloudflare.Env): boolean {
  return LOCAL_ENVIRONMENTS.includes(env.ENVIRONMENT as string);
}

const unavailable = () =>
  new Problem(503, "code-sender-unavailable", "The code could not be sent; try again shortly", {
    headers: { "retry-after": "30" },
  });

/**
 * The production sender: a POST of `{ mobile, code, template }` to the provider's HTTPS API with the
 * credential held as a secret. A refusal or an unreachable provider is a 503 (the code is already stored; a
 * new request replaces it).
 */
export function httpsCodeSender(url: string, token: string | undefined): CodeSender {
  return {
    async send(mobile, code) {
      let res: Response;
      try {
        res = await fetch(url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
          body: JSON.stringify({ mobile, code, template: "grid321-sign-in" }),
        });
      } catch {
        throw unavailable();
      }
      await res.body?.cancel();
      if (!res.ok) throw unavailable();
    },
  };
}

/** The local sink: codes land in `resident_dev_codes`, read with `GET /v1/resident/dev/codes`. */
export function devSinkCodeSender(env: Cloudflare.Env): CodeSender {
  return { send: (mobile, code) => sinkDevCode(getDb(env), mobile, code, new Date().toISOString()) };
}

/**
 * The sender for this environment: the HTTPS provider when `RESIDENT_CODE_SENDER_URL` is set (it must be
 * https), else the local sink in development and tests; in production without a provider, 503.
 */
export function codeSenderFor(env: Cloudflare.Env): CodeSender {
  const url = env.RESIDENT_CODE_SENDER_URL;
  if (url) {
    if (!url.startsWith("https://")) throw unavailable();
    return httpsCodeSender(url, env.RESIDENT_CODE_SENDER_TOKEN);
  }
  if (isLocalEnvironment(env)) return devSinkCodeSender(env);
  throw unavailable();
}

/** The latest codes the development sink holds for a mobile number, newest first (local environments only). */
export async function sinkCodesFor(env: Cloudflare.Env, mobile: string) {
  return devCodes(getDb(env), mobile);
}
