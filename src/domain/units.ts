/** The levels of the administrative tree, top down. A village is also the level-1 grid. */
export const UNIT_LEVELS = ["city", "county", "town", "village", "grid"] as const;

/** The levels whose units have a GridDesk of their own: cases are owned at these levels. */
export const DESK_LEVELS = ["village", "grid"] as const satisfies readonly (typeof UNIT_LEVELS)[number][];
export type UnitLevel = (typeof UNIT_LEVELS)[number];

export const UNIT_LEVEL_LABELS: Record<UnitLevel, string> = {
  city: "市",
  county: "县/区",
  town: "镇/街道",
  village: "村/社区（一级网格）",
  grid: "网格（二级/三级）",
};

/** Where a unit sits: its level and, for grids, whether it is a level-2 or level-3 grid. */
export interface UnitPosition {
  level: UnitLevel;
  /** 1 for a village, 2 or 3 for grids, null above the village. */
  gridLevel: number | null;
}

/**
 * The position a child of `parent` takes when it is created at `childLevel`, or an error message.
 * A city has no parent; grids nest at most two deep under a village.
 */
export function childPosition(parent: UnitPosition | null, childLevel: UnitLevel): UnitPosition | string {
  if (parent === null) {
    return childLevel === "city" ? { level: "city", gridLevel: null } : "only a city may have no parent";
  }
  if (childLevel === "city") return "a city cannot have a parent";
  const expected: Record<UnitLevel, UnitLevel | null> = {
    city: "county",
    county: "town",
    town: "village",
    village: "grid",
    grid: parent.gridLevel === 2 ? "grid" : null,
  };
  const next = expected[parent.level];
  if (next === null) return "a level-3 grid cannot have children";
  if (next !== childLevel) return `a ${parent.level} can only have ${next} children, not ${childLevel}`;
  if (childLevel === "village") return { level: "village", gridLevel: 1 };
  if (childLevel === "grid") return { level: "grid", gridLevel: (parent.gridLevel ?? 1) + 1 };
  return { level: childLevel, gridLevel: null };
}

/** Digits a unit code has at each position: 6 for city and county, +3 per level below. */
export function codeLength(position: UnitPosition): number {
  switch (position.level) {
    case "city":
    case "county":
      return 6;
    case "town":
      return 9;
    case "village":
      return 12;
    case "grid":
      return position.gridLevel === 3 ? 18 : 15;
  }
}

/**
 * Checks a unit code against its position and parent, shaped like a Chinese administrative division code:
 * a city `6109 00`, a county `6109 02` (same prefecture prefix), a town `610902 001`, a village
 * `610902001 001`, then 3 more digits per grid level. Returns an error message or null.
 */
export function checkUnitCode(
  code: string,
  position: UnitPosition,
  parentCode: string | null,
): string | null {
  const length = codeLength(position);
  if (!/^\d+$/.test(code) || code.length !== length) {
    return `a ${position.level}${position.gridLevel && position.level === "grid" ? ` (level ${position.gridLevel})` : ""} code has ${length} digits`;
  }
  if (position.level === "city") return code.endsWith("00") ? null : "a city code ends in 00";
  if (parentCode === null) return "the parent has no code";
  if (position.level === "county") {
    if (code.slice(0, 4) !== parentCode.slice(0, 4))
      return "a county code starts with its city's first 4 digits";
    return code.endsWith("00") ? "a county code does not end in 00" : null;
  }
  if (!code.startsWith(parentCode)) return "the code must start with the parent's code";
  if (/^0+$/.test(code.slice(parentCode.length))) return "the code's own digits cannot all be zero";
  return null;
}

/** The materialized path of a unit below `parentPath`. */
export function unitPath(parentPath: string | null, id: string): string {
  return `${parentPath ?? "/"}${id}/`;
}

/** Whether `path` lies inside the subtree rooted at `scopePath` (a unit is inside its own subtree). */
export function inScope(scopePath: string, path: string): boolean {
  return path.startsWith(scopePath);
}

/**
 * `[lo, hi)` bounds that select every path inside the subtree `path` (itself included) with one index range
 * scan: '/' is 0x2F and '0' is 0x30, so every path below `path` sorts before `path` with its last '/' raised.
 */
export function subtreeRange(path: string): [string, string] {
  return [path, `${path.slice(0, -1)}0`];
}

/** The ids on a materialized path, root first. */
export function pathIds(path: string): string[] {
  return path.split("/").filter(Boolean);
}
