import { describe, expect, it } from "vitest";
import {
  completionRate,
  foldCounts,
  isPastDue,
  receiptAccess,
  receiptTransition,
  targetableLevels,
} from "../../src/domain/directives";

const CITY = "/c/";
const VILLAGE = "/c/co/t/v/";
const GRID = "/c/co/t/v/g/";

describe("receiptTransition", () => {
  it("moves delivered → acknowledged → completed", () => {
    expect(receiptTransition("delivered", "acknowledge", false)).toEqual({
      ok: true,
      state: "acknowledged",
      late: false,
    });
    expect(receiptTransition("acknowledged", "complete", true)).toEqual({
      ok: true,
      state: "completed",
      late: false,
    });
  });

  it("completes a delivered receipt directly", () => {
    expect(receiptTransition("delivered", "complete", false)).toMatchObject({ ok: true, state: "completed" });
  });

  it("refuses to acknowledge twice or to touch a completed receipt", () => {
    expect(receiptTransition("acknowledged", "acknowledge", true)).toMatchObject({ ok: false, status: 409 });
    expect(receiptTransition("overdue", "acknowledge", true)).toMatchObject({ ok: false, status: 409 });
    expect(receiptTransition("completed", "complete", true)).toMatchObject({
      ok: false,
      code: "receipt-completed",
    });
    expect(receiptTransition("completed", "acknowledge", true)).toMatchObject({ ok: false });
  });

  it("keeps an overdue receipt overdue on acknowledgement and marks its completion late", () => {
    expect(receiptTransition("overdue", "acknowledge", false)).toEqual({
      ok: true,
      state: "overdue",
      late: true,
    });
    expect(receiptTransition("overdue", "complete", true)).toEqual({
      ok: true,
      state: "completed",
      late: true,
    });
  });
});

describe("isPastDue", () => {
  it("is true for open receipts at or after the due time only", () => {
    const due = "2026-05-01T08:00:00.000Z";
    expect(isPastDue("delivered", due, "2026-05-01T07:59:59.999Z")).toBe(false);
    expect(isPastDue("delivered", due, due)).toBe(true);
    expect(isPastDue("acknowledged", due, "2026-05-02T00:00:00.000Z")).toBe(true);
    expect(isPastDue("completed", due, "2026-05-02T00:00:00.000Z")).toBe(false);
    expect(isPastDue("overdue", due, "2026-05-02T00:00:00.000Z")).toBe(false);
  });
});

describe("receiptAccess", () => {
  const gridReceipt = { unitId: "g", unitPath: GRID, level: "grid" as const };
  it("lets the grid's own worker and its village centre act", () => {
    expect(receiptAccess({ role: "grid_worker", unitId: "g", unitPath: GRID }, gridReceipt)).toBe("ok");
    expect(receiptAccess({ role: "center_staff", unitId: "v", unitPath: VILLAGE }, gridReceipt)).toBe("ok");
  });
  it("answers not-found outside the caller's subtree and forbidden to others inside it", () => {
    expect(receiptAccess({ role: "grid_worker", unitId: "g2", unitPath: "/c/co/t/v/g2/" }, gridReceipt)).toBe(
      "not-found",
    );
    expect(receiptAccess({ role: "center_staff", unitId: "c", unitPath: CITY }, gridReceipt)).toBe(
      "forbidden",
    );
    expect(receiptAccess({ role: "leader", unitId: "v", unitPath: VILLAGE }, gridReceipt)).toBe("forbidden");
    expect(receiptAccess({ role: "party_member", unitId: "g", unitPath: GRID }, gridReceipt)).toBe(
      "forbidden",
    );
  });
  it("does not let a village centre act for a village receipt of another unit", () => {
    const villageReceipt = { unitId: "v", unitPath: VILLAGE, level: "village" as const };
    expect(receiptAccess({ role: "center_staff", unitId: "v", unitPath: VILLAGE }, villageReceipt)).toBe(
      "ok",
    );
    expect(receiptAccess({ role: "center_staff", unitId: "t", unitPath: "/c/co/t/" }, villageReceipt)).toBe(
      "forbidden",
    );
  });
});

describe("targetableLevels", () => {
  it("lists only the levels strictly below the issuer", () => {
    expect(targetableLevels("city")).toEqual(["county", "town", "village", "grid"]);
    expect(targetableLevels("village")).toEqual(["grid"]);
    expect(targetableLevels("grid")).toEqual([]);
  });
});

describe("foldCounts", () => {
  it("sums GROUP BY rows per level key and in total", () => {
    const { total, byLevel } = foldCounts([
      { level: "village", gridLevel: 1, state: "delivered", n: 3 },
      { level: "village", gridLevel: 1, state: "completed", n: 1 },
      { level: "grid", gridLevel: 2, state: "overdue", n: 5 },
      { level: "grid", gridLevel: 3, state: "acknowledged", n: 2 },
    ]);
    expect(total).toEqual({ total: 11, delivered: 3, acknowledged: 2, completed: 1, overdue: 5 });
    expect(byLevel.village).toEqual({ total: 4, delivered: 3, acknowledged: 0, completed: 1, overdue: 0 });
    expect(byLevel.grid2!.overdue).toBe(5);
    expect(byLevel.grid3!.acknowledged).toBe(2);
    expect(completionRate(total)).toBe(0.0909);
    expect(completionRate(foldCounts([]).total)).toBe(0);
  });
});
