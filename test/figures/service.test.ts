import { describe, expect, it } from "vitest";
import { call, makeTree, makeUser, sql } from "../support/helpers";
import { seedDirective, seedPairing, seedPoints, seedReceipt, seedSubsidy } from "../support/service-figures";
import { makeHousehold } from "../support/three-line-fixtures";

const PERIOD = "from=2026-03-01&to=2026-03-31";
// 2026-03-10 10:00 in China; 2026-04-05 is after the period.
const IN = "2026-03-10T02:00:00.000Z";
const AFTER = "2026-04-05T02:00:00.000Z";

/** A village with households, pairings, directives, points and subsidies, plus rows the figures must skip. */
async function seeded() {
  const tree = await makeTree();
  const staff = await makeUser("center_staff", tree.town);
  const green = await makeHousehold(tree.grid, "green");
  const yellow = await makeHousehold(tree.grid2, "yellow");
  const red = await makeHousehold(tree.subgrid, "red");
  await makeHousehold(tree.otherGrid, "red"); // another village
  await sql().execute({
    sql: "UPDATE households SET next_visit_due = ? WHERE id = ?",
    args: ["2020-01-01T00:00:00.000Z", yellow],
  });
  const member = await makeUser("party_member", tree.grid);
  const lead = await makeUser("household_lead", tree.grid2);
  await seedPairing(member.id, green, "party_member", tree.grid);
  await seedPairing(lead.id, yellow, "household_lead", tree.grid2);

  const d = await seedDirective(tree.village, staff.id, IN);
  await seedReceipt(d, tree.grid, IN, { ackAfter: 30, doneAfter: 120 });
  await seedReceipt(d, tree.grid2, IN, { ackAfter: 90, state: "overdue" });
  await seedReceipt(d, tree.subgrid, IN, { ackAfter: 60, doneAfter: 240, late: true });
  const later = await seedDirective(tree.village, staff.id, AFTER);
  await seedReceipt(later, tree.grid, AFTER, { ackAfter: 5, doneAfter: 5 });
  const elsewhere = await seedDirective(tree.village2, staff.id, IN);
  await seedReceipt(elsewhere, tree.otherGrid, IN, { ackAfter: 5, doneAfter: 5 });

  await seedPoints(member.id, 10, IN, staff.id);
  await seedPoints(member.id, 5, "2026-03-31T15:00:00.000Z", staff.id); // 23:00 on 31 March in China
  await seedPoints(member.id, 7, "2026-03-31T16:00:00.000Z", staff.id); // already 1 April in China
  const farMember = await makeUser("party_member", tree.otherGrid);
  await seedPoints(farMember.id, 100, IN, staff.id);

  await seedSubsidy(lead.id, tree.grid2, 5000, IN, staff.id);
  await seedSubsidy(lead.id, tree.grid2, 2500, IN, staff.id);
  await seedSubsidy(lead.id, tree.grid2, 9999, AFTER, staff.id);
  return { tree, staff, red };
}

describe("GET /v1/units/{id}/figures/service", () => {
  it("counts a subtree's households, coverage, directives, points and subsidies of a period", async () => {
    const { tree, staff } = await seeded();
    const res = await call(`/v1/units/${tree.village.id}/figures/service?${PERIOD}`, { token: staff.token });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ unitId: tree.village.id, from: "2026-03-01", to: "2026-03-31" });
    expect(res.body.households).toEqual({
      total: 3,
      byClass: { green: 1, yellow: 1, red: 1 },
      overdueVisits: { total: 1, green: 0, yellow: 1, red: 0 },
    });
    expect(res.body.coverage).toMatchObject({
      households: 3,
      lines: {
        party_member: { covered: 1 },
        household_lead: { covered: 1 },
        deputy: { covered: 0, share: 0 },
      },
      anyLine: { covered: 2 },
      redWithoutHelper: 1,
      overloadedContacts: 0,
    });
    expect(res.body.directives).toEqual({
      issued: 1,
      receipts: 3,
      acknowledged: 3,
      completed: 2,
      completedLate: 1,
      overdue: 1,
      completionRate: 0.6667,
      acknowledgementRate: 1,
      minutesToAcknowledge: { p50: 60 },
      minutesToComplete: { p50: 120 },
    });
    expect(res.body.partyPoints).toEqual({ points: 15, entries: 2, members: 1 });
    expect(res.body.leadSubsidies).toEqual({ amountFen: 7500, items: 2, leads: 1 });
  });

  it("carries no ids of households, people or contacts", async () => {
    const { tree, staff, red } = await seeded();
    const res = await call(`/v1/units/${tree.village.id}/figures/service?${PERIOD}`, { token: staff.token });
    expect(res.status).toBe(200);
    const text = JSON.stringify(res.body);
    expect(text).not.toContain(red);
    expect(text).not.toContain(staff.id);
    expect(text).not.toContain("张三");
  });

  it("answers zeros and nulls for a subtree with nothing in the period", async () => {
    const tree = await makeTree();
    const staff = await makeUser("center_staff", tree.town);
    const res = await call(`/v1/units/${tree.village2.id}/figures/service?${PERIOD}`, { token: staff.token });
    expect(res.status).toBe(200);
    expect(res.body.directives).toMatchObject({
      issued: 0,
      receipts: 0,
      completionRate: null,
      minutesToAcknowledge: { p50: null },
    });
    expect(res.body.partyPoints).toEqual({ points: 0, entries: 0, members: 0 });
  });

  it("answers 404 outside the caller's subtree, 403 to a grid worker, 400 for a reversed period", async () => {
    const tree = await makeTree();
    const villageStaff = await makeUser("center_staff", tree.village);
    expect(
      await call(`/v1/units/${tree.village2.id}/figures/service?${PERIOD}`, { token: villageStaff.token }),
    ).toBeProblem(404);
    expect(
      await call(`/v1/units/${crypto.randomUUID()}/figures/service?${PERIOD}`, { token: villageStaff.token }),
    ).toBeProblem(404);
    const worker = await makeUser("grid_worker", tree.grid);
    expect(
      await call(`/v1/units/${tree.grid.id}/figures/service?${PERIOD}`, { token: worker.token }),
    ).toBeProblem(403);
    expect(
      await call(`/v1/units/${tree.village.id}/figures/service?from=2026-03-31&to=2026-03-01`, {
        token: villageStaff.token,
      }),
    ).toBeProblem(400);
    expect(
      await call(`/v1/units/${tree.village.id}/figures/service?from=2010-01-01&to=2026-03-01`, {
        token: villageStaff.token,
      }),
    ).toBeProblem(400);
  });
});
