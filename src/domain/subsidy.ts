import { chinaMonth, chinaMonthStart } from "./china-time";
/** Unit-setting keys of household-lead subsidies (以案定补, 以事奖补), amounts in integer fen. */
export const SUBSIDY_KEYS = {
  caseFen: "subsidy.case_fen",
  eventFen: "subsidy.event_fen",
  flagBelowX100: "subsidy.flag_below_x100",
} as const;

/** Defaults: 20 yuan a case, 10 yuan an event, flag a lead whose average rating is below 3.00. */
export const DEFAULT_SUBSIDY = { caseFen: 2_000, eventFen: 1_000, flagBelowX100: 300 } as const;

export type SubsidySettings = { caseFen: number; eventFen: number; flagBelowX100: number };

/** Whether a value is a valid amount of money: a non-negative safe integer of fen. */
export function isFen(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/** Parses a stored fen setting (digits only), or undefined. */
export function parseFen(value: string): number | undefined {
  return /^\d{1,12}$/.test(value.trim()) ? Number(value) : undefined;
}

/** The settings on a lead's unit path: per key, the deepest setting wins, else the default. */
export function resolveSubsidy(
  settings: ReadonlyArray<{ depth: number; key: string; value: string }>,
): SubsidySettings {
  const out: SubsidySettings = { ...DEFAULT_SUBSIDY };
  const depthOf: Partial<Record<keyof SubsidySettings, number>> = {};
  for (const s of settings) {
    const field = (Object.keys(SUBSIDY_KEYS) as Array<keyof SubsidySettings>).find(
      (k) => SUBSIDY_KEYS[k] === s.key,
    );
    const value = parseFen(s.value);
    if (!field || value === undefined) continue;
    if ((depthOf[field] ?? -1) < s.depth) {
      out[field] = value;
      depthOf[field] = s.depth;
    }
  }
  return out;
}

/** A rating period: one calendar month, `YYYY-MM`. */
export const PERIOD_PATTERN = /^\d{4}-(0[1-9]|1[0-2])$/;

/** The period (month) an ISO time falls in, in China time (UTC+8). */
export function periodOf(iso: string): string {
  return chinaMonth(iso);
}

/** The average of 1–5 ratings ×100, rounded half up, as an integer (null without ratings). */
export function averageX100(ratings: readonly number[]): number | null {
  if (ratings.length === 0) return null;
  const sum = ratings.reduce((a, b) => a + b, 0);
  return Math.floor((sum * 100 * 2 + ratings.length) / (2 * ratings.length));
}

/** One paid item on a statement. */
export interface SubsidyItem {
  kind: "case" | "event";
  amountFen: number;
}

/** A month's statement totals: counts and integer sums in fen; never floating-point money. */
export interface StatementTotals {
  cases: number;
  events: number;
  caseFen: number;
  eventFen: number;
  totalFen: number;
}

/** Sums a month's items into the statement totals. */
export function statementTotals(items: readonly SubsidyItem[]): StatementTotals {
  const t: StatementTotals = { cases: 0, events: 0, caseFen: 0, eventFen: 0, totalFen: 0 };
  for (const item of items) {
    if (!isFen(item.amountFen)) throw new RangeError("amounts are non-negative integers of fen");
    if (item.kind === "case") {
      t.cases += 1;
      t.caseFen += item.amountFen;
    } else {
      t.events += 1;
      t.eventFen += item.amountFen;
    }
  }
  t.totalFen = t.caseFen + t.eventFen;
  return t;
}

/** Whether a lead with this average (×100) falls below the flag threshold (×100). */
export function shouldFlag(averageRatingX100: number | null, flagBelowX100: number): boolean {
  return averageRatingX100 !== null && averageRatingX100 < flagBelowX100;
}

/** Formats fen as yuan text for display (`123456` → `"1234.56"`), without floating point. */
export function yuanText(fen: number): string {
  const sign = fen < 0 ? "-" : "";
  const abs = Math.abs(fen);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

/** The UTC bounds `[from, to)` of a China-time month `YYYY-MM`, as ISO strings comparable with stored times. */
export function monthBounds(month: string): [string, string] {
  const [y, m] = month.split("-").map(Number) as [number, number];
  const from = chinaMonthStart(y, m);
  const to = chinaMonthStart(y, m + 1);
  return [new Date(from).toISOString(), new Date(to).toISOString()];
}

/**
 * The rule for "cases handled" (以案定补): a case the lead reported (on a household's behalf, the lead is the
 * reporter) counts in the China-time month it was reported, unless it was rejected or merged as a duplicate.
 */
export function caseCountsForSubsidy(state: string): boolean {
  return state !== "rejected" && state !== "merged";
}

/** An average ×100 as text with two decimals (`450` → `"4.50"`); null stays null. */
export function ratingText(averageRatingX100: number | null): string | null {
  return averageRatingX100 === null ? null : yuanText(averageRatingX100);
}
