import type { z } from "zod";
import { sendInBatches } from "./send";

/** A retry delay, in seconds, for a message on its n-th attempt (1 for the first delivery). */
export type Backoff = (attempts: number) => number;

/**
 * The one backoff policy of grid321's consumers: exponential in the message's attempts,
 * `base · factor^(attempts − 1)` seconds, capped at `max`. Each consumer picks its numbers.
 *
 * @example
 * const delay = exponentialBackoff({ base: 5, max: 300 }); // 5, 10, 20, 40 … 300
 */
export function exponentialBackoff(options: { base: number; factor?: number; max: number }): Backoff {
  const factor = options.factor ?? 2;
  return (attempts) => Math.min(options.max, options.base * factor ** Math.max(0, attempts - 1));
}

/** Dead-letter consumers only record; a failed record is retried from 30 s, backing off to 10 minutes. */
export const DEAD_LETTER_BACKOFF = exponentialBackoff({ base: 30, max: 600 });

/** A validated message as a handler sees it. Unsettled deliveries are acked when the handler returns. */
export interface Delivery<T> {
  readonly id: string;
  readonly attempts: number;
  readonly body: T;
  /** Done with it (the default when the handler returns without settling it). */
  ack(): void;
  /** Try again later, after the consumer's backoff for this attempt. */
  retry(): void;
  /** Whether `ack` or `retry` was called. */
  readonly settled: boolean;
}

/** Where poison messages go: the dead-letter queue of the consumer, or a durable record of its own. */
export type PoisonSink =
  | { deadLetterQueue: (env: Cloudflare.Env) => Pick<Queue, "sendBatch"> }
  | { record: (messages: readonly Message<unknown>[], env: Cloudflare.Env, queue: string) => Promise<void> }
  /** A dead-letter consumer's own poison: there is nowhere further to send it, so the log line is the record. */
  | { logOnly: true };

/** What a handler knows of its batch besides the messages. */
export interface BatchContext {
  /** The queue's name as delivered (production names may carry an environment suffix). */
  queue: string;
  ctx: ExecutionContext | undefined;
}

/** A queue consumer: the schema of its messages, what to do with the valid ones, and its policies. */
export interface ConsumerSpec<T> {
  /** Names the consumer in log lines. */
  name: string;
  /** The message body's schema. A body it refuses is poison. */
  schema: z.ZodType<T>;
  /**
   * Handles the batch's valid messages: settles each with `ack`/`retry`, or leaves it to be acked on return.
   * Throwing retries every message it had not settled (after logging the error).
   */
  handle: (deliveries: Delivery<T>[], env: Cloudflare.Env, batch: BatchContext) => Promise<void>;
  backoff: Backoff;
  poison: PoisonSink;
}

/** A consumer as `src/queues/index.ts` registers it. */
export type QueueConsumer = (
  batch: MessageBatch<unknown>,
  env: Cloudflare.Env,
  ctx?: ExecutionContext,
) => Promise<void>;

/**
 * Builds a consumer on grid321's one skeleton: validate each message with its zod schema → handle the valid
 * ones → ack. A failed handler retries its unsettled messages with the consumer's backoff, until the queue's
 * `max_retries` moves them to the dead-letter queue. A message that fails validation can never succeed, so it
 * is poison: logged (one JSON line), handed to the consumer's poison sink (its dead-letter queue, or a record
 * of its own) and acked — never retried forever. If the sink itself fails, the poison is retried instead, so
 * it is never lost. When every message of a batch was acked, the batch is acked as a whole too.
 *
 * @example
 * export const consumeThings = defineConsumer({
 *   name: "things", schema: ThingMessage, backoff: exponentialBackoff({ base: 5, max: 300 }),
 *   poison: { deadLetterQueue: (env) => env.THINGS_DLQ },
 *   handle: async (deliveries, env) => { await writeThings(env, deliveries.map((d) => d.body)); },
 * });
 */
export function defineConsumer<T>(spec: ConsumerSpec<T>): QueueConsumer {
  return async (batch, env, ctx) => {
    const deliveries: Array<Delivery<T> & { outcome: "ack" | "retry" | null }> = [];
    const poison: Message<unknown>[] = [];
    for (const message of batch.messages) {
      const parsed = spec.schema.safeParse(message.body);
      if (!parsed.success) {
        console.error(
          JSON.stringify({
            kind: "queue-poison",
            consumer: spec.name,
            queue: batch.queue,
            messageId: message.id,
            attempts: message.attempts,
            issues: parsed.error.issues
              .slice(0, 5)
              .map((i) => ({ path: i.path.join("."), message: i.message })),
          }),
        );
        poison.push(message);
        continue;
      }
      const delivery = {
        id: message.id,
        attempts: message.attempts,
        body: parsed.data,
        outcome: null as "ack" | "retry" | null,
        get settled() {
          return delivery.outcome !== null;
        },
        ack() {
          if (delivery.outcome === null) delivery.outcome = "ack";
        },
        retry() {
          if (delivery.outcome === null) delivery.outcome = "retry";
        },
      };
      deliveries.push(delivery);
    }

    if (deliveries.length) {
      try {
        await spec.handle(deliveries, env, { queue: batch.queue, ctx });
      } catch (error) {
        console.error(
          JSON.stringify({
            kind: "queue-handle-failed",
            consumer: spec.name,
            queue: batch.queue,
            messages: deliveries.filter((d) => !d.settled).length,
            attempts: Math.max(1, ...deliveries.map((d) => d.attempts)),
            error: String(error),
          }),
        );
        for (const d of deliveries) d.retry();
      }
    }
    const byId = new Map(batch.messages.map((m) => [m.id, m]));
    let acked = 0;
    for (const d of deliveries) {
      const message = byId.get(d.id)!;
      if (d.outcome === "retry") message.retry({ delaySeconds: spec.backoff(d.attempts) });
      else {
        message.ack();
        acked++;
      }
    }
    acked += await setAsidePoison(spec, poison, env, batch.queue);
    if (acked === batch.messages.length && acked > 0) batch.ackAll();
  };
}

/** Hands poison messages to the consumer's sink and acks them; returns how many were acked. */
async function setAsidePoison<T>(
  spec: ConsumerSpec<T>,
  poison: Message<unknown>[],
  env: Cloudflare.Env,
  queue: string,
): Promise<number> {
  if (poison.length === 0) return 0;
  try {
    if ("deadLetterQueue" in spec.poison) {
      await sendInBatches(
        spec.poison.deadLetterQueue(env),
        poison.map((m) => m.body),
      );
    } else if ("record" in spec.poison) {
      await spec.poison.record(poison, env, queue);
    }
  } catch (error) {
    console.error(
      JSON.stringify({
        kind: "queue-poison-set-aside-failed",
        consumer: spec.name,
        queue,
        error: String(error),
      }),
    );
    for (const m of poison) m.retry({ delaySeconds: spec.backoff(m.attempts) });
    return 0;
  }
  for (const m of poison) m.ack();
  return poison.length;
}
