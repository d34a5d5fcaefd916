import { expect } from "vitest";
import { chinaDate } from "../../src/domain/china-time";
import { call, makeTree, makeUser, sql, type TestUnit, type TestUser } from "./helpers";
import { household, resident } from "./household-fixtures";

/** The China date `days` from today. */
export function chinaDay(days = 0): string {
  return chinaDate(Date.now() + days * 86_400_000);
}

/** Calls an endpoint and asserts its status, showing the body when it differs. */
export async function ok(path: string, token: string, body: unknown, status = 201, method?: string) {
  const res = await call(path, { token, body, ...(method ? { method } : {}) });
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  return res.body;
}

/** Registers a household in `unit` with residents born on the given dates; returns the household id. */
export async function householdWith(staff: TestUser, unit: TestUnit, birthDates: string[], head = "王建国") {
  const h = await ok("/v1/households", staff.token, household(unit, { headName: head }));
  for (const [i, birthDate] of birthDates.entries()) {
    await ok(`/v1/households/${h.id}/residents`, staff.token, {
      ...resident({ birthDate, name: i === 0 ? head : `${head.slice(0, 1)}小${i}` }),
      relationship: i === 0 ? "head" : "child",
    });
  }
  return h.id as string;
}

/** Registers members of a village (representatives or Party members) serving from `termStart`. */
export async function registerMembers(
  staff: TestUser,
  village: TestUnit,
  kind: "representative" | "party_member",
  names: string[],
  term: { termStart: string; termEnd?: string } = { termStart: "2024-01-01" },
) {
  for (const name of names)
    await ok(`/v1/units/${village.id}/deliberation/members`, staff.token, { kind, name, ...term });
}

/** A village with its centre, a Party member, a household lead in a grid, and a county centre. */
export async function deliberationVillage() {
  const tree = await makeTree();
  const [staff, party, lead, county, otherStaff, leader] = await Promise.all([
    makeUser("center_staff", tree.village),
    makeUser("party_member", tree.village),
    makeUser("household_lead", tree.grid),
    makeUser("center_staff", tree.county),
    makeUser("center_staff", tree.village2),
    makeUser("leader", tree.city),
  ]);
  return { tree, staff, party, lead, county, otherStaff, leader };
}

/** The rows of a table for an item, to assert what was (not) written. */
export async function rowsOf(
  table: "deliberation_steps" | "deliberation_notices" | "deliberation_tasks",
  itemId: string,
) {
  return (await sql().execute({ sql: `SELECT * FROM ${table} WHERE item_id = ?`, args: [itemId] })).rows;
}

/** Moves a resolution notice's period into the past, as if its days had gone by. */
export async function elapseNotice(itemId: string) {
  await sql().execute({
    sql: "UPDATE deliberation_notices SET published_on = ?, ends_on = ? WHERE item_id = ? AND kind = 'resolution'",
    args: [chinaDay(-8), chinaDay(-1), itemId],
  });
}

/** Takes an item through the four steps at full attendance of 3 representatives and 1 Party member, today. */
export async function resolveItem(staff: TestUser, itemId: string, sessionId?: string) {
  const steps = [
    ["proposal", "party_committee", 3],
    ["discussion", "two_committees", 5],
    ["review", "party_members_meeting", 1],
    ["resolution", "representatives_meeting", 3],
  ] as const;
  for (const [step, meeting, present] of steps)
    await ok(`/v1/deliberation/items/${itemId}/steps`, staff.token, {
      step,
      meeting,
      sessionId: step === "resolution" ? sessionId : undefined,
      heldOn: chinaDay(),
      attendance: { present },
      votes: { for: present, against: 0, abstain: 0 },
      note: "司马青山记录",
    });
}
