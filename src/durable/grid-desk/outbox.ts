import { fitsOneMessage, messageBytes, queueBatches } from "../../platform/queues/send";

/** A queue the outbox can send to (the real bindings, or a test double). */
export type OutboxTarget = Pick<Queue, "sendBatch">;

/** Rows read per round of a flush (sent in as few `sendBatch` calls as the queue limits allow). */
const ROWS_PER_ROUND = 500;

type OutboxRow = {
  id: number;
  queue: string;
  body: string;
};

/**
 * The desk's transactional outbox: rows written in the same storage transaction as the event they announce,
 * sent to their queue after the commit and deleted once the queue accepted them.
 *
 * Batches are cut by the queue limits in UTF-8 bytes (`queueBatches`): a Chinese character is 3 bytes, so a
 * backlog of long reports takes several `sendBatch` calls instead of one that the queue refuses on every
 * retry. A row that could never be sent as one message is moved to `dead_outbox` (with a log line) and the
 * rest keep flowing: one bad row must not hold up a grid's outbox for good.
 */
export class Outbox {
  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly targets: () => Record<string, OutboxTarget>,
  ) {}

  /** Rows not yet sent. */
  pending(): number {
    return this.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM outbox").one().n;
  }

  /** Rows set aside because they can never be sent. */
  dead(): number {
    return this.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM dead_outbox").one().n;
  }

  /** The most attempts any pending row has had (0 if none), for the retry backoff. */
  attempts(): number | null {
    const row = this.storage.sql
      .exec<{ n: number; attempts: number | null }>(
        "SELECT count(*) AS n, max(attempts) AS attempts FROM outbox",
      )
      .one();
    return row.n === 0 ? null : (row.attempts ?? 0);
  }

  /** Queues a message; call it inside the transaction that writes what the message announces. */
  add(queue: string, body: unknown): void {
    this.storage.sql.exec("INSERT INTO outbox (queue, body) VALUES (?, ?)", queue, JSON.stringify(body));
  }

  /**
   * Sends every row, oldest first, one queue's run at a time, deleting each batch once the queue accepted it.
   * A failed send counts an attempt on its rows and throws (the alarm retries with backoff).
   */
  async send(): Promise<void> {
    for (;;) {
      const rows = this.storage.sql
        .exec<OutboxRow>("SELECT id, queue, body FROM outbox ORDER BY id LIMIT ?", ROWS_PER_ROUND)
        .toArray();
      if (rows.length === 0) return;
      for (const run of runsByQueue(rows)) await this.sendRun(run);
    }
  }

  private async sendRun(run: OutboxRow[]): Promise<void> {
    const sendable: Array<{ id: number; body: unknown }> = [];
    for (const row of run) {
      const body: unknown = JSON.parse(row.body);
      if (fitsOneMessage(body)) sendable.push({ id: row.id, body });
      else this.setAside(row, messageBytes(body));
    }
    if (sendable.length === 0) return;
    const queue = run[0]!.queue;
    const target = this.targets()[queue];
    let next = 0;
    for (const batch of queueBatches(sendable.map((s) => s.body))) {
      const ids = sendable.slice(next, next + batch.length).map((s) => s.id);
      next += batch.length;
      const marks = ids.map(() => "?").join(",");
      try {
        if (!target) throw new Error(`no queue binding for ${queue}`);
        await target.sendBatch(batch.map((body) => ({ body, contentType: "json" as const })));
      } catch (error) {
        this.storage.sql.exec(`UPDATE outbox SET attempts = attempts + 1 WHERE id IN (${marks})`, ...ids);
        throw error;
      }
      this.storage.sql.exec(`DELETE FROM outbox WHERE id IN (${marks})`, ...ids);
    }
  }

  /** Moves a row that can never be sent to `dead_outbox`, with a log line for the operators. */
  private setAside(row: OutboxRow, bytes: number): void {
    this.storage.transactionSync(() => {
      this.storage.sql.exec(
        `INSERT INTO dead_outbox (id, queue, body, bytes, reason, at) VALUES (?, ?, ?, ?, 'too-large', ?)
         ON CONFLICT (id) DO NOTHING`,
        row.id,
        row.queue,
        row.body,
        bytes,
        new Date().toISOString(),
      );
      this.storage.sql.exec("DELETE FROM outbox WHERE id = ?", row.id);
    });
    console.error(
      JSON.stringify({
        kind: "outbox-row-set-aside",
        reason: "too-large",
        outboxId: row.id,
        queue: row.queue,
        bytes,
        dead: this.dead(),
      }),
    );
  }
}

/** Splits rows (in id order) into runs of consecutive rows bound for the same queue. */
function runsByQueue(rows: OutboxRow[]): OutboxRow[][] {
  const runs: OutboxRow[][] = [];
  for (const row of rows) {
    const last = runs[runs.length - 1];
    if (last && last[0]!.queue === row.queue) last.push(row);
    else runs.push([row]);
  }
  return runs;
}
