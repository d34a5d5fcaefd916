import {
  enqueueFanout,
  fanoutPlan,
  markOverdueReceipts,
  receiptInsert,
  unqueuedDirectives,
} from "../db/repos/directives";
import { escalateMissedAcks } from "../db/repos/emergency-orders";
import { getDb } from "../platform/db/client";
import { defineConsumer, exponentialBackoff, type PoisonSink } from "../platform/queues/consume";
import { FanoutMessageSchema } from "./messages";

/** Retry delay for the n-th attempt: 2 s, 4 s, 8 s … capped at a minute. */
const fanoutRetryDelay = exponentialBackoff({ base: 2, max: 60 });

/** One fan-out consumer per queue: the main one sends poison to `directives-dlq`, the dead-letter one logs it. */
function fanoutConsumer(poison: PoisonSink) {
  return defineConsumer({
    name: "directive-fanout",
    schema: FanoutMessageSchema,
    backoff: fanoutRetryDelay,
    poison,
    handle: async (deliveries, env, { queue }) => {
      const deliveredAt = new Date().toISOString();
      const results = await getDb(env).$client.batch(
        deliveries.map((d) => receiptInsert(d.body, deliveredAt)),
        "write",
      );
      console.log(
        JSON.stringify({
          kind: "directive-fanout",
          queue,
          messages: deliveries.length,
          receipts: results.reduce((n, r) => n + r.rowsAffected, 0),
        }),
      );
    },
  });
}

/**
 * Consumes directive fan-out jobs: every message of the batch becomes one set-based INSERT OR IGNORE of its
 * receipts, all in one libSQL write transaction, and the batch is acked only after it commits. A failure
 * retries the batch (redelivery inserts nothing twice); after `max_retries` it goes to `directives-dlq`, as a
 * malformed message does at once.
 */
export const consumeDirectiveFanout = fanoutConsumer({ deadLetterQueue: (env) => env.DIRECTIVES_DLQ });

/** `directives-dlq`: dead fan-out jobs get one more round of attempts (inserts are idempotent). */
export const consumeDeadDirectiveFanout = fanoutConsumer({ logOnly: true });

/** How long a directive may go without its fan-out confirmed on the queue before the watchdog re-sends it. */
const REQUEUE_AFTER_MS = 60_000;

/**
 * The directives watchdog, run by the cron trigger: marks open receipts past their due time overdue (raising
 * reminders) and re-sends fan-outs whose send was never confirmed. Both are index range queries.
 */
export async function directivesWatchdog(env: Cloudflare.Env, now = new Date()): Promise<void> {
  const db = getDb(env);
  let overdue = 0;
  for (let round = 0; round < 20; round++) {
    const n = await markOverdueReceipts(db, now.toISOString());
    overdue += n;
    if (n === 0) break;
  }
  // Emergency orders: receipts not acknowledged by their deadline go once to the village and town centres.
  let missedAcks = 0;
  for (let round = 0; round < 20; round++) {
    const n = await escalateMissedAcks(db, now.toISOString());
    missedAcks += n;
    if (n === 0) break;
  }
  const lost = await unqueuedDirectives(db, new Date(now.getTime() - REQUEUE_AFTER_MS).toISOString());
  for (const d of lost) await enqueueFanout(db, env.DIRECTIVES, d.id, await fanoutPlan(db, d));
  if (overdue || lost.length || missedAcks) {
    console.log(JSON.stringify({ kind: "directives-watchdog", overdue, requeued: lost.length, missedAcks }));
  }
}
