import { describe, expect, it } from "vitest";
import {
  checkPairingLine,
  contactTiming,
  DEFAULT_MAX_HOUSEHOLDS,
  isOnCase,
  lineCoverage,
  overloaded,
  parseMaxHouseholds,
  resolveSetting,
} from "../../src/domain/contacts";

describe("coverage maths", () => {
  it("gives the share of households covered on each line", () => {
    expect(lineCoverage(8, { party_member: 2, household_lead: 4 })).toEqual({
      party_member: { covered: 2, share: 0.25 },
      deputy: { covered: 0, share: 0 },
      household_lead: { covered: 4, share: 0.5 },
    });
    expect(lineCoverage(0, {}).deputy).toEqual({ covered: 0, share: 0 });
    expect(lineCoverage(3, { deputy: 1 }).deputy.share).toBe(0.3333);
  });
  it("lists contacts over the maximum, most loaded first", () => {
    const list = overloaded(
      [
        { id: "a", households: 30 },
        { id: "b", households: 31 },
        { id: "c", households: 45 },
      ],
      30,
    );
    expect(list.map((c) => c.id)).toEqual(["c", "b"]);
  });
  it("resolves the maximum from the deepest usable setting", () => {
    expect(resolveSetting([], parseMaxHouseholds, DEFAULT_MAX_HOUSEHOLDS)).toBe(30);
    expect(
      resolveSetting(
        [
          { depth: 1, value: "20" },
          { depth: 3, value: "0" },
        ],
        parseMaxHouseholds,
        30,
      ),
    ).toBe(20);
  });
  it("pairs a contact only on their own line", () => {
    expect(checkPairingLine("party_member", "party_member")).toBeNull();
    expect(checkPairingLine("party_member", "deputy")).toMatch(/pairs on the party_member line/);
    expect(checkPairingLine("grid_worker", "deputy")).toMatch(/not a three-line contact/);
  });
});

describe("back-dated contacts", () => {
  const now = Date.parse("2026-03-10T08:00:00Z");
  const day = 86_400_000;

  it("accepts a contact within the window, marking it late after a day; refuses one beyond", () => {
    expect(contactTiming(now - 60_000, now, 7)).toEqual({ ok: true, recordedLate: false });
    expect(contactTiming(now - day, now, 7)).toEqual({ ok: true, recordedLate: false });
    expect(contactTiming(now - day - 1, now, 7)).toEqual({ ok: true, recordedLate: true });
    expect(contactTiming(now - 7 * day, now, 7)).toEqual({ ok: true, recordedLate: true });
    expect(contactTiming(now - 7 * day - 1, now, 7)).toEqual({ ok: false, reason: "more than 7 days back" });
    expect(contactTiming(Date.parse("2025-06-01T00:00:00Z"), now, 7).ok).toBe(false);
  });
});

describe("who is on a case", () => {
  const timeline = {
    reporterId: "r",
    events: [
      { actorId: "r", type: "reported" },
      { actorId: "h", type: "accepted" },
    ],
  };
  it("its reporter, an actor on its timeline, or a contact paired with one of its households", () => {
    expect(isOnCase("r", timeline, false)).toBe(true);
    expect(isOnCase("h", timeline, false)).toBe(true);
    expect(isOnCase("p", timeline, true)).toBe(true);
    expect(isOnCase("p", timeline, false)).toBe(false);
  });
});
