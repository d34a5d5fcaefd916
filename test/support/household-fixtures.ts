import { chinaYear } from "../../src/domain/china-time";
import { makeIdNumber } from "../../src/domain/id-number";
import { sql, type TestUnit } from "./helpers";

/** A fresh valid ID number (random region and birth date, so tests sharing the database never collide). */
export function freshId(
  gender: "male" | "female" = "male",
  birthDate?: string,
): { idNumber: string; birthDate: string } {
  const day = new Date(Date.UTC(1950, 0, 1) + Math.floor(Math.random() * 50 * 365) * 86_400_000);
  const birth = birthDate ?? day.toISOString().slice(0, 10);
  const region = String(110000 + Math.floor(Math.random() * 500_000));
  const seq = Math.floor(Math.random() * 500) * 2 + (gender === "male" ? 1 : 0);
  return { idNumber: makeIdNumber(region, birth, seq), birthDate: birth };
}

/** A resident body for POST /v1/households/{id}/residents. */
export function resident(overrides: Record<string, unknown> = {}) {
  const gender = (overrides.gender as "male" | "female" | undefined) ?? "male";
  const id = freshId(gender, overrides.birthDate as string | undefined);
  return {
    name: "王建国",
    gender,
    birthDate: id.birthDate,
    idNumber: id.idNumber,
    phone: "13800001234",
    relationship: "head",
    tags: [],
    ...overrides,
  };
}

/** A household body for POST /v1/households in `unit`. */
export function household(unit: TestUnit, overrides: Record<string, unknown> = {}) {
  return {
    unitId: unit.id,
    address: `安康市汉滨区${Math.floor(Math.random() * 1e6)}号`,
    headName: "王建国",
    incomePerCapita: 12_000,
    incomeStable: true,
    safeFamilyYears: lastYears(3),
    ...overrides,
  };
}

/** The `n` calendar years before this one (China time), the window the green rule looks at. */
export function lastYears(n: number, asOf = new Date()): number[] {
  const year = chinaYear(asOf);
  return Array.from({ length: n }, (_, i) => year - n + i);
}

/** The stored row of a household, straight from libSQL. */
export async function storedHousehold(id: string) {
  const rs = await sql().execute({ sql: "SELECT * FROM households WHERE id = ?", args: [id] });
  return rs.rows[0];
}

/** Audit rows for an object, oldest first. */
export async function auditRows(objectId: string) {
  const rs = await sql().execute({
    sql: "SELECT action, actor_id, purpose, detail, scope_path FROM audit_log WHERE object_id = ? ORDER BY seq",
    args: [objectId],
  });
  return rs.rows;
}
