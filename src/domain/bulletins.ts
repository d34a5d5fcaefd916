import type { CaseFigures, DayPeriod } from "./case-figures";
import { CHINA_OFFSET_MS } from "./china-time";
import type { UnitLevel } from "./units";

/** The kinds of periodic bulletin (定期通报). */
export const BULLETIN_KINDS = ["week", "month"] as const;
export type BulletinKind = (typeof BULLETIN_KINDS)[number];

/** The levels whose centres issue bulletins. */
export const BULLETIN_LEVELS: readonly UnitLevel[] = ["city", "county", "town"];

const DAY_MS = 86_400_000;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * The last complete period of a kind before `now`, in China days: the week Monday–Sunday, or the calendar
 * month, that ended before today (China time).
 *
 * @example
 * lastCompletePeriod("week", Date.parse("2026-03-11T02:00:00Z")); // { from: "2026-03-02", to: "2026-03-08" }
 */
export function lastCompletePeriod(kind: BulletinKind, now: number): DayPeriod {
  const today = Math.floor((now + CHINA_OFFSET_MS) / DAY_MS) * DAY_MS;
  if (kind === "week") {
    const weekday = (new Date(today).getUTCDay() + 6) % 7;
    const monday = today - weekday * DAY_MS;
    return { from: day(monday - 7 * DAY_MS), to: day(monday - DAY_MS) };
  }
  const d = new Date(today);
  const first = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1);
  const last = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) - DAY_MS;
  return { from: day(first), to: day(last) };
}

/** The targets children are held to; settings `figures.target.*` inherited down the tree. */
export interface BulletinTargets {
  closureRate: number;
  onTimeRate: number;
  maxOverdue: number;
}

export const DEFAULT_TARGETS: BulletinTargets = { closureRate: 0.9, onTimeRate: 0.9, maxOverdue: 10 };

/** The setting keys of the targets. */
export const TARGET_KEYS = {
  closureRate: "figures.target.closure_rate",
  onTimeRate: "figures.target.on_time_rate",
  maxOverdue: "figures.target.max_overdue",
} as const;

/**
 * The targets at a unit from settings along its path (root first): the deepest unit that sets a key wins;
 * values that are not finite non-negative numbers are ignored.
 */
export function inheritedTargets(
  pathIds: readonly string[],
  settings: ReadonlyArray<{ unitId: string; key: string; value: string }>,
): BulletinTargets {
  const out = { ...DEFAULT_TARGETS };
  for (const id of pathIds) {
    for (const [field, key] of Object.entries(TARGET_KEYS) as Array<[keyof BulletinTargets, string]>) {
      const s = settings.find((x) => x.unitId === id && x.key === key);
      const v = s ? Number(s.value) : Number.NaN;
      if (Number.isFinite(v) && v >= 0) out[field] = v;
    }
  }
  return out;
}

/** Why a child is below target, in Chinese for the bulletin's readers; empty when it is not. */
export function belowTarget(f: CaseFigures, t: BulletinTargets): string[] {
  const reasons: string[] = [];
  const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
  if (f.closureRate !== null && f.closureRate < t.closureRate) {
    reasons.push(`办结归档率 ${pct(f.closureRate)} 低于目标 ${pct(t.closureRate)}`);
  }
  if (f.onTimeRate !== null && f.onTimeRate < t.onTimeRate) {
    reasons.push(`按时办结率 ${pct(f.onTimeRate)} 低于目标 ${pct(t.onTimeRate)}`);
  }
  if (f.overdue > t.maxOverdue) reasons.push(`超期 ${f.overdue} 件，超过上限 ${t.maxOverdue} 件`);
  return reasons;
}

/**
 * A field of CSV (RFC 4180): quoted when it holds a comma, quote or line break; text starting like a formula
 * (`=`, `+`, `-`, `@`) is prefixed with `'` so a spreadsheet shows it instead of running it.
 */
export function csvField(v: string | number | null): string {
  if (v === null) return "";
  const s = typeof v === "string" && /^[=+\-@\t\r]/.test(v) ? `'${v}` : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * The period of a kind that starts on China day `from` (a Monday for a week, the 1st for a month), or a reason
 * why `from` starts none (not a real date, or not the first day of such a period).
 *
 * @example
 * periodStartingOn("week", "2026-03-30"); // { from: "2026-03-30", to: "2026-04-05" }
 * periodStartingOn("month", "2026-03-02"); // "not the first day of a month"
 */
export function periodStartingOn(kind: BulletinKind, from: string): DayPeriod | string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(from);
  const start = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : Number.NaN;
  if (!match || !Number.isFinite(start) || day(start) !== from) return "not a date (YYYY-MM-DD)";
  if (kind === "week") {
    if (new Date(start).getUTCDay() !== 1) return "not a Monday, the first day of a week";
    return { from, to: day(start + 6 * DAY_MS) };
  }
  if (match[3] !== "01") return "not the first day of a month";
  const d = new Date(start);
  return { from, to: day(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) - DAY_MS) };
}
