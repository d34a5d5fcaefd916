import type { InStatement } from "@libsql/client/web";
import { type DeadLetter, recordDeadLetters } from "../db/repos/inbox";
import { openWebhookSecret, type WebhookDeliveryMessage } from "../db/repos/webhooks";
import { SIGNATURE_HEADER, signWebhook, WEBHOOK_EVENT_KINDS } from "../domain/webhook-signature";
import { checkWebhookUrl } from "../domain/webhook-url";
import { getDb } from "../platform/db/client";

/** How long one delivery attempt may take. */
export const WEBHOOK_TIMEOUT_MS = 10_000;

/** Retry delay for the n-th failed attempt: 30 s, 2 min, 8 min, 32 min, then hourly. */
export function webhookRetryDelay(attempts: number): number {
  return Math.min(3600, 30 * 4 ** Math.max(0, attempts - 1));
}

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
 * backoff until `max_retries` sends the message to `webhooks-dlq`. Deliveries already recorded as delivered
 * are not sent again; disabled or deleted endpoints are skipped. The outcome of every attempt is recorded in
 * `webhook_deliveries` in one write per batch.
 */
export async function consumeWebhooks(
  batch: MessageBatch<unknown>,
  env: Cloudflare.Env,
  options: WebhookDeliveryOptions = {},
): Promise<void> {
  const fetcher = options.fetcher ?? fetch;
  const now = options.now ?? Date.now;
  const valid: Array<{ message: Message<unknown>; body: WebhookDeliveryMessage }> = [];
  for (const message of batch.messages) {
    if (isWebhookDeliveryMessage(message.body)) valid.push({ message, body: message.body });
    else message.retry({ delaySeconds: webhookRetryDelay(message.attempts) });
  }
  if (valid.length === 0) return;
  const db = getDb(env);
  let endpoints: Map<string, { url: string; secretSealed: string; disabled: boolean }>;
  let delivered: Set<string>;
  try {
    const ids = [...new Set(valid.map((v) => v.body.endpointId))];
    const marks = ids.map(() => "?").join(",");
    const [endpointRows, deliveredRows] = await db.$client.batch(
      [
        {
          sql: `SELECT id, url, secret_sealed, disabled_at FROM webhook_endpoints WHERE id IN (${marks})`,
          args: ids,
        },
        {
          sql: `SELECT endpoint_id, event_id FROM webhook_deliveries WHERE status = 'delivered' AND endpoint_id IN (${marks})
                AND event_id IN (${valid.map(() => "?").join(",")})`,
          args: [...ids, ...valid.map((v) => v.body.event.id)],
        },
      ],
      "read",
    );
    endpoints = new Map(
      endpointRows!.rows.map((r) => [
        String(r.id),
        { url: String(r.url), secretSealed: String(r.secret_sealed), disabled: r.disabled_at !== null },
      ]),
    );
    delivered = new Set(deliveredRows!.rows.map((r) => `${r.endpoint_id}|${r.event_id}`));
  } catch (error) {
    console.error(JSON.stringify({ kind: "webhook-load-failed", error: String(error) }));
    for (const v of valid) v.message.retry({ delaySeconds: webhookRetryDelay(v.message.attempts) });
    return;
  }

  const at = new Date(now()).toISOString();
  const outcomes = await Promise.all(
    valid.map(async ({ message, body }) => {
      const endpoint = endpoints.get(body.endpointId);
      const record = (status: string, lastStatus: number | null, lastError: string | null): InStatement => ({
        sql: UPSERT_DELIVERY,
        args: [
          crypto.randomUUID(),
          body.endpointId,
          body.event.id,
          body.event.kind,
          status,
          message.attempts,
          lastStatus,
          lastError,
          at,
        ],
      });
      if (delivered.has(`${body.endpointId}|${body.event.id}`)) {
        message.ack();
        return null;
      }
      if (!endpoint || endpoint.disabled) {
        message.ack();
        return record("skipped", null, endpoint ? "endpoint disabled" : "endpoint deleted");
      }
      const target = checkWebhookUrl(endpoint.url, env.ENVIRONMENT);
      if (!target.ok) {
        message.retry({ delaySeconds: webhookRetryDelay(message.attempts) });
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
          message.ack();
          return record("delivered", res.status, null);
        }
        message.retry({ delaySeconds: webhookRetryDelay(message.attempts) });
        return record("failing", res.status, `HTTP ${res.status}`);
      } catch (error) {
        message.retry({ delaySeconds: webhookRetryDelay(message.attempts) });
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
export async function consumeWebhookDeadLetters(
  batch: MessageBatch<unknown>,
  env: Cloudflare.Env,
): Promise<void> {
  const letters: DeadLetter[] = [];
  const statements: InStatement[] = [];
  const at = new Date().toISOString();
  for (const m of batch.messages) {
    const body = isWebhookDeliveryMessage(m.body) ? m.body : null;
    letters.push({
      queue: batch.queue,
      messageId: m.id,
      attempts: m.attempts,
      body: m.body,
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
          m.attempts,
          null,
          "dead letter",
          at,
        ],
      });
    }
  }
  try {
    const db = getDb(env);
    await recordDeadLetters(db, letters);
    if (statements.length) await db.$client.batch(statements, "write");
    batch.ackAll();
  } catch (error) {
    console.error(JSON.stringify({ kind: "webhook-dead-letter-record-failed", error: String(error) }));
    batch.retryAll({ delaySeconds: 30 });
  }
}

function isWebhookDeliveryMessage(body: unknown): body is WebhookDeliveryMessage {
  const m = body as Partial<WebhookDeliveryMessage> | null;
  const e = m?.event;
  return (
    typeof m === "object" &&
    m !== null &&
    typeof m.endpointId === "string" &&
    typeof m.unitId === "string" &&
    typeof e === "object" &&
    e !== null &&
    typeof e.id === "string" &&
    e.id.length <= 200 &&
    (WEBHOOK_EVENT_KINDS as readonly string[]).includes(e.kind as string) &&
    typeof e.at === "string" &&
    typeof e.unitPath === "string" &&
    typeof e.data === "object" &&
    e.data !== null
  );
}
