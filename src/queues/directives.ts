import {
  enqueueFanout,
  type FanoutMessage,
  fanoutPlan,
  markOverdueReceipts,
  receiptInsert,
  unqueuedDirectives,
} from "../db/repos/directives";
import { getDb } from "../platform/db/client";

function isFanout(body: unknown): body is FanoutMessage {
  const m = body as FanoutMessage | null;
  return (
    typeof m === "object" &&
    m !== null &&
    m.kind === "directive-fanout" &&
    typeof m.directiveId === "string" &&
    ("unitIds" in m ? Array.isArray(m.unitIds) : typeof m.from === "string" && typeof m.to === "string")
  );
}

/**
 * Consumes directive fan-out jobs: every message of the batch becomes one set-based INSERT OR IGNORE of its
 * receipts, all in one libSQL write transaction, and the batch is acked only after it commits. A failure
 * retries the batch (redelivery inserts nothing twice); after `max_retries` it goes to `directives-dlq`.
 */
export async function consumeDirectiveFanout(
  batch: MessageBatch<unknown>,
  env: Cloudflare.Env,
): Promise<void> {
  const good = batch.messages.filter((m) => isFanout(m.body));
  for (const m of batch.messages) {
    if (!isFanout(m.body)) {
      console.error(JSON.stringify({ kind: "directive-fanout-malformed", id: m.id }));
      m.ack();
    }
  }
  if (good.length === 0) return;
  const deliveredAt = new Date().toISOString();
  try {
    const results = await getDb(env).$client.batch(
      good.map((m) => receiptInsert(m.body as FanoutMessage, deliveredAt)),
      "write",
    );
    for (const m of good) m.ack();
    console.log(
      JSON.stringify({
        kind: "directive-fanout",
        queue: batch.queue,
        messages: good.length,
        receipts: results.reduce((n, r) => n + r.rowsAffected, 0),
      }),
    );
  } catch (error) {
    console.error(
      JSON.stringify({ kind: "directive-fanout-failed", queue: batch.queue, error: String(error) }),
    );
    for (const m of good) m.retry({ delaySeconds: Math.min(60, 2 ** Math.min(m.attempts, 6)) });
  }
}

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
  const lost = await unqueuedDirectives(db, new Date(now.getTime() - REQUEUE_AFTER_MS).toISOString());
  for (const d of lost) await enqueueFanout(db, env.DIRECTIVES, d.id, await fanoutPlan(db, d));
  if (overdue || lost.length) {
    console.log(JSON.stringify({ kind: "directives-watchdog", overdue, requeued: lost.length }));
  }
}
