import { describe, expect, it } from "vitest";
import { type ExistingUnit, planUnitImport, type UnitImportRow } from "../../src/domain/unit-import";

const town: ExistingUnit = { id: "t", code: "610902001", path: "/c/k/t/", level: "town", gridLevel: null };
const otherTown: ExistingUnit = {
  id: "o",
  code: "610902002",
  path: "/c/k/o/",
  level: "town",
  gridLevel: null,
};
const existing = new Map([
  [town.code, town],
  [otherTown.code, otherTown],
]);
const inTown = (path: string) => path.startsWith(town.path);
let counter = 0;
const ids = () => `id${++counter}`;

const row = (code: string, parentCode: string, level: UnitImportRow["level"]): UnitImportRow => ({
  code,
  parentCode,
  level,
  name: `unit ${code}`,
});

describe("planUnitImport", () => {
  it("plans parents before children even when rows come children first", () => {
    const rows = [
      row("610902001001001001", "610902001001001", "grid"),
      row("610902001001001", "610902001001", "grid"),
      row("610902001001", "610902001", "village"),
    ];
    const plan = planUnitImport(rows, existing, inTown, ids);
    if (!plan.ok) throw new Error(JSON.stringify(plan.errors));
    expect(plan.units.map((u) => [u.code, u.level, u.gridLevel, u.depth])).toEqual([
      ["610902001001", "village", 1, 3],
      ["610902001001001", "grid", 2, 4],
      ["610902001001001001", "grid", 3, 5],
    ]);
    const [village, grid, sub] = plan.units;
    expect(village!.parentId).toBe("t");
    expect(village!.path).toBe(`/c/k/t/${village!.id}/`);
    expect(grid!.parentId).toBe(village!.id);
    expect(sub!.path).toBe(`${grid!.path}${sub!.id}/`);
  });

  it("reports a cycle between rows on each row of the loop", () => {
    const rows = [
      row("610902001001", "610902001", "village"),
      row("610902001001001", "610902001001002", "grid"),
      row("610902001001002", "610902001001001", "grid"),
    ];
    const plan = planUnitImport(rows, existing, inTown, ids);
    expect(plan.ok).toBe(false);
    if (plan.ok) return;
    expect(plan.errors.map((e) => e.index)).not.toContain(0);
    expect(new Set(plan.errors.map((e) => e.index))).toEqual(new Set([1, 2]));
    expect(plan.errors.some((e) => e.message === "the parent chain loops back to this row")).toBe(true);
    expect(plan.errors.every((e) => e.path === `rows.${e.index}.parentCode`)).toBe(true);
  });

  it("reports a row that names itself as parent", () => {
    const plan = planUnitImport([row("610902001001", "610902001001", "village")], existing, inTown, ids);
    expect(plan).toEqual({
      ok: false,
      errors: [{ index: 0, path: "rows.0.parentCode", message: "no such parent unit" }],
    });
  });

  it("reports duplicate codes within the import and codes that already exist", () => {
    const rows = [
      row("610902001001", "610902001", "village"),
      row("610902001001", "610902001", "village"),
      row("610902002", "610902", "town"),
    ];
    const plan = planUnitImport(rows, existing, inTown, ids);
    expect(plan.ok).toBe(false);
    if (plan.ok) return;
    expect(plan.errors).toContainEqual({ index: 1, path: "rows.1.code", message: "duplicate of row 0" });
    expect(plan.errors).toContainEqual({
      index: 2,
      path: "rows.2.code",
      message: "a unit with this code exists",
    });
  });

  it("refuses parents outside the importer's scope as if they did not exist", () => {
    const plan = planUnitImport([row("610902002001", "610902002", "village")], existing, inTown, ids);
    expect(plan).toEqual({
      ok: false,
      errors: [{ index: 0, path: "rows.0.parentCode", message: "no such parent unit in your scope" }],
    });
  });

  it("reports a wrong level, a bad code and an unknown parent per row, and children of bad rows", () => {
    const rows = [
      row("610902001001", "610902001", "grid"),
      row("610902001002", "610902001", "village"),
      row("610902009001", "610902001", "village"),
      row("610902001002001", "610902001002", "grid"),
      row("610902001003001", "610902001003", "grid"),
      row("610902001009001", "610902001001", "grid"),
    ];
    const plan = planUnitImport(rows, existing, inTown, ids);
    expect(plan.ok).toBe(false);
    if (plan.ok) return;
    expect(plan.errors).toEqual([
      { index: 0, path: "rows.0.level", message: "a town can only have village children, not grid" },
      { index: 2, path: "rows.2.code", message: "the code must start with the parent's code" },
      { index: 4, path: "rows.4.parentCode", message: "no such parent unit" },
      { index: 5, path: "rows.5.parentCode", message: "parent row 0 is invalid" },
    ]);
  });

  it("reports the index of the single bad row among many good ones", () => {
    const rows: UnitImportRow[] = [];
    for (let v = 1; v <= 50; v++) {
      const code = `610902001${String(v).padStart(3, "0")}`;
      rows.push(row(code, "610902001", "village"));
      rows.push(row(`${code}001`, code, "grid"));
    }
    rows[57] = row("610902001029999", "610902001029", "village");
    const plan = planUnitImport(rows, existing, inTown, ids);
    expect(plan).toEqual({
      ok: false,
      errors: [
        { index: 57, path: "rows.57.level", message: "a village can only have grid children, not village" },
      ],
    });
  });
});
