import type { UnitLevel } from "./units";

/** Every role a grid321 user can hold. */
export const ROLES = [
  "admin",
  "center_staff",
  "grid_worker",
  "party_member",
  "deputy",
  "household_lead",
  "department",
  "leader",
] as const;
export type Role = (typeof ROLES)[number];

/** Chinese labels, for the API reference. */
export const ROLE_LABELS: Record<Role, string> = {
  admin: "系统管理员",
  center_staff: "综治中心工作人员",
  grid_worker: "网格员",
  party_member: "党员",
  deputy: "人大代表",
  household_lead: "中心户长",
  department: "职能部门",
  leader: "领导（只读）",
};

/** The three lines of the 321 model. */
export const THREE_LINE_ROLES = [
  "party_member",
  "deputy",
  "household_lead",
] as const satisfies readonly Role[];

const ALLOWED_LEVELS: Record<Role, readonly UnitLevel[]> = {
  admin: ["city", "county", "town", "village", "grid"],
  center_staff: ["city", "county", "town", "village"],
  grid_worker: ["grid"],
  party_member: ["village", "grid"],
  deputy: ["county", "town", "village"],
  household_lead: ["village", "grid"],
  department: ["city", "county", "town"],
  leader: ["city", "county", "town", "village"],
};

/** Whether a user with `role` may belong to a unit of `level` (a grid worker works in a grid, a centre is not a grid…). */
export function roleFitsLevel(role: Role, level: UnitLevel): boolean {
  return ALLOWED_LEVELS[role].includes(level);
}

/** The unit levels a role may belong to. */
export function levelsForRole(role: Role): readonly UnitLevel[] {
  return ALLOWED_LEVELS[role];
}
