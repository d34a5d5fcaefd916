import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src";
import type { EscalationMessage } from "../../src/domain/escalation";
import type { TestTree } from "./helpers";

let counter = 0;

/** Queue bindings a test may swap for doubles (a `CaptureQueue`) when delivering a batch. */
type SwappableQueue = "WEBHOOKS" | "CASE_EVENTS_DLQ" | "ESCALATIONS_DLQ" | "WEBHOOKS_DLQ" | "DIRECTIVES_DLQ";
type TestEnv = Omit<Cloudflare.Env, SwappableQueue> &
  Partial<Record<SwappableQueue, Pick<Queue, "sendBatch">>>;

/**
 * Delivers messages to the real Worker's queue handler as one batch and returns the ack/retry outcome.
 * `env` replaces bindings (say, a dead-letter queue with a capturing double).
 */
export async function deliver(
  queue: string,
  bodies: unknown[],
  options: { attempts?: number; ids?: string[]; env?: TestEnv } = {},
) {
  const batch = createMessageBatch(
    queue,
    bodies.map((body, i) => ({
      id: options.ids?.[i] ?? `msg-${++counter}-${crypto.randomUUID()}`,
      timestamp: new Date(),
      attempts: options.attempts ?? 1,
      body,
    })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, (options.env ?? env) as Cloudflare.Env, ctx);
  return { batch, result: await getQueueResult(batch, ctx) };
}

/** An escalation message as a GridDesk would send it. */
export function escalationMessage(
  tree: TestTree,
  caseId: string,
  overrides: Partial<EscalationMessage> = {},
): EscalationMessage {
  const targetLevel = overrides.targetLevel ?? "village";
  return {
    kind: "escalated",
    caseId,
    fromUnitId: tree.grid.id,
    targetUnitId: tree.village.id,
    targetLevel,
    dedupeKey: `escalated:${caseId}:${targetLevel}`,
    reason: "deadline missed",
    reasonCode: null,
    at: "2026-05-01T10:00:00.000Z",
    seq: 4,
    automatic: true,
    case: { title: "Blocked drain", type: "environment", severity: "critical", state: "accepted" },
    ...overrides,
  };
}
