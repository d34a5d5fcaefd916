import { consumeCaseEventDeadLetters, consumeCaseEvents } from "./case-events";

/**
 * Queue consumers by queue name. Each area registers its consumer here; `src/index.ts` dispatches every
 * batch by `batch.queue`. Production queue names may carry an environment suffix, so names are matched by
 * prefix up to the first `.`/`--`.
 */
export type QueueConsumer = (
  batch: MessageBatch<unknown>,
  env: Cloudflare.Env,
  ctx: ExecutionContext,
) => Promise<void>;

export const consumers: Record<string, QueueConsumer> = {
  "case-events": (batch, env) => consumeCaseEvents(batch, env),
  "case-events-dlq": (batch, env) => consumeCaseEventDeadLetters(batch, env),
};

/** The consumer for a queue, or undefined. */
export function consumerFor(queue: string): QueueConsumer | undefined {
  return consumers[queue];
}
