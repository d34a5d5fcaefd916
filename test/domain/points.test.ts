import { describe, expect, it } from "vitest";
import {
  checkCaseEvidence,
  confirmRefusal,
  DEFAULT_POINTS,
  ledgerTotal,
  pointsFor,
  rankByPoints,
  yearOf,
} from "../../src/domain/points";

describe("pointsFor", () => {
  it("uses the default per evidence kind without a setting", () => {
    expect(pointsFor("visit", [])).toBe(DEFAULT_POINTS.visit);
    expect(pointsFor("mediation", [])).toBe(DEFAULT_POINTS.mediation);
  });
  it("takes the deepest setting on the branch's path and ignores unusable values", () => {
    const settings = [
      { depth: 1, key: "points.case", value: "4" },
      { depth: 3, key: "points.case", value: "6" },
      { depth: 4, key: "points.case", value: "-1" },
      { depth: 4, key: "points.visit", value: "1.5" },
    ];
    expect(pointsFor("case", settings)).toBe(6);
    expect(pointsFor("visit", settings)).toBe(DEFAULT_POINTS.visit);
  });
});

describe("the points ledger", () => {
  it("totals entries, corrections included as entries", () => {
    const entries = [
      { memberId: "a", points: 5 },
      { memberId: "a", points: 8 },
      { memberId: "a", points: -5 },
    ];
    expect(ledgerTotal(entries)).toBe(8);
  });
  it("ranks by total with shared ranks for ties", () => {
    const ranked = rankByPoints([
      { id: "a", total: 10 },
      { id: "b", total: 30 },
      { id: "c", total: 10 },
      { id: "d", total: 5 },
    ]);
    expect(ranked.map((r) => [r.item.id, r.rank])).toEqual([
      ["b", 1],
      ["a", 2],
      ["c", 2],
      ["d", 4],
    ]);
  });
});

describe("evidence rules", () => {
  it("counts evidence in its China-time year", () => {
    expect(yearOf("2025-12-31T15:59:59Z")).toBe(2025);
    expect(yearOf("2025-12-31T16:00:00Z")).toBe(2026);
  });
  it("a case counts when the member reported it or logged a contact that fed it; a mediation must be a dispute", () => {
    const dispute = { type: "dispute", reporterId: "m", state: "accepted" };
    expect(checkCaseEvidence("case", dispute, "m", [])).toBeNull();
    expect(checkCaseEvidence("mediation", dispute, "m", [])).toBeNull();
    expect(checkCaseEvidence("case", { ...dispute, reporterId: "w" }, "m", ["information"])).toBeNull();
    expect(checkCaseEvidence("mediation", { ...dispute, reporterId: "w" }, "m", ["information"])).toMatch(
      /neither/,
    );
    expect(checkCaseEvidence("mediation", { ...dispute, reporterId: "w" }, "m", ["mediation"])).toBeNull();
    expect(checkCaseEvidence("mediation", { ...dispute, type: "other" }, "m", [])).toBe(
      "a mediation is a dispute case",
    );
    expect(checkCaseEvidence("case", { ...dispute, state: "rejected" }, "m", [])).toMatch(/no points/);
    expect(checkCaseEvidence("case", { ...dispute, reporterId: "w" }, "m", [])).toMatch(/neither/);
  });
});

describe("who confirms a fulfilment", () => {
  const member = { id: "m", unitPath: "/c/co/t/v/g/" };
  const staff = (unitPath: string, unitLevel: string, role = "center_staff") => ({
    userId: "s",
    role,
    unitPath,
    unitLevel,
  });

  it("centre staff of the member's village or above confirm; a grid, another village or the member do not", () => {
    expect(confirmRefusal(staff("/c/co/t/v/", "village"), member, [])).toBeNull();
    expect(confirmRefusal(staff("/c/co/", "county"), member, [])).toBeNull();
    expect(confirmRefusal(staff("/c/", "city", "admin"), member, [])).toBeNull();
    expect(confirmRefusal(staff("/c/co/t/v/g/", "grid"), member, [])).toMatch(/village or above/);
    expect(confirmRefusal(staff("/c/co/t/v2/", "village"), member, [])).toMatch(/village or above/);
    expect(confirmRefusal(staff("/c/co/t/v/", "village", "grid_worker"), member, [])).not.toBeNull();
    expect(
      confirmRefusal({ userId: "m", role: "center_staff", unitPath: "/c/", unitLevel: "city" }, member, [
        "m",
      ]),
    ).toBe("a member cannot confirm their own fulfilment");
  });

  it("the case's handler confirms, whatever their role", () => {
    const worker = { userId: "w", role: "grid_worker", unitPath: "/c/co/t/v/g/", unitLevel: "grid" };
    expect(confirmRefusal(worker, member, ["w"])).toBeNull();
    expect(confirmRefusal(worker, member, ["other"])).not.toBeNull();
  });
});
