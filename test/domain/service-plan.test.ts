import { describe, expect, it } from "vitest";
import { DEFAULT_CADENCE, daysLate, nextVisitDue, resolveCadence } from "../../src/domain/service-plan";

describe("service plans", () => {
  it("defaults to no visits for green, 30 days for yellow, 7 for red", () => {
    expect(resolveCadence([])).toEqual({ green: null, yellow: 30, red: 7 });
  });

  it("inherits each key from the nearest unit that sets it", () => {
    const cadence = resolveCadence([
      { depth: 0, key: "households.cadence.yellowDays", value: "20" },
      { depth: 3, key: "households.cadence.yellowDays", value: "14" },
      { depth: 1, key: "households.cadence.redDays", value: "5" },
      { depth: 2, key: "households.cadence.greenDays", value: "90" },
      { depth: 4, key: "households.cadence.greenDays", value: "none" },
      { depth: 5, key: "households.cadence.redDays", value: "banana" },
    ]);
    expect(cadence).toEqual({ green: null, yellow: 14, red: 5 });
  });

  it("counts the cadence from the later of the last contact and entering the class", () => {
    expect(nextVisitDue("yellow", DEFAULT_CADENCE, null, "2026-01-01T00:00:00.000Z")).toBe(
      "2026-01-31T00:00:00.000Z",
    );
    expect(nextVisitDue("red", DEFAULT_CADENCE, "2026-01-10T08:00:00.000Z", "2026-01-01T00:00:00.000Z")).toBe(
      "2026-01-17T08:00:00.000Z",
    );
    expect(nextVisitDue("red", DEFAULT_CADENCE, "2025-06-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z")).toBe(
      "2026-01-08T00:00:00.000Z",
    );
    expect(nextVisitDue("green", DEFAULT_CADENCE, null, "2026-01-01T00:00:00.000Z")).toBeNull();
  });

  it("counts whole days late", () => {
    expect(daysLate("2026-01-01T00:00:00.000Z", new Date("2026-01-03T12:00:00Z"))).toBe(2);
    expect(daysLate("2026-01-05T00:00:00.000Z", new Date("2026-01-03T12:00:00Z"))).toBe(0);
    expect(daysLate(null, new Date())).toBe(0);
  });
});
