import type { InStatement } from "@libsql/client/web";
import { type DeadLetter, recordDeadLetters } from "../db/repos/inbox";
import { openWebhookSecret, type WebhookDeliveryMessage } from "../db/repos/webhooks";
import { SIGNATURE_HEADER, signWebhook } from "../domain/webhook-signature";
import { checkWebhookUrl } from "../domain/webhook-url";
import { getDb } from "../platform/db/client";
import {
  DEAD_LETTER_BACKOFF,
  type Delivery,
  defineConsumer,
  exponentialBackoff,
} from "../platform/queues/consume";
import { DeadLetterSchema, WebhookDeliveryMessageSchema } from "./messages";

/** How long one delivery attempt may take. */
export const WEBHOOK_TIMEOUT_MS = 10_000;

/** Retry delay for the n-th failed attempt: 30 s, 2 min, 8 min, 32 min, then hourly. */
export const webhookRetryDelay = exponentialBackoff({ base: 30, factor: 4, max: 3600 });

/** Options for tests: the outbound fetch and the clock. */
export interface WebhookDeliveryOptions {
  fetcher?: typeof fetch;
  now?: () => number;
}

const UPSERT_DELIVERY = `INSERT INTO webhook_deliveries
    (id, endpoint_id, event_id, event_kind, status, attempts, last_status, last_error, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (endpoint_id, event_id) DO UPDATE SET
    status = CASE WHEN webhook_deliveries.status = 'delivered' THEN 'delivered' ELSE excluded.status END,
    attempts = MAX(webhook_deliveries.attempts, excluded.attempts),
    last_status = excluded.last_status, last_error = excluded.last_error, updated_at = excluded.updated_at`;

/**
 * The `webhooks` consumer: POSTs each event to its endpoint, signed (`x-grid321-signature: t=…,v1=…`), without
 * following redirects, re-checking the target URL at send time. A 2xx acks; anything else retries with
 * backoff until `max_retries` sends the message to `webhooks-dlq` (a malformed message goes there at once).
 * Deliveries already recorded as delivered are not sent again; disabled or deleted endpoints are skipped. The
 * outcome of every attempt is recorded in `webhook_deliveries` in one write per batch.
 */
export function webhookConsumer(options: WebhookDeliveryOptions = {}) {
  return defineConsumer({
    name: "webhooks",
    schema: WebhookDeliveryMessageSchema,
    backoff: webhookRetryDelay,
    poison: { deadLetterQueue: (env) => env.WEBHOOKS_DLQ },
    handle: (deliveries, env) => deliver(deliveries, env, options),
  });
}

const defaultWebhookConsumer = webhookConsumer();

/** Runs the `webhooks` consumer over a batch (tests pass their own fetch and clock). */
export function consumeWebhooks(
  batch: MessageBatch<unknown>,
  env: Cloudflare.Env,
  options?: WebhookDeliveryOptions,
): Promise<void> {
  return (options ? webhookConsumer(options) : defaultWebhookConsumer)(batch, env);
}

async function deliver(
  deliveries: Delivery<WebhookDeliveryMessage>[],
  env: Cloudflare.Env,
  options: WebhookDeliveryOptions,
): Promise<void> {
  const fetcher = options.fetcher ?? fetch;
  const now = options.now ?? Date.now;
  const db = getDb(env);
  const ids = [...new Set(deliveries.map((d) => d.body.endpointId))];
  const marks = ids.map(() => "?").join(",");
  // A failed read throws: the skeleton retries every delivery of the batch.
  const [endpointRows, deliveredRows] = await db.$client.batch(
    [
      {
        sql: `SELECT id, url, secret_sealed, disabled_at FROM webhook_endpoints WHERE id IN (${marks})`,
        args: ids,
      },
      {
        sql: `SELECT endpoint_id, event_id FROM webhook_deliveries WHERE status = 'delivered' AND endpoint_id IN (${marks})
              AND event_id IN (${deliveries.map(() => "?").join(",")})`,
        args: [...ids, ...deliveries.map((d) => d.body.event.id)],
      },
    ],
    "read",
  );
  const endpoints = new Map(
    endpointRows!.rows.map((r) => [
      String(r.id),
      { url: String(r.url), secretSealed: String(r.secret_sealed), disabled: r.disabled_at !== null },
    ]),
  );
  const delivered = new Set(deliveredRows!.rows.map((r) => `${r.endpoint_id}|${r.event_id}`));

  const at = new Date(now()).toISOString();
  const outcomes = await Promise.all(
    deliveries.map(async (d) => {
      const body = d.body;
      const endpoint = endpoints.get(body.endpointId);
      const record = (status: string, lastStatus: number | null, lastError: string | null): InStatement => ({
        sql: UPSERT_DELIVERY,
        args: [
          crypto.randomUUID(),
          body.endpointId,
          body.event.id,
          body.event.kind,
          status,
          d.attempts,
          lastStatus,
          lastError,
          at,
        ],
      });
      if (delivered.has(`${body.endpointId}|${body.event.id}`)) {
        d.ack();
        return null;
      }
      if (!endpoint || endpoint.disabled) {
        d.ack();
        return record("skipped", null, endpoint ? "endpoint disabled" : "endpoint deleted");
      }
      const target = checkWebhookUrl(endpoint.url, env.ENVIRONMENT);
      if (!target.ok) {
        d.retry();
        return record("failing", null, `refused target: ${target.reason}`);
      }
      const payload = JSON.stringify({
        id: body.event.id,
        kind: body.event.kind,
        at: body.event.at,
        caseId: body.event.caseId,
        data: body.event.data,
      });
      try {
        const secret = await openWebhookSecret(env, body.endpointId, endpoint.secretSealed);
        const res = await fetcher(target.url, {
          method: "POST",
          body: payload,
          redirect: "manual",
          signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
          headers: {
            "content-type": "application/json",
            "user-agent": "grid321-webhooks/1",
            "x-grid321-event": body.event.kind,
            "x-grid321-delivery": body.event.id,
            [SIGNATURE_HEADER]: await signWebhook(secret, payload, Math.floor(now() / 1000)),
          },
        });
        await res.body?.cancel();
        if (res.status >= 200 && res.status < 300) {
          d.ack();
          return record("delivered", res.status, null);
        }
        d.retry();
        return record("failing", res.status, `HTTP ${res.status}`);
      } catch (error) {
        d.retry();
        return record("failing", null, String(error).slice(0, 500));
      }
    }),
  );
  const statements = outcomes.filter((s): s is InStatement => s !== null);
  if (statements.length === 0) return;
  try {
    await db.$client.batch(statements, "write");
  } catch (error) {
    // The deliveries themselves are done (acked or retried); only their bookkeeping is lost.
    console.error(JSON.stringify({ kind: "webhook-record-failed", error: String(error) }));
  }
}

/**
 * The `webhooks-dlq` consumer: a delivery that exhausted its retries is marked `dead`, audited as a failure
 * and raised as an `alert` in the inbox of the centre that registered the endpoint.
 */
export const consumeWebhookDeadLetters = defineConsumer({
  name: "webhooks-dlq",
  schema: DeadLetterSchema,
  backoff: DEAD_LETTER_BACKOFF,
  poison: { logOnly: true },
  handle: async (deliveries, env, { queue }) => {
    const letters: DeadLetter[] = [];
    const statements: InStatement[] = [];
    const at = new Date().toISOString();
    for (const d of deliveries) {
      const parsed = WebhookDeliveryMessageSchema.safeParse(d.body);
      const body = parsed.success ? parsed.data : null;
      letters.push({
        queue,
        messageId: d.id,
        attempts: d.attempts,
        body: d.body,
        action: "webhook.dead-letter",
        objectType: "webhook_endpoint",
        objectId: body?.endpointId ?? null,
        caseId: body?.event.caseId ?? null,
        unitIds: body ? [body.unitId] : [],
        alertAt: "unit",
        summary: { eventId: body?.event.id ?? null, eventKind: body?.event.kind ?? null },
      });
      if (body) {
        statements.push({
          sql: UPSERT_DELIVERY,
          args: [
            crypto.randomUUID(),
            body.endpointId,
            body.event.id,
            body.event.kind,
            "dead",
            d.attempts,
            null,
            "dead letter",
            at,
          ],
        });
      }
    }
    const db = getDb(env);
    await recordDeadLetters(db, letters);
    if (statements.length) await db.$client.batch(statements, "write");
  },
});
