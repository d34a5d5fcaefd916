import { describe, expect, it } from "vitest";
import {
  checkChange,
  childOnTheWay,
  isReached,
  isVulnerable,
  mayCommand,
  outermost,
  reachDueAt,
  rosterBand,
  rosterOrder,
  timeToFractions,
  townOfPath,
  villageOfPath,
} from "../../src/domain/emergency";

const event = {
  level: "II" as const,
  status: "active" as const,
  commandUnitPath: "/c/k/t/",
  affectedPaths: ["/c/k/t/v1/"],
};

describe("emergency rules", () => {
  it("bands households: vulnerable residents, then red, yellow, green", () => {
    expect(rosterBand({ householdClass: "green", vulnerableCount: 1 })).toBe(0);
    expect(rosterBand({ householdClass: "red", vulnerableCount: 0 })).toBe(1);
    expect(rosterBand({ householdClass: "yellow", vulnerableCount: 0 })).toBe(2);
    expect(rosterBand({ householdClass: "green", vulnerableCount: 0 })).toBe(3);
  });

  it("orders a roster by band, then more vulnerable residents, then address", () => {
    const h = (
      householdId: string,
      householdClass: "green" | "yellow" | "red",
      vulnerableCount: number,
      address: string,
    ) => ({
      householdId,
      householdClass,
      vulnerableCount,
      address,
    });
    const ordered = rosterOrder([
      h("g", "green", 0, "1号"),
      h("v1", "green", 1, "9号"),
      h("r", "red", 0, "2号"),
      h("v2", "red", 2, "5号"),
      h("y", "yellow", 0, "3号"),
      h("r0", "red", 0, "1号"),
    ]);
    expect(ordered.map((x) => x.householdId)).toEqual(["v2", "v1", "r0", "r", "y", "g"]);
  });

  it("knows vulnerable tags and reached states", () => {
    expect(isVulnerable(["left_behind_child"])).toBe(true);
    expect(isVulnerable(["poverty_risk", "veteran"])).toBe(false);
    expect(isReached("moved")).toBe(true);
    expect(isReached("not_reached")).toBe(false);
    expect(isReached("pending")).toBe(false);
  });

  it("lets only towns and above command", () => {
    expect(mayCommand("town")).toBe(true);
    expect(mayCommand("village")).toBe(false);
  });

  it("checks changes: commanding centre or above, direction of the level, units inside and new, nothing after stand-down", () => {
    expect(checkChange(event, { type: "raise", level: "I" }, "/c/k/")).toEqual({ ok: true });
    expect(checkChange(event, { type: "raise", level: "I" }, "/c/k/t/v1/")).toMatchObject({ status: 403 });
    expect(checkChange(event, { type: "raise", level: "III" }, "/c/")).toMatchObject({
      code: "level-not-higher",
    });
    expect(checkChange(event, { type: "lower", level: "I" }, "/c/")).toMatchObject({
      code: "level-not-lower",
    });
    expect(checkChange(event, { type: "lower", level: "IV" }, "/c/")).toEqual({ ok: true });
    expect(checkChange(event, { type: "add_units", unitPaths: ["/c/k/t/v1/g/"] }, "/c/")).toMatchObject({
      code: "unit-already-affected",
    });
    expect(checkChange(event, { type: "add_units", unitPaths: ["/c/k2/"] }, "/c/")).toMatchObject({
      status: 400,
    });
    expect(checkChange(event, { type: "add_units", unitPaths: ["/c/k/t/v2/"] }, "/c/")).toEqual({ ok: true });
    expect(checkChange({ ...event, status: "stood_down" }, { type: "stand_down" }, "/c/")).toMatchObject({
      status: 409,
    });
  });

  it("keeps the outermost of nested paths and finds towns, villages and children on a path", () => {
    expect(outermost(["/c/k/t/", "/c/k/t/v/", "/c/k2/"])).toEqual(["/c/k2/", "/c/k/t/"]);
    expect(townOfPath("/c/k/t/v/g/")).toBe("t");
    expect(villageOfPath("/c/k/t/v/g/")).toBe("v");
    expect(childOnTheWay("/c/k/", "/c/k/t/v/")).toBe("t");
    expect(childOnTheWay("/c/k/", "/c/k/")).toBeNull();
    expect(childOnTheWay("/c/k/", "/c/x/")).toBeNull();
  });

  it("times the reach of 50, 90 and 100 % from the declaration", () => {
    const start = "2026-07-01T00:00:00.000Z";
    const steps = [
      { at: "2026-07-01T00:40:00.000Z", delta: 5 },
      { at: "2026-07-01T00:10:00.000Z", delta: 4 },
      { at: "2026-07-01T01:00:00.000Z", delta: -1 },
    ];
    expect(timeToFractions(start, 10, steps, [0.5, 0.9, 1])).toEqual([40, 40, null]);
    expect(timeToFractions(start, 0, steps, [0.5])).toEqual([null]);
  });

  it("falls due after the level's interval, or the event's own", () => {
    expect(reachDueAt(0, "I")).toBe(120 * 60_000);
    expect(reachDueAt(0, "IV")).toBe(720 * 60_000);
    expect(reachDueAt(0, "I", 30)).toBe(30 * 60_000);
  });
});
