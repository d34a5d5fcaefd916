import { CHINA_OFFSET_MS, chinaDate } from "./china-time";
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

/** Case events that count once in the counter of their own name (`reported` in `reported`, …). */
export const PLAIN_COUNTED_EVENTS = [
  "reported",
  "rejected",
  "merged",
  "closed",
  "reopened",
  "overdue",
  "escalated",
] as const;

/** Every case event a roll-up counts; the others (dispatch, notes, …) add nothing. */
export const COUNTED_EVENTS = [...PLAIN_COUNTED_EVENTS, "accepted", "resolved", "return_visited"] as const;

/** Events that hand a case to the level named in their payload's `toLevel`. */
export const LEVEL_MOVING_EVENTS = ["dispatched", "escalated", "sent_down"] as const;

/** What a roll-up needs to know of the case besides the event: fixed facts, and two that change. */
export interface RollupCase {
  createdAt: string;
  /** Level of the unit responsible right after the event (where a resolution counts). */
  responsibleLevel: UnitLevel;
  /** Whether the case had gone overdue by the event (a resolution then is not on time). */
  overdue: boolean;
}

/**
 * The upper bounds of the buckets in ms, for code that sorts durations into buckets elsewhere (the roll-up
 * rebuild in SQL): a duration `ms` falls in the first bucket `i` with `ms < BUCKET_UPPER_MS[i]`, else in
 * the open last one, exactly as `bucketOf` decides.
 */
export const BUCKET_UPPER_MS: readonly number[] = DURATION_BUCKETS_MIN.map((m) => m * 60_000);

/** The bucket a duration (ms) falls into. */
export function bucketOf(ms: number): number {
  const i = BUCKET_UPPER_MS.findIndex((hi) => Math.max(0, ms) < hi);
  return i === -1 ? BUCKET_UPPER_MS.length : i;
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
  if ((PLAIN_COUNTED_EVENTS as readonly string[]).includes(event.type)) return { [event.type]: 1 };
  switch (event.type) {
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
    if ((LEVEL_MOVING_EVENTS as readonly string[]).includes(event.type) && typeof to === "string") {
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

/** How a period's trend is cut. */
export const GRANULARITIES = ["day", "week", "month"] as const;
export type Granularity = (typeof GRANULARITIES)[number];

/** The longest period a figure may cover, in days (ten years). */
export const MAX_PERIOD_DAYS = 3653;

const DAY_MS = 86_400_000;
const dayNumber = (day: string) => Date.parse(`${day}T00:00:00Z`) / DAY_MS;
const dayOf = (n: number) => new Date(n * DAY_MS).toISOString().slice(0, 10);

/** A period of China days, both ends included. */
export interface DayPeriod {
  from: string;
  to: string;
}

/**
 * Checks a period of China dates: real dates, `from` ≤ `to`, at most ten years. Returns the problem's text
 * and the field it is about, or null when the period is fine.
 */
export function periodProblem(p: DayPeriod): { path: string; message: string } | null {
  for (const key of ["from", "to"] as const) {
    const d = p[key];
    if (!/^\d{4}-\d{2}-\d{2}$/.test(d) || dayOf(dayNumber(d)) !== d) {
      return { path: `query.${key}`, message: "not a date (YYYY-MM-DD)" };
    }
  }
  if (p.from > p.to) return { path: "query.to", message: "before from" };
  if (dayNumber(p.to) - dayNumber(p.from) + 1 > MAX_PERIOD_DAYS) {
    return { path: "query.from", message: "the period may span at most ten years" };
  }
  return null;
}

/** The period of the same length that ends the day before `p` starts. */
export function previousPeriod(p: DayPeriod): DayPeriod {
  const from = dayNumber(p.from);
  const length = dayNumber(p.to) - from + 1;
  return { from: dayOf(from - length), to: dayOf(from - 1) };
}

/**
 * The trend bucket a China day falls in: the day itself, the Monday of its week, or its month.
 *
 * @example
 * trendBucket("2026-03-05", "week"); // "2026-03-02"
 */
export function trendBucket(day: string, g: Granularity): string {
  if (g === "day") return day;
  if (g === "month") return day.slice(0, 7);
  const n = dayNumber(day);
  const weekday = (new Date(n * DAY_MS).getUTCDay() + 6) % 7;
  return dayOf(n - weekday);
}

const rate = (n: number, d: number) => (d === 0 ? null : n / d);
const histogram = (c: RollupCounts, prefix: "accept_h" | "resolve_h") =>
  Array.from({ length: BUCKET_COUNT }, (_, i) => c[`${prefix}${i}` as RollupCounter] ?? 0);
const minutes = (ms: number | null) => (ms === null ? null : Math.round(ms / 60_000));

/** The levels a case may be resolved at, grassroots first. */
export const RESOLUTION_LEVELS: readonly UnitLevel[] = ["grid", "village", "town", "county", "city"];

/** The headline figures of summed roll-up counters. */
export interface CaseFigures {
  reported: number;
  accepted: number;
  rejected: number;
  merged: number;
  resolved: number;
  resolvedOnTime: number;
  closed: number;
  reopened: number;
  overdue: number;
  escalated: number;
  closureRate: number | null;
  onTimeRate: number | null;
  reopenRate: number | null;
  escalationRate: number | null;
  /** Resolutions at village level or below (grid, village), over resolutions: the "small matters stay" target. */
  settledLocallyRate: number | null;
  resolvedAtLevel: Array<{ level: UnitLevel; count: number; share: number | null }>;
  minutesToAccept: { p50: number | null; p90: number | null };
  minutesToResolve: { p50: number | null; p90: number | null };
  satisfaction: { satisfied: number; basicallySatisfied: number; dissatisfied: number; rate: number | null };
}

/**
 * The figures of summed counters: closure rate is closed over reported, on-time rate on-time resolutions over
 * resolutions, reopen rate reopenings over resolutions, escalation rate escalations over reported, and the
 * satisfaction rate satisfied or basically satisfied return visits over all visits.
 */
export function caseFigures(c: RollupCounts): CaseFigures {
  const byLevel = RESOLUTION_LEVELS.map((level) => {
    const count = c[`resolved_${level}` as RollupCounter] ?? 0;
    return { level, count, share: rate(count, c.resolved) };
  });
  const visits = c.visit_satisfied + c.visit_basic + c.visit_dissatisfied;
  const accept = histogram(c, "accept_h");
  const resolve = histogram(c, "resolve_h");
  return {
    reported: c.reported,
    accepted: c.accepted,
    rejected: c.rejected,
    merged: c.merged,
    resolved: c.resolved,
    resolvedOnTime: c.resolved_on_time,
    closed: c.closed,
    reopened: c.reopened,
    overdue: c.overdue,
    escalated: c.escalated,
    closureRate: rate(c.closed, c.reported),
    onTimeRate: rate(c.resolved_on_time, c.resolved),
    reopenRate: rate(c.reopened, c.resolved),
    escalationRate: rate(c.escalated, c.reported),
    settledLocallyRate: rate(c.resolved_grid + c.resolved_village, c.resolved),
    resolvedAtLevel: byLevel,
    minutesToAccept: { p50: minutes(percentileOf(accept, 0.5)), p90: minutes(percentileOf(accept, 0.9)) },
    minutesToResolve: { p50: minutes(percentileOf(resolve, 0.5)), p90: minutes(percentileOf(resolve, 0.9)) },
    satisfaction: {
      satisfied: c.visit_satisfied,
      basicallySatisfied: c.visit_basic,
      dissatisfied: c.visit_dissatisfied,
      rate: rate(c.visit_satisfied + c.visit_basic, visits),
    },
  };
}

/** League-table columns a table may be sorted by. */
export const LEAGUE_SORTS = [
  "reported",
  "closureRate",
  "onTimeRate",
  "overdue",
  "escalationRate",
  "reopenRate",
  "settledLocallyRate",
] as const;
export type LeagueSort = (typeof LEAGUE_SORTS)[number];

/** Sorts rows by a figure, nulls (nothing to divide by) last either way, then by name for a stable order. */
export function sortLeague<T extends { name: string; figures: CaseFigures }>(
  rows: T[],
  by: LeagueSort,
  order: "asc" | "desc",
): T[] {
  const sign = order === "asc" ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = a.figures[by];
    const y = b.figures[by];
    if (x === null || y === null) return x === y ? a.name.localeCompare(b.name) : x === null ? 1 : -1;
    return x !== y ? sign * (x - y) : a.name.localeCompare(b.name);
  });
}

/** The change of a figure against the previous period; null when either side has nothing to divide by. */
export const change = (now: number | null, before: number | null): number | null =>
  now === null || before === null ? null : now - before;

/** The instants a period of China days spans: `[start, end)` in ISO UTC. */
export function periodInstants(p: DayPeriod): [string, string] {
  const start = dayNumber(p.from) * DAY_MS - CHINA_OFFSET_MS;
  const end = (dayNumber(p.to) + 1) * DAY_MS - CHINA_OFFSET_MS;
  return [new Date(start).toISOString(), new Date(end).toISOString()];
}

/**
 * The whole China months that cover the days `from`…`to`, each as a period of days, oldest first: the slices
 * a roll-up rebuild replaces one at a time.
 *
 * @example
 * monthPeriods("2026-01-31", "2026-02-02"); // [{ from: "2026-01-01", to: "2026-01-31" }, { from: "2026-02-01", to: "2026-02-28" }]
 */
export function monthPeriods(from: string, to: string): DayPeriod[] {
  const out: DayPeriod[] = [];
  let [y, m] = from.split("-").map(Number) as [number, number];
  const last = to.slice(0, 7);
  for (;;) {
    const month = `${y}-${String(m).padStart(2, "0")}`;
    if (month > last) return out;
    const end = new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
    out.push({ from: `${month}-01`, to: end });
    m += 1;
    if (m > 12) {
      y += 1;
      m = 1;
    }
  }
}
