import { sql, type TestUnit } from "./helpers";

/** Inserts a household of `cls` straight into the registry (the households area owns the real create path). */
export async function makeHousehold(
  grid: TestUnit,
  cls: "green" | "yellow" | "red" = "green",
): Promise<string> {
  const id = crypto.randomUUID();
  const now = new Date().toISOString();
  await sql().execute({
    sql: `INSERT INTO households (id, unit_id, unit_path, address, head_name, income_per_capita, income_stable,
            computed_class, class, class_reasons, class_since, classified_at, version, created_at, updated_at)
          VALUES (?, ?, ?, '安康市测试路 1 号', '张三', 12000, 1, ?, ?, '[]', ?, ?, 1, ?, ?)`,
    args: [id, grid.id, grid.path, cls, cls, now, now, now, now],
  });
  return id;
}

/** Inserts a resident of a household (no personal data needed for ratings). */
export async function makeResident(householdId: string, grid: TestUnit): Promise<string> {
  const id = crypto.randomUUID();
  const now = new Date().toISOString();
  await sql().execute({
    sql: `INSERT INTO residents (id, household_id, unit_path, name, gender, birth_date, relationship, tags, version, created_at, updated_at)
          VALUES (?, ?, ?, '李四', 'female', '1960-01-01', 'head', '[]', 1, ?, ?)`,
    args: [id, householdId, grid.path, now, now],
  });
  return id;
}

/** Names a helper of a household directly (the households area owns the helper endpoints). */
export async function nameHelper(householdId: string, userId: string, grid: TestUnit): Promise<void> {
  await sql().execute({
    sql: `INSERT INTO household_helpers (id, household_id, user_id, unit_path, line, kind, since, created_by)
          VALUES (?, ?, ?, ?, 'party_member', 'one_to_one', ?, ?)`,
    args: [crypto.randomUUID(), householdId, userId, grid.path, new Date().toISOString(), userId],
  });
}
