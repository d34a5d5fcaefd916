import type { InStatement } from "@libsql/client/web";
import { type DeadLetter, inboxItemId, insertInboxItemStatement, recordDeadLetters } from "../db/repos/inbox";
import { type EscalationMessage, isEscalationMessage } from "../domain/escalation";
import { getDb } from "../platform/db/client";

/** Retry delay for the n-th attempt: 5 s, 10 s, 20 s … capped at 5 minutes. */
export function escalationRetryDelay(attempts: number): number {
  return Math.min(300, 5 * 2 ** Math.max(0, attempts - 1));
}

/**
 * The `escalations` consumer: writes each message as one inbox item of its target unit. Idempotent and
 * order-tolerant — items are `INSERT OR IGNORE` by dedupe key (one per case and target level for an
 * escalation), with deterministic ids and times taken from the message, so duplicated, shuffled or
 * redelivered batches end in the same rows as a clean run. The batch is one write; each message is acked
 * only after it commits. A failed write retries the batch's messages with backoff; a malformed message, or
 * one whose target unit is unknown, is retried until `max_retries` moves it to `escalations-dlq`.
 */
export async function consumeEscalations(batch: MessageBatch<unknown>, env: Cloudflare.Env): Promise<void> {
  const valid: Array<{ message: Message<unknown>; body: EscalationMessage }> = [];
  for (const message of batch.messages) {
    if (isEscalationMessage(message.body)) valid.push({ message, body: message.body });
    else {
      console.error(
        JSON.stringify({ kind: "escalation-malformed", messageId: message.id, attempts: message.attempts }),
      );
      message.retry({ delaySeconds: escalationRetryDelay(message.attempts) });
    }
  }
  if (valid.length === 0) return;
  const db = getDb(env);
  try {
    const targetIds = [...new Set(valid.map((v) => v.body.targetUnitId))];
    const units = await db.$client.execute({
      sql: `SELECT id, path, level FROM units WHERE id IN (${targetIds.map(() => "?").join(",")})`,
      args: targetIds,
    });
    const byId = new Map(
      units.rows.map((r) => [String(r.id), { path: String(r.path), level: String(r.level) }]),
    );
    const writable: typeof valid = [];
    const statements: InStatement[] = [];
    for (const v of valid) {
      const unit = byId.get(v.body.targetUnitId);
      if (!unit || unit.level !== v.body.targetLevel) {
        console.error(
          JSON.stringify({
            kind: "escalation-unknown-target",
            messageId: v.message.id,
            target: v.body.targetUnitId,
          }),
        );
        v.message.retry({ delaySeconds: escalationRetryDelay(v.message.attempts) });
        continue;
      }
      writable.push(v);
      statements.push(
        await insertInboxItemStatement({
          unitId: v.body.targetUnitId,
          unitPath: unit.path,
          kind: v.body.kind,
          caseId: v.body.caseId,
          dedupeKey: v.body.dedupeKey,
          payload: inboxPayload(v.body),
          createdAt: new Date(v.body.at).toISOString(),
        }),
      );
    }
    if (statements.length) {
      // An item can arrive after its unit already acted on the case (the projection ran first): it is
      // handled on arrival, as of that action.
      const ids = await Promise.all(writable.map((v) => inboxItemId(v.body.dedupeKey)));
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
    for (const v of writable) v.message.ack();
  } catch (error) {
    const attempts = Math.max(1, ...valid.map((v) => v.message.attempts));
    console.error(
      JSON.stringify({
        kind: "escalation-write-failed",
        messages: valid.length,
        attempts,
        error: String(error),
      }),
    );
    for (const v of valid) v.message.retry({ delaySeconds: escalationRetryDelay(v.message.attempts) });
  }
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
 * The `escalations-dlq` consumer: every message that exhausted its retries becomes a failed audit row and an
 * `alert` in the inbox of the city centre above its target (or its source unit). Nothing is dropped silently:
 * if recording fails the batch is retried.
 */
export async function consumeEscalationDeadLetters(
  batch: MessageBatch<unknown>,
  env: Cloudflare.Env,
): Promise<void> {
  const letters: DeadLetter[] = batch.messages.map((m) => {
    const body = (typeof m.body === "object" && m.body !== null ? m.body : {}) as Partial<EscalationMessage>;
    const text = (v: unknown) => (typeof v === "string" ? v.slice(0, 100) : null);
    return {
      queue: batch.queue,
      messageId: m.id,
      attempts: m.attempts,
      body: m.body,
      action: "escalation.dead-letter",
      objectType: "case",
      objectId: text(body.caseId),
      caseId: isEscalationMessage(m.body) ? m.body.caseId : null,
      unitIds: [text(body.targetUnitId), text(body.fromUnitId)].filter((id): id is string => id !== null),
      alertAt: "city",
      summary: {
        kind: text(body.kind),
        dedupeKey: text(body.dedupeKey),
        targetUnitId: text(body.targetUnitId),
        wellFormed: isEscalationMessage(m.body),
      },
    };
  });
  try {
    await recordDeadLetters(getDb(env), letters);
    batch.ackAll();
  } catch (error) {
    console.error(JSON.stringify({ kind: "escalation-dead-letter-record-failed", error: String(error) }));
    batch.retryAll({ delaySeconds: 30 });
  }
}
