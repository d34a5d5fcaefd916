import { describe, expect, it } from "vitest";
import {
  checkMatterActivity,
  isStationLevel,
  matterCaseDescription,
  matterOutcome,
  outcomeCounts,
} from "../../src/domain/liaison";

describe("liaison station rules", () => {
  it("takes matters only on a reception day", () => {
    expect(checkMatterActivity("reception")).toBeNull();
    expect(checkMatterActivity("reporting")).toBe(
      "matters are raised on a reception day, not a reporting day",
    );
  });
  it("opens stations at county, town and village level only", () => {
    expect(["county", "town", "village"].every(isStationLevel)).toBe(true);
    expect(isStationLevel("grid")).toBe(false);
    expect(isStationLevel("city")).toBe(false);
  });
  it("names the activity in the case description", () => {
    expect(matterCaseDescription("路灯不亮", { id: "a1", title: "五月接待日" })).toBe(
      "路灯不亮\n\n[来源：人大代表联络站接待日「五月接待日」activity a1]",
    );
  });
  it("reports what became of each matter", () => {
    const outcomes = [null, "reported", "in_progress", "resolved", "closed", "rejected", "merged"].map(
      matterOutcome,
    );
    expect(outcomes).toEqual([
      "pending",
      "open",
      "open",
      "resolved",
      "closed",
      "not_taken_up",
      "not_taken_up",
    ]);
    expect(outcomeCounts(outcomes)).toEqual({ pending: 1, open: 2, resolved: 1, closed: 1, not_taken_up: 2 });
  });
});
