import { describe, expect, it } from "vitest";
import {
  averageX100,
  caseCountsForSubsidy,
  DEFAULT_SUBSIDY,
  isFen,
  monthBounds,
  periodOf,
  ratingText,
  resolveSubsidy,
  shouldFlag,
  statementTotals,
  yuanText,
} from "../../src/domain/subsidy";

describe("subsidy arithmetic in integer fen", () => {
  it("sums a month's cases and events exactly", () => {
    const totals = statementTotals([
      { kind: "case", amountFen: 2_000 },
      { kind: "case", amountFen: 2_000 },
      { kind: "event", amountFen: 1_050 },
      { kind: "case", amountFen: 1 },
    ]);
    expect(totals).toEqual({ cases: 3, events: 1, caseFen: 4_001, eventFen: 1_050, totalFen: 5_051 });
    expect(yuanText(totals.totalFen)).toBe("50.51");
    expect(yuanText(7)).toBe("0.07");
  });
  it("refuses negative or fractional money", () => {
    expect(isFen(100)).toBe(true);
    expect(isFen(-1)).toBe(false);
    expect(isFen(0.5)).toBe(false);
    expect(isFen(Number.NaN)).toBe(false);
    expect(() => statementTotals([{ kind: "case", amountFen: 12.5 }])).toThrow(RangeError);
  });
  it("takes the deepest unit setting per amount", () => {
    expect(resolveSubsidy([])).toEqual(DEFAULT_SUBSIDY);
    expect(
      resolveSubsidy([
        { depth: 0, key: "subsidy.case_fen", value: "3000" },
        { depth: 2, key: "subsidy.case_fen", value: "2500" },
        { depth: 3, key: "subsidy.event_fen", value: "12.5" },
      ]),
    ).toEqual({ ...DEFAULT_SUBSIDY, caseFen: 2_500 });
  });
});

describe("ratings and flags", () => {
  it("averages ratings ×100, rounding half up, without floats in the result", () => {
    expect(averageX100([])).toBeNull();
    expect(averageX100([5, 4])).toBe(450);
    expect(averageX100([1, 2, 2])).toBe(167);
    expect(averageX100([3, 3, 4])).toBe(333);
  });
  it("flags strictly below the threshold", () => {
    expect(shouldFlag(299, 300)).toBe(true);
    expect(shouldFlag(300, 300)).toBe(false);
    expect(shouldFlag(null, 300)).toBe(false);
  });
  it("puts a time in its China-time month", () => {
    expect(periodOf("2026-03-31T16:30:00Z")).toBe("2026-04");
    expect(periodOf("2026-03-31T15:59:59Z")).toBe("2026-03");
  });
});

describe("statement months and cases handled", () => {
  it("bounds a China-time month in UTC", () => {
    expect(monthBounds("2026-03")).toEqual(["2026-02-28T16:00:00.000Z", "2026-03-31T16:00:00.000Z"]);
    expect(monthBounds("2026-12")).toEqual(["2026-11-30T16:00:00.000Z", "2026-12-31T16:00:00.000Z"]);
  });
  it("counts every reported case except rejected or merged ones", () => {
    expect(["reported", "accepted", "closed", "reopened"].every(caseCountsForSubsidy)).toBe(true);
    expect(caseCountsForSubsidy("rejected")).toBe(false);
    expect(caseCountsForSubsidy("merged")).toBe(false);
  });
  it("formats an average ×100 with two decimals", () => {
    expect(ratingText(367)).toBe("3.67");
    expect(ratingText(null)).toBeNull();
  });
});
