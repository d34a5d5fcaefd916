import { readMeta, writeMeta } from "./meta";
import type { Outbox } from "./outbox";

/**
 * The desk's side of a projection that converges. Every event a desk records gets a desk sequence number
 * (`dseq`): desk-wide, gap-free, in commit order, stored with the event and carried in its `case-events`
 * message. The projection keeps, per desk, the highest `dseq` up to which it holds every event
 * (`projected_dseq`, advanced only contiguously) and tells the desk after each commit (`confirmProjected`).
 * The desk keeps each case event's outbox row until that confirmation, and sends again what stays unconfirmed
 * (its alarm, with backoff; the cron watchdog pokes desks whose projection lags). The consumers ignore what
 * they already hold, so sending again is always safe. The desk never reads libSQL for any of this.
 */

/** What a desk knows of its projection. */
export interface DeskProjectionState {
  /** The desk's last `dseq` (0 before its first counted event). */
  lastDseq: number;
  /** The highest `dseq` the projection confirmed holding with everything before it. */
  confirmedDseq: number;
  /** Case events sent and waiting for the projection's confirmation. */
  unconfirmed: number;
  /** Case events not sent yet. */
  unsent: number;
  /** When the desk next sends the unconfirmed ones again (ISO), or null. */
  nextResendAt: string | null;
}

/** Reads a counter from the desk's `meta` table. */
function metaNumber(sql: SqlStorage, key: string): number {
  return Number(readMeta(sql, key) ?? 0);
}

/**
 * Takes the desk's next `dseq`; call it inside the transaction that records the event, so a rolled-back
 * command gives its number back and the sequence stays gap-free.
 */
export function nextDeskSeq(sql: SqlStorage): number {
  const next = metaNumber(sql, "last_dseq") + 1;
  writeMeta(sql, "last_dseq", String(next));
  return next;
}

/**
 * Records the projection's confirmation that it holds every event up to `dseq`: their outbox rows are done
 * with. Never beyond the desk's own last `dseq` (a projection ahead of its desk is not trusted), never
 * backwards. The outbox keeps it in memory until the desk's next write (see `Outbox`). Returns the confirmed
 * `dseq`.
 */
export function confirmProjected(sql: SqlStorage, outbox: Outbox, dseq: number): number {
  const before = outbox.confirmedDseq();
  const confirmed = Math.max(before, Math.min(dseq, metaNumber(sql, "last_dseq")));
  outbox.confirm(confirmed);
  return confirmed;
}

/** The desk's view of its projection (operations, the watchdog and tests). */
export function deskProjectionState(sql: SqlStorage, outbox: Outbox): DeskProjectionState {
  const next = outbox.nextResendAt();
  return {
    lastDseq: metaNumber(sql, "last_dseq"),
    confirmedDseq: outbox.confirmedDseq(),
    unconfirmed: outbox.unconfirmed(),
    unsent: outbox.pending(),
    nextResendAt: next === null ? null : new Date(next).toISOString(),
  };
}
