/**
 * Signing of outgoing webhook bodies. The header `x-grid321-signature: t=<unix seconds>,v1=<hex>` carries
 * HMAC-SHA-256 over `"<t>.<body>"` with the endpoint's secret; receivers recompute it and reject stale `t`.
 */

export const SIGNATURE_HEADER = "x-grid321-signature";

async function hmacHex(secret: string, text: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(text));
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The signature header value for `body` sent at `timestamp` (unix seconds).
 *
 * @example
 * await signWebhook("whsec_…", '{"id":"…"}', 1767225600) // "t=1767225600,v1=5f0c…"
 */
export async function signWebhook(secret: string, body: string, timestamp: number): Promise<string> {
  return `t=${timestamp},v1=${await hmacHex(secret, `${timestamp}.${body}`)}`;
}

/**
 * Verifies a signature header as a receiver would: the MAC matches and `t` is within `toleranceSeconds` of
 * `now` (unix seconds). Comparison is constant-time over the hex digest.
 */
export async function verifyWebhookSignature(
  secret: string,
  body: string,
  header: string,
  now: number,
  toleranceSeconds = 300,
): Promise<boolean> {
  const parts = Object.fromEntries(
    header.split(",").map((kv) => {
      const i = kv.indexOf("=");
      return [kv.slice(0, i).trim(), kv.slice(i + 1).trim()];
    }),
  );
  const t = Number(parts.t);
  const given = parts.v1 ?? "";
  if (!Number.isInteger(t) || Math.abs(now - t) > toleranceSeconds) return false;
  const expected = await hmacHex(secret, `${t}.${body}`);
  if (given.length !== expected.length) return false;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ given.charCodeAt(i);
  return diff === 0;
}

/** Event kinds a centre may subscribe to: `case.<event type>` for the case events worth telling others about. */
export const WEBHOOK_EVENT_KINDS = [
  "case.reported",
  "case.accepted",
  "case.rejected",
  "case.merged",
  "case.dispatched",
  "case.resolved",
  "case.return_visited",
  "case.closed",
  "case.reopened",
  "case.warned",
  "case.overdue",
  "case.escalated",
  "case.supervised",
  "case.urged",
  "case.sent_down",
  "bulletin.published",
] as const;
export type WebhookEventKind = (typeof WEBHOOK_EVENT_KINDS)[number];

/** The webhook kind of a case event type, or null when such events are not offered to webhooks. */
export function webhookKindForCaseEvent(eventType: string): WebhookEventKind | null {
  const kind = `case.${eventType}`;
  return (WEBHOOK_EVENT_KINDS as readonly string[]).includes(kind) ? (kind as WebhookEventKind) : null;
}
