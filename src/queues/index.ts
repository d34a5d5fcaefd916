import { consumeCaseEventDeadLetters, consumeCaseEvents } from "./case-events";
import { consumeDirectiveFanout } from "./directives";
import { consumeEscalationDeadLetters, consumeEscalations } from "./escalations";
import { consumeWebhookDeadLetters, consumeWebhooks } from "./webhooks";

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
  // Dead fan-out jobs get one more round of attempts once libSQL is back; inserts are idempotent.
  directives: (batch, env) => consumeDirectiveFanout(batch, env),
  "directives-dlq": (batch, env) => consumeDirectiveFanout(batch, env),
  escalations: (batch, env) => consumeEscalations(batch, env),
  "escalations-dlq": (batch, env) => consumeEscalationDeadLetters(batch, env),
  webhooks: (batch, env) => consumeWebhooks(batch, env),
  "webhooks-dlq": (batch, env) => consumeWebhookDeadLetters(batch, env),
};

/** The consumer for a queue, or undefined. */
export function consumerFor(queue: string): QueueConsumer | undefined {
  return consumers[queue];
}
