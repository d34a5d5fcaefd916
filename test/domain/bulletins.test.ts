import { describe, expect, it } from "vitest";
import { periodStartingOn } from "../../src/domain/bulletins";

describe("the period a bulletin's first day starts", () => {
  it("is Monday to Sunday for a week", () => {
    expect(periodStartingOn("week", "2026-03-30")).toEqual({ from: "2026-03-30", to: "2026-04-05" });
    // Across a year's end.
    expect(periodStartingOn("week", "2025-12-29")).toEqual({ from: "2025-12-29", to: "2026-01-04" });
  });

  it("is the calendar month for a month, leap February included", () => {
    expect(periodStartingOn("month", "2026-03-01")).toEqual({ from: "2026-03-01", to: "2026-03-31" });
    expect(periodStartingOn("month", "2028-02-01")).toEqual({ from: "2028-02-01", to: "2028-02-29" });
    expect(periodStartingOn("month", "2026-12-01")).toEqual({ from: "2026-12-01", to: "2026-12-31" });
  });

  it("is none for a day that does not start one", () => {
    expect(periodStartingOn("week", "2026-03-31")).toBe("not a Monday, the first day of a week");
    expect(periodStartingOn("month", "2026-03-02")).toBe("not the first day of a month");
  });

  it("is none for text that is not a real date", () => {
    for (const bad of [
      "2026-02-30",
      "2026-13-01",
      "2026-3-1",
      "20260301",
      "",
      "0001-01-01",
      "二〇二六年三月",
    ]) {
      expect(periodStartingOn("month", bad)).toBe("not a date (YYYY-MM-DD)");
    }
  });
});
