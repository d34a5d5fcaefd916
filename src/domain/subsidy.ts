import { chinaMonth, chinaMonthStart } from "./china-time";
/** Unit-setting keys of household-lead subsidies (以案定补, 以事奖补), amounts in integer fen. */
export const SUBSIDY_KEYS = {
  caseFen: "subsidy.case_fen",
  eventFen: "subsidy.event_fen",
  flagBelowX100: "subsidy.flag_below_x100",
  caseCapFen: "subsidy.case_cap_fen",
} as const;

/**
 * Defaults: 20 yuan a case, 10 yuan an event, flag a lead whose average rating is below 3.00, and at most
 * 200 yuan of cases a month (ten cases at the default amount).
 */
export const DEFAULT_SUBSIDY = {
  caseFen: 2_000,
  eventFen: 1_000,
  flagBelowX100: 300,
  caseCapFen: 20_000,
} as const;

export type SubsidySettings = {
  caseFen: number;
  eventFen: number;
  flagBelowX100: number;
  caseCapFen: number;
};

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

/** Why a case the lead reported is not paid in a month's statement. */
export const UNCOUNTED_REASONS = [
  "not_accepted",
  "rejected",
  "merged",
  "withdrawn",
  "accepted_in_other_month",
  "over_monthly_cap",
] as const;
export type UncountedReason = (typeof UNCOUNTED_REASONS)[number];

export const UNCOUNTED_REASON_LABELS: Record<UncountedReason, string> = {
  not_accepted: "尚未受理",
  rejected: "不予受理",
  merged: "已合并（重复）",
  withdrawn: "已撤回",
  accepted_in_other_month: "在其他月份受理",
  over_monthly_cap: "超出月度上限",
};

/** States that end a case without it having been a matter worth paying for. */
const UNPAID_STATES: Partial<Record<string, UncountedReason>> = {
  rejected: "rejected",
  merged: "merged",
  withdrawn: "withdrawn",
};

/** A case a lead reported, as the subsidy rule weighs it. */
export interface SubsidyCase {
  id: string;
  state: string;
  /** When the case was first accepted (受理), or null while it is not. */
  acceptedAt: string | null;
  /** The amount a settlement of this month fixed for the case, or null when it is not settled. */
  settledFen: number | null;
}

/** The cases of a month's statement: those paid, with their amount, and those not, with the reason. */
export interface CaseCount<T> {
  counted: Array<T & { amountFen: number }>;
  uncounted: Array<T & { reason: UncountedReason }>;
}

/**
 * The rule for "cases handled" (以案定补): pays for cases, not reports. A case counts in the China-time month
 * it was first accepted, unless it is now rejected, merged or withdrawn; counted cases are taken in order of
 * acceptance while their sum stays at or under the month's cap (`capFen`), the rest are over the cap. A case a
 * settlement already fixed stays paid at its fixed amount, and counts against the cap first.
 */
export function countCases<T extends SubsidyCase>(
  cases: readonly T[],
  month: string,
  caseFen: number,
  capFen: number,
): CaseCount<T> {
  const out: CaseCount<T> = { counted: [], uncounted: [] };
  const eligible: T[] = [];
  let sum = 0;
  for (const c of cases) {
    if (c.settledFen !== null) {
      out.counted.push({ ...c, amountFen: c.settledFen });
      sum += c.settledFen;
      continue;
    }
    const reason =
      UNPAID_STATES[c.state] ??
      (c.acceptedAt === null
        ? "not_accepted"
        : chinaMonth(c.acceptedAt) !== month
          ? "accepted_in_other_month"
          : null);
    if (reason) out.uncounted.push({ ...c, reason });
    else eligible.push(c);
  }
  eligible.sort((a, b) =>
    a.acceptedAt === b.acceptedAt ? (a.id < b.id ? -1 : 1) : a.acceptedAt! < b.acceptedAt! ? -1 : 1,
  );
  for (const c of eligible) {
    if (sum + caseFen <= capFen) {
      out.counted.push({ ...c, amountFen: caseFen });
      sum += caseFen;
    } else {
      out.uncounted.push({ ...c, reason: "over_monthly_cap" });
    }
  }
  return out;
}

/** An average ×100 as text with two decimals (`450` → `"4.50"`); null stays null. */
export function ratingText(averageRatingX100: number | null): string | null {
  return averageRatingX100 === null ? null : yuanText(averageRatingX100);
}
