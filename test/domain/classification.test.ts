import { describe, expect, it } from "vitest";
import {
  chinaYear,
  classifyHousehold,
  effectiveClass,
  isOverrideActive,
  maskReasons,
  RED_TAGS,
  safeYearsFromMask,
  safeYearsMask,
} from "../../src/domain/classification";

const asOf = new Date("2026-06-01T00:00:00Z");
const village = { incomeSum: 30_000, households: 3 }; // average 10,000
const base = {
  incomePerCapita: 12_000,
  incomeStable: true,
  safeFamilyYears: [2023, 2024, 2025],
  memberTags: [] as string[],
};

describe("classifyHousehold", () => {
  it("is red when any member carries a red tag, whatever the income, with one reason per tag", () => {
    for (const tag of RED_TAGS) {
      const result = classifyHousehold({ ...base, memberTags: ["veteran", tag] }, village, asOf);
      expect(result).toEqual({ class: "red", reasons: [`member_${tag}`] });
    }
    expect(
      classifyHousehold({ ...base, memberTags: ["in_prison", "disabled", "disabled"] }, village, asOf)
        .reasons,
    ).toEqual(["member_disabled", "member_in_prison"]);
  });

  it("is not red for tags that are not red triggers", () => {
    const result = classifyHousehold({ ...base, memberTags: ["veteran", "chronic_illness"] }, village, asOf);
    expect(result.class).toBe("green");
  });

  it("is green when income is stable, at least the average, and safe in each of the last 3 years", () => {
    expect(classifyHousehold(base, village, asOf)).toEqual({
      class: "green",
      reasons: ["income_stable", "income_at_or_above_village_average", "safe_family_last_3_years"],
    });
  });

  it("counts an income exactly at the village average as at least the average (green)", () => {
    expect(classifyHousehold({ ...base, incomePerCapita: 10_000 }, village, asOf).class).toBe("green");
    // A non-integer average: 10,000.33…; 10,000 is below it, 10,001 above.
    const odd = { incomeSum: 30_001, households: 3 };
    expect(classifyHousehold({ ...base, incomePerCapita: 10_000 }, odd, asOf).class).toBe("yellow");
    expect(classifyHousehold({ ...base, incomePerCapita: 10_001 }, odd, asOf).class).toBe("green");
  });

  it("is yellow one yuan below the average", () => {
    const result = classifyHousehold({ ...base, incomePerCapita: 9_999 }, village, asOf);
    expect(result).toEqual({ class: "yellow", reasons: ["income_below_village_average"] });
  });

  it("needs 3 safe years: 2 of the last 3 give yellow", () => {
    const two = classifyHousehold({ ...base, safeFamilyYears: [2024, 2025] }, village, asOf);
    expect(two).toEqual({ class: "yellow", reasons: ["not_safe_family_last_3_years"] });
    const gap = classifyHousehold({ ...base, safeFamilyYears: [2022, 2023, 2025] }, village, asOf);
    expect(gap.class).toBe("yellow");
    const older = classifyHousehold(
      { ...base, safeFamilyYears: [2020, 2021, 2022, 2024, 2025] },
      village,
      asOf,
    );
    expect(older.class).toBe("yellow");
  });

  it("counts the 3 calendar years before asOf's year in China time", () => {
    // 2025-12-31T16:00Z is already 2026-01-01 in Beijing: the last 3 years are 2023–2025.
    const newYearBeijing = new Date("2025-12-31T16:00:00Z");
    expect(chinaYear(newYearBeijing)).toBe(2026);
    expect(classifyHousehold(base, village, newYearBeijing).class).toBe("green");
    // One hour earlier it is still 2025 there: the last 3 years are 2022–2024.
    const before = new Date("2025-12-31T15:00:00Z");
    expect(classifyHousehold(base, village, before).class).toBe("yellow");
  });

  it("is yellow when the income is not stable even if everything else is green", () => {
    const result = classifyHousehold({ ...base, incomeStable: false }, village, asOf);
    expect(result).toEqual({ class: "yellow", reasons: ["income_not_stable"] });
  });

  it("marks the literal yellow rule: below average and not safe in either of the last 2 years", () => {
    const literal = classifyHousehold(
      { ...base, incomePerCapita: 5_000, safeFamilyYears: [2023] },
      village,
      asOf,
    );
    expect(literal).toEqual({
      class: "yellow",
      reasons: ["income_below_village_average", "not_safe_family_last_3_years", "literal_yellow_rule"],
    });
    const safeLastYear = classifyHousehold(
      { ...base, incomePerCapita: 5_000, safeFamilyYears: [2025] },
      village,
      asOf,
    );
    expect(safeLastYear.reasons).not.toContain("literal_yellow_rule");
    expect(safeLastYear.class).toBe("yellow");
  });
});

describe("overrides", () => {
  const override = { class: "red" as const, reason: "family crisis", until: "2026-07-01T00:00:00.000Z" };

  it("apply until the instant of their expiry, then the computed class applies", () => {
    expect(effectiveClass("green", override, new Date("2026-06-30T23:59:59.999Z"))).toBe("red");
    expect(effectiveClass("green", override, new Date("2026-07-01T00:00:00.000Z"))).toBe("green");
    expect(isOverrideActive(override, new Date("2026-07-01T00:00:00.001Z"))).toBe(false);
    expect(effectiveClass("yellow", null, asOf)).toBe("yellow");
  });
});

describe("safe-year masks and reason masking", () => {
  it("round-trips years through the stored bit mask", () => {
    const years = [2000, 2023, 2024, 2025, 2052];
    expect(safeYearsFromMask(safeYearsMask(years))).toEqual(years);
    expect(Number.isSafeInteger(safeYearsMask(years))).toBe(true);
  });

  it("hides sensitive member tags in reasons", () => {
    expect(maskReasons(["member_in_prison", "member_left_behind_child", "income_stable"])).toEqual([
      "member_sensitive_tag",
      "member_left_behind_child",
      "income_stable",
    ]);
  });
});
