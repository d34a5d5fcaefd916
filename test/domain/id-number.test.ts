import { describe, expect, it } from "vitest";
import { idCheckCharacter, isRealDate, makeIdNumber, parseIdNumber } from "../../src/domain/id-number";

describe("GB 11643 ID numbers", () => {
  it("accepts the standard's worked example with an X check character", () => {
    expect(idCheckCharacter("11010519491231002")).toBe("X");
    expect(parseIdNumber("11010519491231002x", "2026-01-01")).toEqual({
      ok: true,
      idNumber: "11010519491231002X",
      birthDate: "1949-12-31",
      gender: "female",
    });
  });

  it("rejects a wrong check digit", () => {
    const good = makeIdNumber("610902", "1990-01-01", 123);
    const bad = good.slice(0, 17) + (good[17] === "1" ? "2" : "1");
    expect(parseIdNumber(good, "2026-01-01").ok).toBe(true);
    expect(parseIdNumber(bad, "2026-01-01")).toEqual({
      ok: false,
      message: "the ID number's check digit is wrong (GB 11643)",
    });
  });

  it("rejects bad shapes, impossible and future birth dates", () => {
    expect(parseIdNumber("61090219900101123", "2026-01-01").ok).toBe(false);
    expect(parseIdNumber("6109021990010112AB", "2026-01-01").ok).toBe(false);
    expect(parseIdNumber(makeIdNumber("610902", "1990-02-30", 1), "2026-01-01")).toMatchObject({ ok: false });
    expect(parseIdNumber(makeIdNumber("610902", "2027-01-01", 1), "2026-01-01")).toEqual({
      ok: false,
      message: "the ID number's birth date is in the future",
    });
  });

  it("reads the gender from the sequence's last digit", () => {
    expect(parseIdNumber(makeIdNumber("610902", "1990-01-01", 13), "2026-01-01")).toMatchObject({
      gender: "male",
    });
    expect(parseIdNumber(makeIdNumber("610902", "1990-01-01", 14), "2026-01-01")).toMatchObject({
      gender: "female",
    });
  });

  it("knows real dates", () => {
    expect(isRealDate("2024-02-29")).toBe(true);
    expect(isRealDate("2025-02-29")).toBe(false);
  });
});
