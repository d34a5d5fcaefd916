import { bytesFitOneMessage, jsonBytes, queueBatches } from "../../platform/queues/send";

/** A queue the outbox can send to (the real bindings, or a test double). */
export type OutboxTarget = Pick<Queue, "sendBatch">;

/** Rows read per round of a flush (sent in as few `sendBatch` calls as the queue limits allow). */
const ROWS_PER_ROUND = 500;

/**
 * How long a sent case event waits for the projection's confirmation before it is sent again; each resend
 * doubles the wait, up to `RESEND_MAX_MS` (so a long libSQL outage costs a few resends, not a storm).
 */
export const RESEND_AFTER_MS = 2 * 60_000;
export const RESEND_MAX_MS = 30 * 60_000;

type OutboxRow = {
  id: number;
  queue: string;
  body: string;
  dseq: number | null;
  resends: number;
};

/**
 * The desk's transactional outbox: rows written in the same storage transaction as the event they announce,
 * sent to their queue after the commit. A row without a desk sequence number (`escalations` notices) is
 * deleted once the queue accepted it. A case event (with its `dseq`) is only marked sent: the queue accepting
 * it does not mean the projection got it (a local queue dies with its process; a message outlives its retries
 * while libSQL is down). It is deleted when the projection confirms its `dseq` (`confirm`), and sent again
 * from `resend_at` on if no confirmation came (see reconcile.ts).
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

  /** The first wait for a confirmation (tests shorten it). Later resends double it, up to `RESEND_MAX_MS`. */
  resendAfterMs = RESEND_AFTER_MS;

  /** Sets the first wait for a confirmation, for events sent from now on and those already waiting. */
  setResendAfter(ms: number): void {
    this.resendAfterMs = ms;
    this.storage.sql.exec(
      `UPDATE outbox SET resend_at = sent_at + min(?, ? * (1 << min(resends, 10))) WHERE sent_at IS NOT NULL`,
      RESEND_MAX_MS,
      ms,
    );
  }

  /** Rows not yet sent. */
  pending(): number {
    return this.storage.sql
      .exec<{ n: number }>("SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL")
      .one().n;
  }

  /** Case events sent but not yet confirmed by the projection. */
  unconfirmed(): number {
    return this.storage.sql
      .exec<{ n: number }>("SELECT count(*) AS n FROM outbox WHERE sent_at IS NOT NULL")
      .one().n;
  }

  /**
   * What the desk's alarm needs, in one read: the most attempts any unsent row has had (null if none is
   * unsent, for the retry backoff) and when the earliest unconfirmed case event is due again (or null).
   */
  schedule(): { attempts: number | null; resendAt: number | null } {
    return this.storage.sql
      .exec<{ attempts: number | null; resendAt: number | null }>(
        `SELECT (SELECT max(attempts) FROM outbox WHERE sent_at IS NULL) AS attempts,
                (SELECT min(resend_at) FROM outbox WHERE sent_at IS NOT NULL) AS resendAt`,
      )
      .one();
  }

  /** When the earliest sent, unconfirmed case event is due to be sent again (epoch ms), or null. */
  nextResendAt(): number | null {
    return this.storage.sql
      .exec<{ at: number | null }>("SELECT min(resend_at) AS at FROM outbox WHERE sent_at IS NOT NULL")
      .one().at;
  }

  /**
   * The projection holds every event up to `dseq`: their rows are done with (sent or not: a resend of an
   * earlier attempt got there). Returns how many rows it deleted.
   */
  confirm(dseq: number): number {
    return this.storage.sql.exec("DELETE FROM outbox WHERE dseq IS NOT NULL AND dseq <= ?", dseq).rowsWritten;
  }

  /**
   * Makes sent, unconfirmed case events due again: those whose `resend_at` has come, or — when `minAgeMs` is
   * given (the watchdog's poke) — every one sent at least that long ago. Returns how many.
   */
  requeue(now: number, minAgeMs?: number): number {
    // Every flush asks; a read of the index (usually: nothing due) spares a write statement and a scan.
    if (minAgeMs === undefined && (this.nextResendAt() ?? Number.POSITIVE_INFINITY) > now) return 0;
    const cutoff = minAgeMs === undefined ? null : now - minAgeMs;
    return this.storage.sql.exec(
      `UPDATE outbox SET sent_at = NULL, resend_at = NULL, resends = resends + 1
       WHERE sent_at IS NOT NULL AND (resend_at <= ? OR sent_at <= ?)`,
      now,
      cutoff ?? -1,
    ).rowsWritten;
  }

  /** Rows set aside because they can never be sent. */
  dead(): number {
    return this.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM dead_outbox").one().n;
  }

  /**
   * Queues a message; call it inside the transaction that writes what the message announces. A case event
   * passes its `dseq`: its row is then kept until the projection confirms it.
   */
  add(queue: string, body: unknown, dseq: number | null = null): void {
    this.storage.sql.exec(
      "INSERT INTO outbox (queue, body, dseq) VALUES (?, ?, ?)",
      queue,
      JSON.stringify(body),
      dseq,
    );
  }

  /**
   * Sends every unsent row, oldest first, one queue's run at a time, until a round finds fewer rows than it
   * could take (rows added meanwhile are the caller's next round: the desk flushes again after every write).
   * A failed send counts an attempt on its rows and throws (the alarm retries with backoff). Case events
   * whose confirmation is overdue are made due first by `requeue` (the alarm, the reconciler).
   */
  async send(): Promise<void> {
    for (;;) {
      const rows = this.storage.sql
        .exec<OutboxRow>(
          "SELECT id, queue, body, dseq, resends FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT ?",
          ROWS_PER_ROUND,
        )
        .toArray();
      for (const run of runsByQueue(rows)) await this.sendRun(run);
      if (rows.length < ROWS_PER_ROUND) return;
    }
  }

  private async sendRun(run: OutboxRow[]): Promise<void> {
    const sendable: Array<{
      id: number;
      body: unknown;
      bytes: number;
      dseq: number | null;
      resends: number;
    }> = [];
    for (const row of run) {
      // The stored JSON is what the queue carries: its size is counted once, from the text.
      const bytes = jsonBytes(row.body);
      if (bytesFitOneMessage(bytes)) {
        sendable.push({
          id: row.id,
          body: JSON.parse(row.body),
          bytes,
          dseq: row.dseq,
          resends: row.resends,
        });
      } else this.setAside(row, bytes);
    }
    if (sendable.length === 0) return;
    const queue = run[0]!.queue;
    const target = this.targets()[queue];
    for (const sent of queueBatches(sendable, (s) => s.bytes)) {
      try {
        if (!target) throw new Error(`no queue binding for ${queue}`);
        await target.sendBatch(sent.map((s) => ({ body: s.body, contentType: "json" as const })));
      } catch (error) {
        this.storage.sql.exec(
          `UPDATE outbox SET attempts = attempts + 1 WHERE id IN (SELECT value FROM json_each(?))`,
          JSON.stringify(sent.map((s) => s.id)),
        );
        throw error;
      }
      this.markSent(sent);
    }
  }

  /**
   * Deletes rows without a `dseq`; marks case events sent, to be sent again from `resend_at` unless confirmed.
   * The wait doubles with every resend, up to `RESEND_MAX_MS`. One short statement a row: a desk prepares
   * each statement for itself, and a flush usually carries a row or two.
   */
  private markSent(sent: ReadonlyArray<{ id: number; dseq: number | null; resends: number }>): void {
    const now = Date.now();
    for (const row of sent) {
      if (row.dseq === null) {
        this.storage.sql.exec("DELETE FROM outbox WHERE id = ?", row.id);
        continue;
      }
      const wait = Math.min(RESEND_MAX_MS, this.resendAfterMs * 2 ** Math.min(row.resends, 10));
      this.storage.sql.exec(
        "UPDATE outbox SET sent_at = ?, resend_at = ? WHERE id = ?",
        now,
        now + wait,
        row.id,
      );
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
