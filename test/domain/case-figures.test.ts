import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BUCKET_COUNT,
  bucketBounds,
  bucketOf,
  DURATION_BUCKETS_MIN,
  monthPeriods,
  percentileOf,
  RollupTracker,
  rollupDelta,
} from "../../src/domain/case-figures";

const MIN = 60_000;
const histogramOf = (durations: number[]) => {
  const h = new Array<number>(BUCKET_COUNT).fill(0);
  for (const d of durations) h[bucketOf(d)]! += 1;
  return h;
};

describe("duration buckets", () => {
  it("put a duration in the bucket whose bounds hold it, the open last bucket taking the rest", () => {
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(-5)).toBe(0);
    expect(bucketOf(15 * MIN - 1)).toBe(0);
    expect(bucketOf(15 * MIN)).toBe(1);
    expect(bucketOf(43_200 * MIN)).toBe(DURATION_BUCKETS_MIN.length);
    expect(bucketBounds(0)).toEqual([0, 15 * MIN]);
    expect(bucketBounds(DURATION_BUCKETS_MIN.length)).toEqual([43_200 * MIN, null]);
  });
});

describe("percentiles from a histogram", () => {
  it("are null for an empty histogram", () => {
    expect(percentileOf(new Array(BUCKET_COUNT).fill(0), 0.5)).toBeNull();
  });

  it("answer the open bucket's lower bound when the rank falls there", () => {
    const h = histogramOf([60 * 86_400_000, 90 * 86_400_000]);
    expect(percentileOf(h, 0.9)).toBe(43_200 * MIN);
  });

  it("lie in the bucket of the exact nearest-rank value, so within one bucket of it", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 50 * 86_400_000 }), { minLength: 1, maxLength: 300 }),
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        (durations, p) => {
          const sorted = [...durations].sort((a, b) => a - b);
          const exact = sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
          const estimate = percentileOf(histogramOf(durations), p)!;
          expect(bucketOf(estimate)).toBe(bucketOf(exact));
        },
      ),
    );
  });
});

describe("roll-up deltas", () => {
  const c = { createdAt: "2026-03-01T00:00:00Z", responsibleLevel: "village" as const, overdue: false };
  it("count an acceptance with its time-to-accept bucket", () => {
    expect(rollupDelta({ type: "accepted", at: "2026-03-01T00:20:00Z", payload: {} }, c)).toEqual({
      accepted: 1,
      accept_h1: 1,
    });
  });
  it("count a resolution at the responsible level, on time only when the case never went overdue", () => {
    const at = "2026-03-02T00:00:00Z";
    expect(rollupDelta({ type: "resolved", at, payload: {} }, c)).toEqual({
      resolved: 1,
      resolved_village: 1,
      resolve_h8: 1,
      resolved_on_time: 1,
    });
    expect(rollupDelta({ type: "resolved", at, payload: {} }, { ...c, overdue: true })).toEqual({
      resolved: 1,
      resolved_village: 1,
      resolve_h8: 1,
    });
  });
  it("count a dissatisfied return visit as a reopening, and nothing for events that count nowhere", () => {
    expect(
      rollupDelta({ type: "return_visited", at: c.createdAt, payload: { satisfaction: "dissatisfied" } }, c),
    ).toEqual({ visit_dissatisfied: 1, reopened: 1 });
    expect(
      rollupDelta(
        { type: "return_visited", at: c.createdAt, payload: { satisfaction: "basically_satisfied" } },
        c,
      ),
    ).toEqual({ visit_basic: 1 });
    expect(rollupDelta({ type: "attachment_added", at: c.createdAt, payload: {} }, c)).toEqual({});
  });
});

describe("the rebuild's case tracker", () => {
  it("moves the responsible level with acceptance, dispatch, escalation and sending down, and keeps overdue", () => {
    const t = new RollupTracker("2026-03-01T00:00:00Z", "grid");
    expect(t.next({ type: "reported", payload: {} }, "grid").responsibleLevel).toBe("grid");
    expect(t.next({ type: "accepted", payload: {} }, "village").responsibleLevel).toBe("village");
    expect(t.next({ type: "dispatched", payload: { toLevel: "town" } }, "village").responsibleLevel).toBe(
      "town",
    );
    expect(t.next({ type: "overdue", payload: {} }, null)).toMatchObject({ overdue: true });
    expect(t.next({ type: "escalated", payload: { toLevel: "county" } }, null).responsibleLevel).toBe(
      "county",
    );
    expect(t.next({ type: "sent_down", payload: { toLevel: "town" } }, "county")).toEqual({
      createdAt: "2026-03-01T00:00:00Z",
      responsibleLevel: "town",
      overdue: true,
    });
  });
});

describe("month slices of a rebuild", () => {
  it("cover every day from the first to the last in whole China months, across a year's end and a leap day", () => {
    expect(monthPeriods("2023-12-15", "2024-02-01")).toEqual([
      { from: "2023-12-01", to: "2023-12-31" },
      { from: "2024-01-01", to: "2024-01-31" },
      { from: "2024-02-01", to: "2024-02-29" },
    ]);
    expect(monthPeriods("2026-04-30", "2026-04-30")).toEqual([{ from: "2026-04-01", to: "2026-04-30" }]);
  });
});
