import type { InStatement } from "@libsql/client/web";
import { type DeadLetter, inboxItemId, insertInboxItemStatement, recordDeadLetters } from "../db/repos/inbox";
import type { EscalationMessage } from "../domain/escalation";
import { getDb } from "../platform/db/client";
import {
  DEAD_LETTER_BACKOFF,
  type Delivery,
  defineConsumer,
  exponentialBackoff,
} from "../platform/queues/consume";
import { DeadLetterSchema, EscalationMessageSchema } from "./messages";

/** Retry delay for the n-th attempt: 5 s, 10 s, 20 s … capped at 5 minutes. */
export const escalationRetryDelay = exponentialBackoff({ base: 5, max: 300 });

/**
 * The `escalations` consumer: writes each message as one inbox item of its target unit. Idempotent and
 * order-tolerant — items are `INSERT OR IGNORE` by dedupe key (one per case and target level for an
 * escalation), with deterministic ids and times taken from the message, so duplicated, shuffled or
 * redelivered batches end in the same rows as a clean run. The batch is one write; each message is acked
 * only after it commits. A failed write retries the batch's messages with backoff; a message whose target
 * unit is unknown is retried until `max_retries` moves it to `escalations-dlq`; a malformed one is poison and
 * goes there at once.
 */
export const consumeEscalations = defineConsumer({
  name: "escalations",
  schema: EscalationMessageSchema,
  backoff: escalationRetryDelay,
  poison: { deadLetterQueue: (env) => env.ESCALATIONS_DLQ },
  handle: writeInboxItems,
});

async function writeInboxItems(
  deliveries: Delivery<EscalationMessage>[],
  env: Cloudflare.Env,
): Promise<void> {
  const db = getDb(env);
  const targetIds = [...new Set(deliveries.map((d) => d.body.targetUnitId))];
  const units = await db.$client.execute({
    sql: `SELECT id, path, level FROM units WHERE id IN (${targetIds.map(() => "?").join(",")})`,
    args: targetIds,
  });
  const byId = new Map(
    units.rows.map((r) => [String(r.id), { path: String(r.path), level: String(r.level) }]),
  );
  const writable: Delivery<EscalationMessage>[] = [];
  const statements: InStatement[] = [];
  for (const d of deliveries) {
    const unit = byId.get(d.body.targetUnitId);
    if (!unit || unit.level !== d.body.targetLevel) {
      console.error(
        JSON.stringify({ kind: "escalation-unknown-target", messageId: d.id, target: d.body.targetUnitId }),
      );
      d.retry();
      continue;
    }
    writable.push(d);
    statements.push(
      await insertInboxItemStatement({
        unitId: d.body.targetUnitId,
        unitPath: unit.path,
        kind: d.body.kind,
        caseId: d.body.caseId,
        dedupeKey: d.body.dedupeKey,
        payload: inboxPayload(d.body),
        createdAt: new Date(d.body.at).toISOString(),
      }),
    );
  }
  if (statements.length === 0) return;
  // An item can arrive after its unit already acted on the case (the projection ran first): it is
  // handled on arrival, as of that action.
  const ids = await Promise.all(writable.map((d) => inboxItemId(d.body.dedupeKey)));
  statements.push({
    sql: `UPDATE inbox_items SET
            handled_at = (SELECT min(e.at) FROM case_events e WHERE e.case_id = inbox_items.case_id
              AND e.actor_unit_id = inbox_items.unit_id AND e.seq > json_extract(inbox_items.payload, '$.seq')),
            read_at = COALESCE(read_at, (SELECT min(e.at) FROM case_events e WHERE e.case_id = inbox_items.case_id
              AND e.actor_unit_id = inbox_items.unit_id AND e.seq > json_extract(inbox_items.payload, '$.seq')))
          WHERE id IN (${ids.map(() => "?").join(",")}) AND handled_at IS NULL
            AND EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = inbox_items.case_id
              AND e.actor_unit_id = inbox_items.unit_id AND e.seq > json_extract(inbox_items.payload, '$.seq'))`,
    args: ids,
  });
  await db.$client.batch(statements, "write");
}

/** What an inbox item shows: the message without its routing fields, in a fixed key order. */
function inboxPayload(m: EscalationMessage): Record<string, unknown> {
  return {
    kind: m.kind,
    caseId: m.caseId,
    fromUnitId: m.fromUnitId ?? null,
    targetLevel: m.targetLevel,
    reason: m.reason ?? null,
    reasonCode: m.reasonCode ?? null,
    at: m.at,
    seq: m.seq ?? null,
    automatic: m.automatic ?? false,
    actorId: m.actorId ?? null,
    message: m.message ?? null,
    deadline: m.deadline ?? null,
    case: m.case ?? null,
  };
}

/**
 * The `escalations-dlq` consumer: every message that exhausted its retries (or was poison) becomes a failed
 * audit row and an `alert` in the inbox of the city centre above its target (or its source unit). Nothing is
 * dropped silently: if recording fails the batch is retried.
 */
export const consumeEscalationDeadLetters = defineConsumer({
  name: "escalations-dlq",
  schema: DeadLetterSchema,
  backoff: DEAD_LETTER_BACKOFF,
  poison: { logOnly: true },
  handle: async (deliveries, env, { queue }) => {
    const letters: DeadLetter[] = deliveries.map((d) => {
      const wellFormed = EscalationMessageSchema.safeParse(d.body);
      const body = (typeof d.body === "object" && d.body !== null ? d.body : {}) as Record<string, unknown>;
      const text = (v: unknown) => (typeof v === "string" ? v.slice(0, 100) : null);
      return {
        queue,
        messageId: d.id,
        attempts: d.attempts,
        body: d.body,
        action: "escalation.dead-letter",
        objectType: "case",
        objectId: text(body.caseId),
        caseId: wellFormed.success ? wellFormed.data.caseId : null,
        unitIds: [text(body.targetUnitId), text(body.fromUnitId)].filter((id): id is string => id !== null),
        alertAt: "city",
        summary: {
          kind: text(body.kind),
          dedupeKey: text(body.dedupeKey),
          targetUnitId: text(body.targetUnitId),
          wellFormed: wellFormed.success,
        },
      };
    });
    await recordDeadLetters(getDb(env), letters);
  },
});
