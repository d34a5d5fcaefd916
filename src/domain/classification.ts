import { chinaYear } from "./china-time";

export { chinaYear };
/**
 * The green/yellow/red classification of households (精细化服务: 放心户 / 关心户 / 连心户).
 *
 * The rules, in order:
 * - **red** (连心户) when any member carries a red tag: left-behind child, woman or elderly person,
 *   disabled, at risk of falling back into poverty, in prison or released from prison.
 * - **green** (放心户) when the income is stable, the per-capita income is at least the village average,
 *   and the household was rated a safe family (平安家庭) in each of the last 3 years.
 * - **yellow** (关心户) otherwise.
 *
 * Why yellow is "otherwise": the source names yellow literally as "income below the village average and
 * not rated safe in the last 2 years". Read literally, a household with an above-average but unstable
 * income, or a below-average income but 2 safe years, would be in no class at all. Every household needs
 * a class (the class sets the visit cadence), and the cautious class for a household that has not earned
 * green is the one that gets periodic visits, so yellow takes everything that is neither red nor green.
 * The literal yellow case is still reported, as the reason `literal_yellow_rule`.
 *
 * "The last 3 years" are the 3 calendar years before the year of `asOf` in China Standard Time
 * (a rating is given once a year is over): in 2026 they are 2023, 2024 and 2025.
 *
 * "At least the village average" is compared exactly as `income × households ≥ village income sum`,
 * in integers, so the boundary (income exactly at the average) is never lost to floating point. The set-based
 * SQL in `src/db/repos/households.ts` implements the same rules and is tested against this function.
 */

/** Class of a household. */
export const HOUSEHOLD_CLASSES = ["green", "yellow", "red"] as const;
export type HouseholdClass = (typeof HOUSEHOLD_CLASSES)[number];

export const HOUSEHOLD_CLASS_LABELS: Record<HouseholdClass, string> = {
  green: "放心户",
  yellow: "关心户",
  red: "连心户",
};

/** Resident tags that make a household red. */
export const RED_TAGS = [
  "left_behind_child",
  "left_behind_woman",
  "left_behind_elderly",
  "disabled",
  "poverty_risk",
  "in_prison",
  "released_prisoner",
] as const;

/** Every tag a resident may carry. */
export const RESIDENT_TAGS = [
  ...RED_TAGS,
  "elderly_living_alone",
  "chronic_illness",
  "low_income",
  "veteran",
  "unemployed",
  "migrant_worker",
  "party_member",
] as const;
export type ResidentTag = (typeof RESIDENT_TAGS)[number];

export const RESIDENT_TAG_LABELS: Record<ResidentTag, string> = {
  left_behind_child: "留守儿童",
  left_behind_woman: "留守妇女",
  left_behind_elderly: "留守老人",
  disabled: "残疾人",
  poverty_risk: "防返贫监测对象",
  in_prison: "服刑人员",
  released_prisoner: "刑满释放人员",
  elderly_living_alone: "独居老人",
  chronic_illness: "慢性病患者",
  low_income: "低收入",
  veteran: "退役军人",
  unemployed: "失业",
  migrant_worker: "外出务工",
  party_member: "党员",
};

/**
 * Tags that are sensitive personal information (PIPL art. 28: health, criminal record): shown only to
 * roles that need them, on an audited read with a purpose.
 */
export const SENSITIVE_TAGS: ReadonlySet<string> = new Set([
  "disabled",
  "in_prison",
  "released_prisoner",
  "chronic_illness",
]);

const _RED_SET: ReadonlySet<string> = new Set(RED_TAGS);

/** First year a safe-family rating can be recorded for; ratings are stored as a bit mask from here. */
export const SAFE_YEAR_BASE = 2000;
/** Last year a safe-family rating can be recorded for (53 bits keep the mask an exact JavaScript number). */
export const SAFE_YEAR_MAX = 2052;

/** The reason codes a classification can give. */
export type ClassReason =
  | `member_${(typeof RED_TAGS)[number]}`
  | "income_stable"
  | "income_at_or_above_village_average"
  | "safe_family_last_3_years"
  | "income_not_stable"
  | "income_below_village_average"
  | "not_safe_family_last_3_years"
  | "literal_yellow_rule";

/** What the classification looks at. */
export interface ClassificationInput {
  /** Annual per-capita income in yuan. */
  incomePerCapita: number;
  incomeStable: boolean;
  /** Years the household was rated a safe family. */
  safeFamilyYears: readonly number[];
  /** The tags of every member (duplicates allowed). */
  memberTags: readonly string[];
}

/** The village's income totals, over every household of the village (the level-1 grid). */
export interface VillageIncome {
  incomeSum: number;
  households: number;
}

export interface Classification {
  class: HouseholdClass;
  reasons: ClassReason[];
}

/** The red tags among members' tags, distinct and in `RED_TAGS` order. */
export function redTagsOf(memberTags: readonly string[]): Array<(typeof RED_TAGS)[number]> {
  const present = new Set(memberTags);
  return RED_TAGS.filter((tag) => present.has(tag));
}

/** Classifies a household as green, yellow or red, with the reasons (see the module comment for the rules). */
export function classifyHousehold(
  input: ClassificationInput,
  village: VillageIncome,
  asOf: Date,
): Classification {
  const red = redTagsOf(input.memberTags);
  if (red.length > 0) return { class: "red", reasons: red.map((tag) => `member_${tag}` as const) };

  const year = chinaYear(asOf);
  const safe = new Set(input.safeFamilyYears);
  const safeLast3 = safe.has(year - 1) && safe.has(year - 2) && safe.has(year - 3);
  const safeInLast2 = safe.has(year - 1) || safe.has(year - 2);
  // An empty village cannot happen for a household in it; treat it as "at the average".
  const atOrAbove =
    village.households === 0 || input.incomePerCapita * village.households >= village.incomeSum;

  if (input.incomeStable && atOrAbove && safeLast3) {
    return {
      class: "green",
      reasons: ["income_stable", "income_at_or_above_village_average", "safe_family_last_3_years"],
    };
  }
  const reasons: ClassReason[] = [];
  if (!input.incomeStable) reasons.push("income_not_stable");
  if (!atOrAbove) reasons.push("income_below_village_average");
  if (!safeLast3) reasons.push("not_safe_family_last_3_years");
  if (!atOrAbove && !safeInLast2) reasons.push("literal_yellow_rule");
  return { class: "yellow", reasons };
}

/** A manual override of the class: it applies until `until` (exclusive). */
export interface ClassOverride {
  class: HouseholdClass;
  reason: string;
  until: string;
}

/** The class that applies at `asOf`: the override while it has not expired, else the computed class. */
export function effectiveClass(
  computed: HouseholdClass,
  override: ClassOverride | null,
  asOf: Date,
): HouseholdClass {
  return override && isOverrideActive(override, asOf) ? override.class : computed;
}

/** Whether an override still applies at `asOf` (it stops applying at the instant `until`). */
export function isOverrideActive(override: { until: string }, asOf: Date): boolean {
  return new Date(override.until).getTime() > asOf.getTime();
}

/** Safe-family years as the bit mask stored in the database (bit n = year SAFE_YEAR_BASE + n). */
export function safeYearsMask(years: readonly number[]): number {
  let mask = 0n;
  for (const year of years) mask |= 1n << BigInt(year - SAFE_YEAR_BASE);
  return Number(mask);
}

/** The years a stored safe-family bit mask names, ascending. */
export function safeYearsFromMask(mask: number | bigint): number[] {
  const bits = BigInt(mask);
  const years: number[] = [];
  for (let n = 0; n <= SAFE_YEAR_MAX - SAFE_YEAR_BASE; n++) {
    if ((bits >> BigInt(n)) & 1n) years.push(SAFE_YEAR_BASE + n);
  }
  return years;
}

/** Reason codes as a reader without access to sensitive tags sees them. */
export function maskReasons(reasons: readonly string[]): string[] {
  return reasons.map((r) =>
    r.startsWith("member_") && SENSITIVE_TAGS.has(r.slice(7)) ? "member_sensitive_tag" : r,
  );
}
