import { Problem } from "../http/problem";
import { timed } from "../http/timing";

/** Cloudflare Queues limits, in bytes of the JSON body as sent (UTF-8: a Chinese character is 3 bytes). */
export const QUEUE_LIMITS = {
  /** Messages in one `sendBatch`. */
  batchMessages: 100,
  /** Bytes in one `sendBatch`. */
  batchBytes: 256_000,
  /** Bytes in one message. */
  messageBytes: 128_000,
} as const;

/**
 * What we allow ourselves, below the limits: the platform counts some bytes per message on top of the
 * body, so each message keeps 1 KB spare and each batch 16 KB.
 */
const MESSAGE_BUDGET = QUEUE_LIMITS.messageBytes - 1_000;
const BATCH_BUDGET = QUEUE_LIMITS.batchBytes - 16_000;

const encoder = new TextEncoder();

/** The UTF-8 size of a message body as the queue stores it (JSON). */
export function messageBytes(body: unknown): number {
  return jsonBytes(JSON.stringify(body));
}

/** The UTF-8 size of a message body already serialized as JSON. */
export function jsonBytes(json: string): number {
  return encoder.encode(json).byteLength;
}

/** Whether a message body fits in one queue message. */
export function fitsOneMessage(body: unknown): boolean {
  return bytesFitOneMessage(messageBytes(body));
}

/** Whether a message body of this many bytes fits in one queue message. */
export function bytesFitOneMessage(bytes: number): boolean {
  return bytes <= MESSAGE_BUDGET;
}

/**
 * Refuses, with a 413 problem, a body that could never be sent as one message. Call it where a client's
 * input becomes a message, before anything is stored, so nothing is accepted that would then be stuck.
 */
export function assertFitsOneMessage(body: unknown, what = "The request"): void {
  const size = messageBytes(body);
  if (size > MESSAGE_BUDGET) {
    throw new Problem(
      413,
      "message-too-large",
      `${what} is ${size} bytes as a message; at most ${MESSAGE_BUDGET} fit`,
      {
        extensions: { bytes: size, maxBytes: MESSAGE_BUDGET },
      },
    );
  }
}

/** A message that can never be sent: over the per-message limit. */
export class MessageTooLarge extends Error {
  constructor(
    readonly index: number,
    readonly bytes: number,
  ) {
    super(`message ${index} is ${bytes} bytes; at most ${MESSAGE_BUDGET} fit in one queue message`);
    this.name = "MessageTooLarge";
  }
}

/**
 * Splits message bodies into `sendBatch` calls of at most 100 messages and 256 KB each (counted in UTF-8
 * bytes), preserving order. Throws `MessageTooLarge` (before sending anything) if one body alone is over
 * 128 KB. `sizeOf` gives a body's size when the caller already knows it (default: `messageBytes`).
 *
 * @example
 * for (const chunk of queueBatches(bodies)) await queue.sendBatch(chunk.map((body) => ({ body })));
 */
export function queueBatches<T>(bodies: readonly T[], sizeOf: (body: T) => number = messageBytes): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  bodies.forEach((body, index) => {
    const size = sizeOf(body);
    if (size > MESSAGE_BUDGET) throw new MessageTooLarge(index, size);
    if (current.length && (current.length >= QUEUE_LIMITS.batchMessages || bytes + size > BATCH_BUDGET)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(body);
    bytes += size;
  });
  if (current.length) batches.push(current);
  return batches;
}

/**
 * Sends every body to `queue`, in as few `sendBatch` calls as the limits allow, one after another.
 * The one way every producer in grid321 sends.
 *
 * @example
 * await sendInBatches(env.WEBHOOKS, deliveries);
 */
export async function sendInBatches<T>(
  queue: Pick<Queue<T>, "sendBatch">,
  bodies: readonly T[],
  options: { delaySeconds?: number } = {},
): Promise<void> {
  for (const batch of queueBatches(bodies)) {
    await timed("queue", () =>
      queue.sendBatch(
        batch.map((body) => ({
          body,
          contentType: "json" as const,
          ...(options.delaySeconds ? { delaySeconds: options.delaySeconds } : {}),
        })),
      ),
    );
  }
}
