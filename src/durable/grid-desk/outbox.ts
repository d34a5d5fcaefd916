import { bytesFitOneMessage, jsonBytes, queueBatches } from "../../platform/queues/send";
import { readMeta, writeMeta } from "./meta";

/** A queue the outbox can send to (the real bindings, or a test double). */
export type OutboxTarget = Pick<Queue, "sendBatch">;

/** Rows read per round of a flush (sent in as few `sendBatch` calls as the queue limits allow). */
const ROWS_PER_ROUND = 500;

/** Sent marks kept in memory at most; past that they are written at once. */
const MARKS_IN_MEMORY = 200;

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

/** A case event the queue accepted whose mark is not written yet. */
type SentMark = { dseq: number; sentAt: number; resendAt: number };

/**
 * Rows still to send: not sent, not marked sent in memory, not covered by a confirmation. Its parameters are
 * the confirmed `dseq` and the JSON array of the ids marked sent in memory (`unsentArgs`).
 */
const UNSENT = `sent_at IS NULL AND (dseq IS NULL OR dseq > ?)
  AND id NOT IN (SELECT value FROM json_each(?))`;

/** Case events sent and not covered by a confirmation; its parameter is the confirmed `dseq`. */
const AWAITING = "sent_at IS NOT NULL AND dseq > ?";

/**
 * The desk's transactional outbox: rows written in the same storage transaction as the event they announce,
 * sent to their queue after the commit. A row without a desk sequence number (`escalations` notices) is
 * deleted once the queue accepted it. A case event (with its `dseq`) is only marked sent: the queue accepting
 * it does not mean the projection got it (a local queue dies with its process; a message outlives its retries
 * while libSQL is down). It is deleted when the projection confirms its `dseq` (`confirm`), and sent again
 * from `resend_at` on if no confirmation came (see reconcile.ts).
 *
 * Sent marks and confirmations are bookkeeping: they are kept in memory and written with the desk's next
 * transaction, or when the desk has nothing left in flight (`save`). On this path most case events are
 * confirmed within a second, so a report costs its desk no commit for either. Losing them (the desk evicted
 * or restarted first) only means sending those events again, which the consumers ignore.
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
  /** Case events the queue accepted, by row id, whose `sent_at` is not written yet. */
  private readonly marks = new Map<number, SentMark>();
  /** The confirmed `dseq` as stored in `meta` (undefined: not read yet). */
  private storedConfirmed: number | undefined;
  /** A confirmation beyond the stored one, not written yet (0: none). */
  private confirmedAhead = 0;

  /** Sets the first wait for a confirmation, for events sent from now on and those already waiting. */
  setResendAfter(ms: number): void {
    this.resendAfterMs = ms;
    this.save();
    this.storage.sql.exec(
      `UPDATE outbox SET resend_at = sent_at + min(?, ? * (1 << min(resends, 10))) WHERE sent_at IS NOT NULL`,
      RESEND_MAX_MS,
      ms,
    );
  }

  /** The highest `dseq` the projection confirmed (written or not). */
  confirmedDseq(): number {
    return Math.max(this.confirmedDseqStored(), this.confirmedAhead);
  }

  /** Rows not yet sent. */
  pending(): number {
    return this.storage.sql
      .exec<{ n: number }>(`SELECT count(*) AS n FROM outbox WHERE ${UNSENT}`, ...this.unsentArgs())
      .one().n;
  }

  /** Case events sent but not yet confirmed by the projection. */
  unconfirmed(): number {
    const written = this.storage.sql
      .exec<{ n: number }>(`SELECT count(*) AS n FROM outbox WHERE ${AWAITING}`, this.confirmedDseq())
      .one().n;
    return written + this.marks.size;
  }

  /**
   * What the desk's alarm needs, in one read: the most attempts any unsent row has had (null if none is
   * unsent, for the retry backoff) and when the earliest unconfirmed case event is due again (or null).
   */
  schedule(): { attempts: number | null; resendAt: number | null } {
    const { attempts, resendAt } = this.storage.sql
      .exec<{ attempts: number | null; resendAt: number | null }>(
        `SELECT (SELECT max(attempts) FROM outbox WHERE ${UNSENT}) AS attempts,
                (SELECT min(resend_at) FROM outbox WHERE ${AWAITING}) AS resendAt`,
        ...this.unsentArgs(),
        this.confirmedDseq(),
      )
      .one();
    return { attempts, resendAt: this.withMarks(resendAt) };
  }

  /** When the earliest sent, unconfirmed case event is due to be sent again (epoch ms), or null. */
  nextResendAt(): number | null {
    const written = this.storage.sql
      .exec<{ at: number | null }>(
        `SELECT min(resend_at) AS at FROM outbox WHERE ${AWAITING}`,
        this.confirmedDseq(),
      )
      .one().at;
    return this.withMarks(written);
  }

  /**
   * The projection holds every event up to `dseq`: their rows are done with (sent or not: a resend of an
   * earlier attempt got there). Kept in memory until `save` or the desk's next transaction.
   */
  confirm(dseq: number): void {
    if (dseq <= this.confirmedDseq()) return;
    this.confirmedAhead = dseq;
    for (const [id, mark] of this.marks) if (mark.dseq <= dseq) this.marks.delete(id);
  }

  /**
   * Whether any row is still to be sent or confirmed: the desk's alarm then has to stay near. One short
   * statement (each desk prepares its own).
   */
  inFlight(): boolean {
    if (this.marks.size > 0) return true;
    return (
      this.storage.sql
        .exec("SELECT 1 FROM outbox WHERE dseq IS NULL OR dseq > ? LIMIT 1", this.confirmedDseq())
        .toArray().length > 0
    );
  }

  /** When the earliest case event marked sent in memory is due again (epoch ms), or null. */
  nextMarkResendAt(): number | null {
    return this.withMarks(null);
  }

  /**
   * Writes the sent marks and the confirmation kept in memory; call it inside a transaction, then `saved()`
   * once it committed (a rollback leaves them in memory).
   */
  writeUnsaved(): void {
    if (this.confirmedAhead > this.confirmedDseqStored()) {
      writeMeta(this.storage.sql, "confirmed_dseq", String(this.confirmedAhead));
      this.storage.sql.exec("DELETE FROM outbox WHERE dseq IS NOT NULL AND dseq <= ?", this.confirmedAhead);
    }
    for (const [id, mark] of this.marks) {
      this.storage.sql.exec(
        "UPDATE outbox SET sent_at = ?, resend_at = ? WHERE id = ?",
        mark.sentAt,
        mark.resendAt,
        id,
      );
    }
  }

  /** The marks and confirmation `writeUnsaved` wrote are committed. */
  saved(): void {
    if (this.confirmedAhead > this.confirmedDseqStored()) this.storedConfirmed = this.confirmedAhead;
    this.confirmedAhead = 0;
    this.marks.clear();
  }

  /** Writes what is kept in memory now, in one transaction. */
  save(): void {
    if (this.marks.size === 0 && this.confirmedAhead <= this.confirmedDseqStored()) return;
    this.storage.transactionSync(() => this.writeUnsaved());
    this.saved();
  }

  /**
   * Makes sent, unconfirmed case events due again: those whose `resend_at` has come, or — when `minAgeMs` is
   * given (the watchdog's poke) — every one sent at least that long ago. Returns how many.
   */
  requeue(now: number, minAgeMs?: number): number {
    // Every alarm asks; a read of the index (usually: nothing due) spares a write statement and a scan.
    if (minAgeMs === undefined && (this.nextResendAt() ?? Number.POSITIVE_INFINITY) > now) return 0;
    this.save();
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
      // Without marks in memory (a desk's first flush) the short statement: each desk prepares its own.
      const rows = (
        this.marks.size === 0
          ? this.storage.sql.exec<OutboxRow>(
              `SELECT id, queue, body, dseq, resends FROM outbox
               WHERE sent_at IS NULL AND (dseq IS NULL OR dseq > ?) ORDER BY id LIMIT ?`,
              this.confirmedDseq(),
              ROWS_PER_ROUND,
            )
          : this.storage.sql.exec<OutboxRow>(
              `SELECT id, queue, body, dseq, resends FROM outbox WHERE ${UNSENT} ORDER BY id LIMIT ?`,
              ...this.unsentArgs(),
              ROWS_PER_ROUND,
            )
      ).toArray();
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
   * Deletes rows without a `dseq` (`escalations` notices: rare, and done with once the queue has them). Marks
   * case events sent, in memory: sent again from their resend time unless confirmed. The wait doubles with
   * every resend, up to `RESEND_MAX_MS`.
   */
  private markSent(sent: ReadonlyArray<{ id: number; dseq: number | null; resends: number }>): void {
    const now = Date.now();
    const confirmed = this.confirmedDseq();
    for (const row of sent) {
      if (row.dseq === null) {
        this.storage.sql.exec("DELETE FROM outbox WHERE id = ?", row.id);
        continue;
      }
      // Confirmed while the send was under way (a resend of an earlier attempt got there first).
      if (row.dseq <= confirmed) continue;
      const wait = Math.min(RESEND_MAX_MS, this.resendAfterMs * 2 ** Math.min(row.resends, 10));
      this.marks.set(row.id, { dseq: row.dseq, sentAt: now, resendAt: now + wait });
    }
    if (this.marks.size > MARKS_IN_MEMORY) this.save();
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

  /** The confirmed `dseq` as written (read once, then kept). */
  private confirmedDseqStored(): number {
    this.storedConfirmed ??= Number(readMeta(this.storage.sql, "confirmed_dseq") ?? 0);
    return this.storedConfirmed;
  }

  /** The parameters of `UNSENT`. */
  private unsentArgs(): [number, string] {
    return [this.confirmedDseq(), JSON.stringify([...this.marks.keys()])];
  }

  /** `at` or the earliest resend time of the marks kept in memory, whichever comes first. */
  private withMarks(at: number | null): number | null {
    let earliest = at;
    for (const mark of this.marks.values()) {
      if (earliest === null || mark.resendAt < earliest) earliest = mark.resendAt;
    }
    return earliest;
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
