import { describe, expect, it } from "vitest";
import { checkUnitCode, childPosition, codeLength, inScope, pathIds, unitPath } from "../../src/domain/units";

const city = { level: "city", gridLevel: null } as const;
const county = { level: "county", gridLevel: null } as const;
const town = { level: "town", gridLevel: null } as const;
const village = { level: "village", gridLevel: 1 } as const;
const grid2 = { level: "grid", gridLevel: 2 } as const;
const grid3 = { level: "grid", gridLevel: 3 } as const;

describe("childPosition", () => {
  it("walks the tree city → county → town → village → level-2 grid → level-3 grid", () => {
    expect(childPosition(null, "city")).toEqual(city);
    expect(childPosition(city, "county")).toEqual(county);
    expect(childPosition(county, "town")).toEqual(town);
    expect(childPosition(town, "village")).toEqual(village);
    expect(childPosition(village, "grid")).toEqual(grid2);
    expect(childPosition(grid2, "grid")).toEqual(grid3);
  });

  it("refuses a level-3 grid as a parent", () => {
    expect(childPosition(grid3, "grid")).toBe("a level-3 grid cannot have children");
  });

  it("refuses a child whose level skips or repeats one", () => {
    expect(childPosition(city, "town")).toBe("a city can only have county children, not town");
    expect(childPosition(town, "grid")).toBe("a town can only have village children, not grid");
    expect(childPosition(village, "village")).toBe("a village can only have grid children, not village");
    expect(childPosition(county, "county")).toMatch(/only have town children/);
  });

  it("lets only a city stand without a parent, and never under one", () => {
    expect(childPosition(null, "county")).toBe("only a city may have no parent");
    expect(childPosition(county, "city")).toBe("a city cannot have a parent");
  });
});

describe("checkUnitCode", () => {
  it("accepts codes shaped like administrative division codes", () => {
    expect(checkUnitCode("610900", city, null)).toBeNull();
    expect(checkUnitCode("610902", county, "610900")).toBeNull();
    expect(checkUnitCode("610902001", town, "610902")).toBeNull();
    expect(checkUnitCode("610902001001", village, "610902001")).toBeNull();
    expect(checkUnitCode("610902001001002", grid2, "610902001001")).toBeNull();
    expect(checkUnitCode("610902001001002003", grid3, "610902001001002")).toBeNull();
  });

  it("has the right number of digits per level", () => {
    expect([city, county, town, village, grid2, grid3].map(codeLength)).toEqual([6, 6, 9, 12, 15, 18]);
    expect(checkUnitCode("61090", city, null)).toBe("a city code has 6 digits");
    expect(checkUnitCode("6109020010", town, "610902")).toBe("a town code has 9 digits");
    expect(checkUnitCode("610902001001002", grid3, "610902001001002")).toBe(
      "a grid (level 3) code has 18 digits",
    );
    expect(checkUnitCode("61090A", city, null)).toBe("a city code has 6 digits");
  });

  it("requires a city to end in 00 and a county to share its prefecture prefix without ending in 00", () => {
    expect(checkUnitCode("610901", city, null)).toBe("a city code ends in 00");
    expect(checkUnitCode("610800", county, "610900")).toBe(
      "a county code starts with its city's first 4 digits",
    );
    expect(checkUnitCode("610900", county, "610900")).toBe("a county code does not end in 00");
    expect(checkUnitCode("610902", county, null)).toBe("the parent has no code");
  });

  it("requires lower codes to extend the parent's code with non-zero digits", () => {
    expect(checkUnitCode("610903001", town, "610902")).toBe("the code must start with the parent's code");
    expect(checkUnitCode("610902000", town, "610902")).toBe("the code's own digits cannot all be zero");
    expect(checkUnitCode("610902001000", village, "610902001")).toBe(
      "the code's own digits cannot all be zero",
    );
  });
});

describe("paths and scope", () => {
  it("builds materialized paths and reads their ids back", () => {
    const a = unitPath(null, "a");
    const b = unitPath(a, "b");
    expect(a).toBe("/a/");
    expect(b).toBe("/a/b/");
    expect(pathIds(b)).toEqual(["a", "b"]);
  });

  it("treats a unit's subtree, itself included, as in scope and siblings as not", () => {
    expect(inScope("/a/", "/a/")).toBe(true);
    expect(inScope("/a/", "/a/b/c/")).toBe(true);
    expect(inScope("/a/b/", "/a/")).toBe(false);
    expect(inScope("/a/b/", "/a/bb/")).toBe(false);
  });
});
