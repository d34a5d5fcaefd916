import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  defineConsumer,
  exponentialBackoff,
  type PoisonSink,
  type QueueConsumer,
} from "../../src/platform/queues/consume";
import { CaptureQueue } from "../support/doubles";

/** A notice to a grid, as a toy message type. */
const Notice = z.object({ gridId: z.string(), text: z.string().min(1) });
type Notice = z.infer<typeof Notice>;

/** What a consumer did with a batch: acks, retries with their delays, and whether it acked the batch. */
interface Outcome {
  explicitAcks: string[];
  retryMessages: Array<{ msgId: string; delaySeconds: number | undefined }>;
  ackAll: boolean;
}

/** Runs a consumer over bodies (with the given attempts) in a batch that records what it was told. */
async function run(consumer: QueueConsumer, bodies: unknown[], attempts = 1): Promise<Outcome> {
  const outcome: Outcome = { explicitAcks: [], retryMessages: [], ackAll: false };
  const messages = bodies.map((body, i) => ({
    id: `n${i}`,
    timestamp: new Date(),
    attempts,
    body,
    ack: () => void outcome.explicitAcks.push(`n${i}`),
    retry: (options?: QueueRetryOptions) =>
      void outcome.retryMessages.push({ msgId: `n${i}`, delaySeconds: options?.delaySeconds }),
  }));
  const batch: MessageBatch<unknown> = {
    queue: "notices",
    messages,
    metadata: { metrics: { backlogCount: 0, backlogBytes: 0, oldestMessageTimestamp: new Date() } },
    ackAll: () => {
      outcome.ackAll = true;
    },
    retryAll: () => {
      throw new Error("the skeleton settles messages one by one");
    },
  };
  await consumer(batch, env);
  return outcome;
}

function consumerOf(
  handle: (bodies: Array<{ body: Notice; retry(): void }>) => Promise<void>,
  poison: PoisonSink = { logOnly: true },
) {
  return defineConsumer({
    name: "notices",
    schema: Notice,
    backoff: exponentialBackoff({ base: 5, max: 300 }),
    poison,
    handle: (deliveries) => handle(deliveries),
  });
}

describe("the consumer skeleton", () => {
  it("backs off exponentially by attempts, capped", () => {
    expect([1, 2, 3, 4, 5, 6, 7].map(exponentialBackoff({ base: 5, max: 300 }))).toEqual([
      5, 10, 20, 40, 80, 160, 300,
    ]);
    expect([1, 2, 3, 5].map(exponentialBackoff({ base: 30, factor: 4, max: 3600 }))).toEqual([
      30, 120, 480, 3600,
    ]);
  });

  it("validates, hands the valid messages over and acks them (and the batch) when the handler returns", async () => {
    const seen: string[] = [];
    const result = await run(
      consumerOf(async (ds) => void seen.push(...ds.map((d) => d.body.text))),
      [
        { gridId: "g1", text: "积水" },
        { gridId: "g2", text: "噪音扰民" },
      ],
    );
    expect(seen).toEqual(["积水", "噪音扰民"]);
    expect(result.explicitAcks.sort()).toEqual(["n0", "n1"]);
    expect(result.ackAll).toBe(true);
    expect(result.retryMessages).toEqual([]);
  });

  it("retries every unsettled message with the backoff of its attempt when the handler throws", async () => {
    const result = await run(
      consumerOf(async () => {
        throw new Error("libSQL unreachable");
      }),
      [
        { gridId: "g1", text: "积水" },
        { gridId: "g2", text: "噪音扰民" },
      ],
      3,
    );
    expect(result.explicitAcks).toEqual([]);
    expect(result.ackAll).toBe(false);
    expect(result.retryMessages).toEqual([
      { msgId: "n0", delaySeconds: 20 },
      { msgId: "n1", delaySeconds: 20 },
    ]);
  });

  it("lets a handler retry one message and acks the rest", async () => {
    const result = await run(
      consumerOf(async (ds) => {
        for (const d of ds) if (d.body.gridId === "unknown") d.retry();
      }),
      [
        { gridId: "g1", text: "积水" },
        { gridId: "unknown", text: "噪音扰民" },
      ],
    );
    expect(result.explicitAcks).toEqual(["n0"]);
    expect(result.retryMessages).toEqual([{ msgId: "n1", delaySeconds: 5 }]);
  });

  it("sends poison to the dead-letter queue unchanged and acks it, never handing it to the handler", async () => {
    const deadLetters = new CaptureQueue();
    const handled: unknown[] = [];
    const poison = { gridId: "g1", text: "" };
    const result = await run(
      consumerOf(async (ds) => void handled.push(...ds.map((d) => d.body)), {
        deadLetterQueue: () => deadLetters,
      }),
      [{ gridId: "g1", text: "积水" }, poison, "不是对象"],
    );
    expect(handled).toEqual([{ gridId: "g1", text: "积水" }]);
    expect(deadLetters.messages).toEqual([poison, "不是对象"]);
    expect(result.explicitAcks.sort()).toEqual(["n0", "n1", "n2"]);
    expect(result.retryMessages).toEqual([]);
  });

  it("records poison through the consumer's own record, and retries it if the record fails", async () => {
    const recorded: string[] = [];
    let failing = true;
    const consumer = consumerOf(async () => undefined, {
      record: async (messages) => {
        if (failing) throw new Error("audit log unreachable");
        recorded.push(...messages.map((m) => m.id));
      },
    });
    const failed = await run(consumer, [{ nope: 1 }], 2);
    expect(failed.explicitAcks).toEqual([]);
    expect(failed.retryMessages).toEqual([{ msgId: "n0", delaySeconds: 10 }]);
    failing = false;
    const done = await run(consumer, [{ nope: 1 }], 3);
    expect(done.explicitAcks).toEqual(["n0"]);
    expect(recorded).toEqual(["n0"]);
  });
});
