import type { InStatement } from "@libsql/client/web";
import { and, asc, eq, gt, inArray, isNull, lte, or, sql } from "drizzle-orm";
import { inScope, pathIds } from "../../domain/units";
import type { WebhookEventKind } from "../../domain/webhook-signature";
import { type Db, getDb } from "../../platform/db/client";
import { stmt } from "../../platform/db/statements";
import { fitsOneMessage, sendInBatches } from "../../platform/queues/send";
import { webhookDeliveries, webhookEndpoints, webhookOutbox } from "../schema";

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

/** The binding offers are sent to (the Worker's env, or anything with the `webhooks` queue's `sendBatch`). */
export type WebhookQueue = { WEBHOOKS: Pick<Queue, "sendBatch"> };

/** What the `webhooks` queue carries: one delivery of one event to one endpoint. */
export interface WebhookDeliveryMessage {
  endpointId: string;
  /** The unit that registered the endpoint (where a dead delivery is reported). */
  unitId: string;
  event: WebhookEvent;
}

/** A registered endpoint as stored, without its sealed secret. */
export interface WebhookEndpoint {
  id: string;
  unitId: string;
  unitPath: string;
  url: string;
  events: WebhookEventKind[];
  description: string | null;
  createdBy: string;
  createdAt: string;
  disabledAt: string | null;
}

/** A new endpoint row, its secret already sealed. */
export type NewWebhookEndpoint = Omit<WebhookEndpoint, "disabledAt"> & { secretSealed: string };

const endpointColumns = {
  id: webhookEndpoints.id,
  unitId: webhookEndpoints.unitId,
  unitPath: webhookEndpoints.unitPath,
  url: webhookEndpoints.url,
  events: webhookEndpoints.events,
  description: webhookEndpoints.description,
  createdBy: webhookEndpoints.createdBy,
  createdAt: webhookEndpoints.createdAt,
  disabledAt: webhookEndpoints.disabledAt,
};

function endpointOf(row: Omit<WebhookEndpoint, "events"> & { events: string }): WebhookEndpoint {
  return { ...row, events: JSON.parse(row.events) as WebhookEventKind[] };
}

/**
 * The INSERT of a new endpoint that happens only while its unit has fewer than `limit` active endpoints.
 * Raw SQL because the count and the insert must be one statement (INSERT … SELECT … WHERE), so that two
 * concurrent registrations cannot both pass the limit; it inserts no row when the unit is full.
 */
export function insertEndpointWithinLimit(row: NewWebhookEndpoint, limit: number): InStatement {
  return {
    sql: `INSERT INTO webhook_endpoints
            (id, unit_id, unit_path, url, events, description, secret_sealed, created_by, created_at, disabled_at)
          SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL
          WHERE (SELECT count(*) FROM webhook_endpoints WHERE unit_id = ? AND disabled_at IS NULL) < ?`,
    args: [
      row.id,
      row.unitId,
      row.unitPath,
      row.url,
      JSON.stringify(row.events),
      row.description,
      row.secretSealed,
      row.createdBy,
      row.createdAt,
      row.unitId,
      limit,
    ],
  };
}

/** One endpoint by id (without its secret), or null. */
export async function findEndpoint(env: Cloudflare.Env, id: string): Promise<WebhookEndpoint | null> {
  const [row] = await getDb(env)
    .select(endpointColumns)
    .from(webhookEndpoints)
    .where(eq(webhookEndpoints.id, id))
    .limit(1);
  return row ? endpointOf(row) : null;
}

/** A page of a unit's endpoints in registration order, after the keyset position `(createdAt, id)`. */
export async function endpointsOfUnit(
  env: Cloudflare.Env,
  unitId: string,
  after: readonly [string, string] | null,
  limit: number,
): Promise<WebhookEndpoint[]> {
  const rows = await getDb(env)
    .select(endpointColumns)
    .from(webhookEndpoints)
    .where(
      and(
        eq(webhookEndpoints.unitId, unitId),
        after
          ? or(
              gt(webhookEndpoints.createdAt, after[0]),
              and(eq(webhookEndpoints.createdAt, after[0]), gt(webhookEndpoints.id, after[1])),
            )
          : undefined,
      ),
    )
    .orderBy(asc(webhookEndpoints.createdAt), asc(webhookEndpoints.id))
    .limit(limit);
  return rows.map(endpointOf);
}

/** The UPDATE that disables an endpoint; it changes no row when the endpoint is already disabled. */
export function disableEndpointStatement(db: Db, id: string, at: string): InStatement {
  return stmt(
    db
      .update(webhookEndpoints)
      .set({ disabledAt: at })
      .where(and(eq(webhookEndpoints.id, id), isNull(webhookEndpoints.disabledAt))),
  );
}

/**
 * Enqueues one delivery per (event, subscribed active endpoint) on the `webhooks` queue: endpoints registered
 * at the event's unit or any unit above it that subscribed to its kind. One libSQL read for all events; the
 * sends are byte-aware batches. A delivery too large for one queue message could never be sent, so it is
 * recorded as `skipped` (and logged) instead of blocking the deliveries beside it.
 * Returns the number of deliveries enqueued.
 *
 * @example
 * await enqueueWebhookEvents(env, db, { id: `${caseId}:${seq}`, kind: "case.escalated", at, unitPath, caseId, data });
 */
export async function enqueueWebhookEvents(
  env: WebhookQueue,
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
  const endpoints = await db
    .select({
      id: webhookEndpoints.id,
      unitId: webhookEndpoints.unitId,
      unitPath: webhookEndpoints.unitPath,
      events: webhookEndpoints.events,
    })
    .from(webhookEndpoints)
    .where(and(isNull(webhookEndpoints.disabledAt), inArray(webhookEndpoints.unitPath, [...ancestors])));
  const messages: WebhookDeliveryMessage[] = [];
  const tooLarge: WebhookDeliveryMessage[] = [];
  for (const e of list) {
    for (const endpoint of endpoints) {
      const kinds = JSON.parse(endpoint.events) as string[];
      if (!kinds.includes(e.kind) || !inScope(endpoint.unitPath, e.unitPath)) continue;
      const message = { endpointId: endpoint.id, unitId: endpoint.unitId, event: e };
      (fitsOneMessage(message) ? messages : tooLarge).push(message);
    }
  }
  if (tooLarge.length) await skipTooLarge(db, tooLarge);
  await sendInBatches(env.WEBHOOKS, messages);
  return messages.length;
}

/** Records deliveries that cannot fit one queue message as skipped, so they show up instead of vanishing. */
async function skipTooLarge(db: Db, messages: readonly WebhookDeliveryMessage[]): Promise<void> {
  const at = new Date().toISOString();
  console.error(
    JSON.stringify({
      kind: "webhook-event-too-large",
      deliveries: messages.map((m) => ({ endpointId: m.endpointId, eventId: m.event.id })),
    }),
  );
  await db
    .insert(webhookDeliveries)
    .values(
      messages.map((m) => ({
        id: crypto.randomUUID(),
        endpointId: m.endpointId,
        eventId: m.event.id,
        eventKind: m.event.kind,
        status: "skipped" as const,
        attempts: 0,
        lastStatus: null,
        lastError: "event too large for one queue message",
        updatedAt: at,
      })),
    )
    .onConflictDoNothing();
}

/** How long a fresh offer waits before the sweep may send it (the projection sends it at once itself). */
export const WEBHOOK_OUTBOX_GRACE_MS = 60_000;
/** How long after a failed send the sweep tries an offer again. */
export const WEBHOOK_OUTBOX_RETRY_MS = 2 * 60_000;
/** Offers sent per sweep. */
export const WEBHOOK_OUTBOX_BATCH = 200;

/**
 * The INSERT of a webhook offer into `webhook_outbox`, for the write that projects its event (so an offer
 * exists exactly when the event was newly projected); a second insert of the same event id changes nothing.
 */
export function webhookOutboxStatement(db: Db, event: WebhookEvent, now: number): InStatement {
  return stmt(
    db
      .insert(webhookOutbox)
      .values({
        eventId: event.id,
        event: JSON.stringify(event),
        createdAt: new Date(now).toISOString(),
        attempts: 0,
        nextAttemptAt: new Date(now + WEBHOOK_OUTBOX_GRACE_MS).toISOString(),
      })
      .onConflictDoNothing(),
  );
}

/**
 * Hands outboxed offers to the `webhooks` queue (`enqueueWebhookEvents`) and deletes their rows. If the send
 * fails, the rows stay, with an attempt counted and the next one `WEBHOOK_OUTBOX_RETRY_MS` away, for the sweep;
 * sending twice is harmless (the consumer delivers each (event id, endpoint) once). Returns whether they went.
 */
export async function offerWebhookOutbox(
  env: WebhookQueue,
  db: Db,
  events: readonly WebhookEvent[],
  now = Date.now(),
): Promise<boolean> {
  if (events.length === 0) return true;
  const ids = events.map((e) => e.id);
  try {
    await enqueueWebhookEvents(env, db, events);
  } catch (error) {
    console.error(JSON.stringify({ kind: "webhook-offer-failed", events: ids.length, error: String(error) }));
    await db
      .update(webhookOutbox)
      .set({
        attempts: sql`${webhookOutbox.attempts} + 1`,
        nextAttemptAt: new Date(now + WEBHOOK_OUTBOX_RETRY_MS).toISOString(),
      })
      .where(inArray(webhookOutbox.eventId, ids))
      .catch(() => undefined);
    return false;
  }
  await db.delete(webhookOutbox).where(inArray(webhookOutbox.eventId, ids));
  return true;
}

/**
 * The cron sweep of `webhook_outbox`: offers whose next attempt is due by `now` (those a failed send left
 * behind, oldest first; an index range over `next_attempt_at`) are sent again. Returns how many were sent.
 *
 * @example
 * await sweepWebhookOutbox(env, getDb(env), Date.now());
 */
export async function sweepWebhookOutbox(env: WebhookQueue, db: Db, now: number): Promise<number> {
  const rows = await db
    .select({ event: webhookOutbox.event })
    .from(webhookOutbox)
    .where(lte(webhookOutbox.nextAttemptAt, new Date(now).toISOString()))
    .orderBy(asc(webhookOutbox.nextAttemptAt))
    .limit(WEBHOOK_OUTBOX_BATCH);
  if (rows.length === 0) return 0;
  const events = rows.map((r) => JSON.parse(r.event) as WebhookEvent);
  return (await offerWebhookOutbox(env, db, events, now)) ? events.length : 0;
}
