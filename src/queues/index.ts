import type { QueueConsumer } from "../platform/queues/consume";
import { consumeCaseEventDeadLetters, consumeCaseEvents } from "./case-events";
import { consumeDeskRules } from "./desk-rules";
import { consumeDeadDirectiveFanout, consumeDirectiveFanout } from "./directives";
import { consumeDeadEmergencyRosters, consumeEmergencyRosters } from "./emergency-rosters";
import { consumeEscalationDeadLetters, consumeEscalations } from "./escalations";
import { consumeWebhookDeadLetters, consumeWebhooks } from "./webhooks";

export type { QueueConsumer } from "../platform/queues/consume";

/**
 * Queue consumers by queue name, each built on the one skeleton of `src/platform/queues/consume.ts` (zod
 * validation, one backoff policy, poison set aside). `src/index.ts` dispatches every batch by `batch.queue`.
 */
export const consumers: Record<string, QueueConsumer> = {
  "case-events": consumeCaseEvents,
  "case-events-dlq": consumeCaseEventDeadLetters,
  "desk-rules": consumeDeskRules,
  directives: consumeDirectiveFanout,
  // Dead fan-out jobs get one more round of attempts once libSQL is back; inserts are idempotent.
  "directives-dlq": consumeDeadDirectiveFanout,
  escalations: consumeEscalations,
  "escalations-dlq": consumeEscalationDeadLetters,
  webhooks: (batch, env) => consumeWebhooks(batch, env),
  "webhooks-dlq": consumeWebhookDeadLetters,
  // Emergency command: rosters of an event's grids, fanned out per 200 grids.
  "emergency-rosters": consumeEmergencyRosters,
  "emergency-rosters-dlq": consumeDeadEmergencyRosters,
};

/** The consumer for a queue, or undefined. */
export function consumerFor(queue: string): QueueConsumer | undefined {
  return consumers[queue];
}
