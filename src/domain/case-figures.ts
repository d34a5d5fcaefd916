import { chinaDate } from "./china-time";
import type { UnitLevel } from "./units";

/**
 * Upper bounds (minutes) of the fixed histogram buckets for time to accept and to resolve; the last bucket is
 * open. Close together where most cases fall (the first hours), wide where few do.
 */
export const DURATION_BUCKETS_MIN = [
  15, 30, 60, 120, 240, 480, 720, 1440, 2880, 4320, 7200, 10080, 20160, 43200,
] as const;
/** How many buckets a histogram holds (the bounds plus the open one). */
export const BUCKET_COUNT = DURATION_BUCKETS_MIN.length + 1;

/** The counters a roll-up row keeps, per (unit, China day, case type, severity). */
export const ROLLUP_COUNTERS = [
  "reported",
  "accepted",
  "rejected",
  "merged",
  "resolved",
  "resolved_on_time",
  "closed",
  "reopened",
  "overdue",
  "escalated",
  "resolved_grid",
  "resolved_village",
  "resolved_town",
  "resolved_county",
  "resolved_city",
  "visit_satisfied",
  "visit_basic",
  "visit_dissatisfied",
  ...Array.from({ length: BUCKET_COUNT }, (_, i) => `accept_h${i}` as const),
  ...Array.from({ length: BUCKET_COUNT }, (_, i) => `resolve_h${i}` as const),
] as const;
export type RollupCounter = (typeof ROLLUP_COUNTERS)[number];
export type RollupCounts = Record<RollupCounter, number>;

/** What a roll-up needs to know of the case besides the event: fixed facts, and two that change. */
export interface RollupCase {
  createdAt: string;
  /** Level of the unit responsible right after the event (where a resolution counts). */
  responsibleLevel: UnitLevel;
  /** Whether the case had gone overdue by the event (a resolution then is not on time). */
  overdue: boolean;
}

/** The bucket a duration (ms) falls into. */
export function bucketOf(ms: number): number {
  const minutes = Math.max(0, ms) / 60_000;
  const i = DURATION_BUCKETS_MIN.findIndex((hi) => minutes < hi);
  return i === -1 ? DURATION_BUCKETS_MIN.length : i;
}

/** A bucket's bounds in ms: `[lo, hi)`, `hi` null for the open last bucket. */
export function bucketBounds(i: number): [number, number | null] {
  const lo = i === 0 ? 0 : DURATION_BUCKETS_MIN[i - 1]! * 60_000;
  const hi = i < DURATION_BUCKETS_MIN.length ? DURATION_BUCKETS_MIN[i]! * 60_000 : null;
  return [lo, hi];
}

/**
 * What one case event adds to its roll-up row: counters set to 1, nothing for events that count nowhere.
 *
 * @example
 * rollupDelta({ type: "accepted", at: "2026-03-01T02:00:00Z", payload: {} }, c); // { accepted: 1, accept_h3: 1 }
 */
export function rollupDelta(
  event: { type: string; at: string; payload: Record<string, unknown> },
  c: RollupCase,
): Partial<RollupCounts> {
  const since = Date.parse(event.at) - Date.parse(c.createdAt);
  switch (event.type) {
    case "reported":
    case "rejected":
    case "merged":
    case "closed":
    case "reopened":
    case "overdue":
    case "escalated":
      return { [event.type]: 1 };
    case "accepted":
      return { accepted: 1, [`accept_h${bucketOf(since)}`]: 1 };
    case "resolved":
      return {
        resolved: 1,
        [`resolved_${c.responsibleLevel}`]: 1,
        [`resolve_h${bucketOf(since)}`]: 1,
        ...(c.overdue ? {} : { resolved_on_time: 1 }),
      };
    case "return_visited": {
      const s = event.payload.satisfaction;
      const counter =
        s === "satisfied" ? "visit_satisfied" : s === "dissatisfied" ? "visit_dissatisfied" : "visit_basic";
      return s === "dissatisfied" ? { [counter]: 1, reopened: 1 } : { [counter]: 1 };
    }
    default:
      return {};
  }
}

/** The China day an event counts on. */
export const rollupDay = (at: string): string => chinaDate(at);

/**
 * Follows a case through its events in seq order to give each the `RollupCase` the live projection reads off
 * the case record: the responsible level moves with accept, dispatch, escalation and sending down, and
 * `overdue` sticks once an overdue step is recorded. Used to rebuild roll-ups from stored events.
 */
export class RollupTracker {
  private level: UnitLevel;
  private overdue = false;
  constructor(
    private readonly createdAt: string,
    owningLevel: UnitLevel,
  ) {
    this.level = owningLevel;
  }

  /** The context of the next event; `actorLevel` is the level of the acting user's unit, when one acted. */
  next(event: { type: string; payload: Record<string, unknown> }, actorLevel: UnitLevel | null): RollupCase {
    const to = event.payload.toLevel;
    if (event.type === "accepted" && actorLevel) this.level = actorLevel;
    if (["dispatched", "escalated", "sent_down"].includes(event.type) && typeof to === "string") {
      this.level = to as UnitLevel;
    }
    if (event.type === "overdue") this.overdue = true;
    return { createdAt: this.createdAt, responsibleLevel: this.level, overdue: this.overdue };
  }
}

/**
 * The `p`-quantile (0–1) of a histogram, interpolated inside its bucket: it always lies in the bucket that
 * holds the exact (nearest-rank) value, so it is off by less than that bucket's width. The open last
 * bucket answers its lower bound. Null for an empty histogram.
 */
export function percentileOf(histogram: readonly number[], p: number): number | null {
  const total = histogram.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    const n = histogram[i] ?? 0;
    if (seen + n >= rank) {
      const [lo, hi] = bucketBounds(i);
      if (hi === null) return lo;
      return lo + ((hi - lo) * (rank - seen - 0.5)) / n;
    }
    seen += n;
  }
  return bucketBounds(histogram.length - 1)[0];
}

/** An empty set of counters. */
export function emptyCounts(): RollupCounts {
  return Object.fromEntries(ROLLUP_COUNTERS.map((k) => [k, 0])) as RollupCounts;
}

/** Adds `b` into `a` (in place) and returns `a`. */
export function addCounts(a: RollupCounts, b: Partial<RollupCounts>): RollupCounts {
  for (const k of ROLLUP_COUNTERS) a[k] += b[k] ?? 0;
  return a;
}
