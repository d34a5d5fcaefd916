import { pathIds } from "../../domain/units";
import type { WebhookEventKind } from "../../domain/webhook-signature";
import type { Db } from "../../platform/db/client";

/**
 * Webhook endpoints and their secrets. A secret is shown once when the endpoint is registered and stored
 * sealed with AES-256-GCM under a key derived (HKDF, its own `info`) from `PII_KEY`, bound to the endpoint id.
 */

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function sealingKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = (async () => {
      const raw = Uint8Array.from(atob(secret.trim()), (c) => c.charCodeAt(0));
      const base = await crypto.subtle.importKey("raw", raw, "HKDF", false, ["deriveKey"]);
      return crypto.subtle.deriveKey(
        {
          name: "HKDF",
          hash: "SHA-256",
          salt: new Uint8Array(0),
          info: encoder.encode("grid321 webhook secret v1"),
        },
        base,
        { name: "AES-GCM", length: 256 },
        false,
        ["encrypt", "decrypt"],
      );
    })();
    keys.set(secret, key);
  }
  return key;
}

const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const unb64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

/** A new endpoint secret: 32 random bytes, base64url, prefixed `whsec_`. */
export function newWebhookSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `whsec_${b64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")}`;
}

/** Seals an endpoint secret for storage (`v1.<iv>.<ciphertext>`), bound to the endpoint id. */
export async function sealWebhookSecret(
  env: Pick<Cloudflare.Env, "PII_KEY">,
  endpointId: string,
  secret: string,
) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(endpointId) },
    await sealingKey(env.PII_KEY),
    encoder.encode(secret),
  );
  return `v1.${b64(iv)}.${b64(new Uint8Array(ct))}`;
}

/** Opens a sealed endpoint secret. */
export async function openWebhookSecret(
  env: Pick<Cloudflare.Env, "PII_KEY">,
  endpointId: string,
  sealed: string,
): Promise<string> {
  const [version, iv, ct] = sealed.split(".");
  if (version !== "v1" || !iv || !ct) throw new Error("unknown sealed secret format");
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: unb64(iv), additionalData: encoder.encode(endpointId) },
    await sealingKey(env.PII_KEY),
    unb64(ct),
  );
  return new TextDecoder().decode(plain);
}

/** An event offered to webhooks. */
export interface WebhookEvent {
  /** Stable id: the same event enqueued twice is delivered (and recorded) once per endpoint. */
  id: string;
  kind: WebhookEventKind;
  at: string;
  /** The unit path the event happened under; endpoints of that unit and of every unit above it receive it. */
  unitPath: string;
  caseId: string | null;
  data: Record<string, unknown>;
}

/** What the `webhooks` queue carries: one delivery of one event to one endpoint. */
export interface WebhookDeliveryMessage {
  endpointId: string;
  /** The unit that registered the endpoint (where a dead delivery is reported). */
  unitId: string;
  event: WebhookEvent;
}

/**
 * Enqueues one delivery per (event, subscribed active endpoint) on the `webhooks` queue: endpoints registered
 * at the event's unit or any unit above it that subscribed to its kind. One libSQL read for all events.
 * Returns the number of deliveries enqueued.
 *
 * @example
 * await enqueueWebhookEvents(env, db, { id: `${caseId}:${seq}`, kind: "case.escalated", at, unitPath, caseId, data });
 */
export async function enqueueWebhookEvents(
  env: Pick<Cloudflare.Env, "WEBHOOKS">,
  db: Db,
  events: WebhookEvent | readonly WebhookEvent[],
): Promise<number> {
  const list = Array.isArray(events) ? events : [events as WebhookEvent];
  if (list.length === 0) return 0;
  const ancestors = new Set<string>();
  for (const e of list) {
    const ids = pathIds(e.unitPath);
    for (let i = 1; i <= ids.length; i++) ancestors.add(`/${ids.slice(0, i).join("/")}/`);
  }
  if (ancestors.size === 0) return 0;
  const paths = [...ancestors];
  const rows = await db.$client.execute({
    sql: `SELECT id, unit_id, unit_path, events FROM webhook_endpoints
          WHERE disabled_at IS NULL AND unit_path IN (${paths.map(() => "?").join(",")})`,
    args: paths,
  });
  const messages: Array<{ body: WebhookDeliveryMessage }> = [];
  for (const e of list) {
    for (const r of rows.rows) {
      const kinds = JSON.parse(String(r.events)) as string[];
      if (kinds.includes(e.kind) && e.unitPath.startsWith(String(r.unit_path))) {
        messages.push({ body: { endpointId: String(r.id), unitId: String(r.unit_id), event: e } });
      }
    }
  }
  for (let i = 0; i < messages.length; i += 100) await env.WEBHOOKS.sendBatch(messages.slice(i, i + 100));
  return messages.length;
}
