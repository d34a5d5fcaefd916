import { describe, expect, it } from "vitest";
import {
  averageX100,
  countCases,
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
  it("formats an average ×100 with two decimals", () => {
    expect(ratingText(367)).toBe("3.67");
    expect(ratingText(null)).toBeNull();
  });
});

describe("以案定补 pays for accepted cases, up to the monthly cap", () => {
  // 2026-03 in China time: 2026-02-28T16:00Z up to 2026-03-31T16:00Z.
  const accepted = (id: string, acceptedAt: string | null, state = "accepted") => ({
    id,
    state,
    acceptedAt,
    settledFen: null,
  });

  it("counts cases accepted in the month until the cap is reached exactly; the next is over the cap", () => {
    const result = countCases(
      [
        accepted("c", "2026-03-03T01:00:00Z"),
        accepted("a", "2026-03-01T01:00:00Z"),
        accepted("d", "2026-03-04T01:00:00Z"),
        accepted("b", "2026-03-02T01:00:00Z", "closed"),
      ],
      "2026-03",
      2_000,
      6_000,
    );
    expect(result.counted.map((c) => [c.id, c.amountFen])).toEqual([
      ["a", 2_000],
      ["b", 2_000],
      ["c", 2_000],
    ]);
    expect(result.uncounted.map((c) => [c.id, c.reason])).toEqual([["d", "over_monthly_cap"]]);
    // One fen under the third case's amount: only two fit.
    expect(
      countCases(
        [accepted("a", "2026-03-01T01:00:00Z"), accepted("b", "2026-03-02T01:00:00Z")],
        "2026-03",
        2_000,
        3_999,
      ).counted,
    ).toHaveLength(1);
  });

  it("pays nothing for a report that is not accepted, rejected, merged or withdrawn", () => {
    const result = countCases(
      [
        accepted("new", null, "reported"),
        accepted("rej", null, "rejected"),
        accepted("mer", "2026-03-05T01:00:00Z", "merged"),
        accepted("wd", "2026-03-05T01:00:00Z", "withdrawn"),
      ],
      "2026-03",
      2_000,
      1_000_000,
    );
    expect(result.counted).toEqual([]);
    expect(result.uncounted.map((c) => [c.id, c.reason])).toEqual([
      ["new", "not_accepted"],
      ["rej", "rejected"],
      ["mer", "merged"],
      ["wd", "withdrawn"],
    ]);
  });

  it("counts a case rejected after acceptance as rejected, not paid", () => {
    const result = countCases([accepted("x", "2026-03-05T01:00:00Z", "rejected")], "2026-03", 2_000, 20_000);
    expect(result.counted).toEqual([]);
    expect(result.uncounted).toEqual([expect.objectContaining({ id: "x", reason: "rejected" })]);
  });

  it("counts a case accepted in the next month (China time) in that month, not the month it was reported", () => {
    // Accepted at 00:30 on 1 April in China: 2026-03-31T16:30Z.
    const late = [accepted("x", "2026-03-31T16:30:00Z")];
    expect(countCases(late, "2026-03", 2_000, 20_000).uncounted).toEqual([
      expect.objectContaining({ id: "x", reason: "accepted_in_other_month" }),
    ]);
    expect(countCases(late, "2026-04", 2_000, 20_000).counted).toEqual([
      expect.objectContaining({ id: "x", amountFen: 2_000 }),
    ]);
  });

  it("keeps a settled case paid at its fixed amount, counting it against the cap first", () => {
    const result = countCases(
      [
        accepted("new", "2026-03-01T01:00:00Z"),
        { id: "old", state: "merged", acceptedAt: "2026-03-02T01:00:00Z", settledFen: 2_550 },
      ],
      "2026-03",
      2_000,
      4_000,
    );
    expect(result.counted.map((c) => [c.id, c.amountFen])).toEqual([["old", 2_550]]);
    expect(result.uncounted.map((c) => [c.id, c.reason])).toEqual([["new", "over_monthly_cap"]]);
  });

  it("has a default monthly cap of ten cases at the default amount", () => {
    expect(DEFAULT_SUBSIDY.caseCapFen).toBe(10 * DEFAULT_SUBSIDY.caseFen);
  });
});
