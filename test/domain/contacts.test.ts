import { describe, expect, it } from "vitest";
import {
  checkPairingLine,
  DEFAULT_MAX_HOUSEHOLDS,
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
