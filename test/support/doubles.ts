import { runInDurableObject } from "cloudflare:test";
import type { CaseEventMessage } from "../../src/domain/case-model";
import type { GridDesk, OutboxTarget } from "../../src/durable/grid-desk/grid-desk";
import { deskOf } from "./case-fixtures";

/** A stand-in for the `case-events` queue that keeps what it is sent, and can be made to fail. */
export class CaptureQueue implements OutboxTarget {
  readonly messages: CaseEventMessage[] = [];
  failing = false;
  sends = 0;

  async sendBatch(batch: Iterable<MessageSendRequest>): Promise<QueueSendBatchResponse> {
    this.sends++;
    if (this.failing) throw new Error("queue unavailable");
    for (const m of batch) this.messages.push(m.body as CaseEventMessage);
    return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } } as QueueSendBatchResponse;
  }
}

/** Points a unit's GridDesk outbox at `queue` (until the desk is evicted). */
export async function captureOutbox(unitId: string, queue = new CaptureQueue()): Promise<CaptureQueue> {
  await runInDurableObject(deskOf(unitId), (desk: GridDesk) => {
    desk.outboxTargets = { "case-events": queue };
  });
  return queue;
}

/** Yields to the event loop until `check` holds (background outbox flushes run after the response). */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Deterministic shuffle (xorshift) so a failing order can be reproduced from its seed. */
export function shuffle<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let x = seed || 1;
  for (let i = out.length - 1; i > 0; i--) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const j = Math.abs(x) % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
