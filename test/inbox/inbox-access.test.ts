import { describe, expect, it } from "vitest";
import { type InboxAccess, inboxAccess } from "../../src/domain/inbox";
import type { Role } from "../../src/domain/roles";
import { api, read } from "../support/client";
import { makeTree, makeUser, sql, type TestTree, type TestUnit } from "../support/helpers";
import { deliver, escalationMessage } from "../support/queues";

describe("inboxAccess (who may read or act on a unit's inbox)", () => {
  const city = { id: "c", path: "/c/" };
  const county = { id: "k", path: "/c/k/" };
  const town = { id: "t", path: "/c/k/t/" };
  const otherTown = { id: "t2", path: "/c/k/t2/" };
  const village = { id: "v", path: "/c/k/t/v/" };
  const grid = { id: "g", path: "/c/k/t/v/g/" };
  const subgrid = { id: "s", path: "/c/k/t/v/g/s/" };
  const at = (role: Role, unit: { id: string; path: string }) => ({
    role,
    unitId: unit.id,
    unitPath: unit.path,
  });
  const cases: Array<[string, ReturnType<typeof at>, { id: string; path: string }, InboxAccess]> = [
    ["centre staff act on their own unit's inbox", at("center_staff", town), town, "act"],
    ["centre staff above only read", at("center_staff", county), town, "read"],
    ["centre staff far above only read", at("center_staff", city), grid, "read"],
    ["centre staff reach nothing beside them", at("center_staff", town), otherTown, "none"],
    ["centre staff reach nothing above them", at("center_staff", village), town, "none"],
    ["a department acts on its own unit's inbox", at("department", county), county, "act"],
    ["a department reaches no centre below it", at("department", county), town, "none"],
    ["a department reaches no grid below it", at("department", town), grid, "none"],
    ["a grid worker acts on its own grid's inbox", at("grid_worker", grid), grid, "act"],
    ["a grid worker reaches no grid below it", at("grid_worker", grid), subgrid, "none"],
    ["a leader reads their own unit's inbox", at("leader", town), town, "read"],
    ["a leader reads below", at("leader", county), village, "read"],
    ["an admin acts in scope", at("admin", city), village, "act"],
    ["an admin reaches nothing out of scope", at("admin", town), otherTown, "none"],
    ["a party member reaches nothing", at("party_member", village), village, "none"],
    ["a household lead reaches nothing", at("household_lead", village), village, "none"],
  ];
  for (const [what, caller, unit, expected] of cases) {
    it(what, () => {
      expect(inboxAccess(caller, unit)).toBe(expected);
    });
  }
});

/** Puts two escalation notices into the town centre's inbox and returns their ids. */
async function fillTownInbox(tree: TestTree): Promise<string[]> {
  const messages = [0, 1].map((i) =>
    escalationMessage(tree, crypto.randomUUID(), {
      fromUnitId: tree.village.id,
      targetUnitId: tree.town.id,
      targetLevel: "town",
      at: new Date(Date.parse("2026-06-01T00:00:00.000Z") + i * 60_000).toISOString(),
      case: { title: "村道塌方阻断通行", type: "safety_hazard", severity: "critical", state: "accepted" },
    }),
  );
  const { result } = await deliver("escalations", messages);
  expect(result.explicitAcks).toHaveLength(messages.length);
  return (await storedInbox(tree.town)).map((r) => r.id);
}

async function storedInbox(unit: TestUnit) {
  const rows = await sql().execute({
    sql: "SELECT id, read_at, handled_at FROM inbox_items WHERE unit_id = ? ORDER BY id",
    args: [unit.id],
  });
  return rows.rows.map((r) => ({
    id: String(r.id),
    readAt: r.read_at as string | null,
    handledAt: r.handled_at as string | null,
  }));
}

async function auditedMarks(unit: TestUnit) {
  const rows = await sql().execute({
    sql: "SELECT COUNT(*) AS n FROM audit_log WHERE object_id = ? AND action LIKE 'inbox.mark-%'",
    args: [unit.id],
  });
  return Number(rows.rows[0]!.n);
}

const listOf = (token: string, unit: TestUnit) =>
  api(token).v1.units[":id"].inbox.$get({ param: { id: unit.id }, query: {} });
const markOf = (token: string, unit: TestUnit, ids: string[], as: "read" | "handled") =>
  api(token).v1.units[":id"].inbox.mark.$post({ param: { id: unit.id }, json: { ids, as } });

describe("an inbox is acted on by its own unit's staff", () => {
  it("refuses a county department marking the town centre's items handled, and changes nothing", async () => {
    const tree = await makeTree();
    const ids = await fillTownInbox(tree);
    const department = await makeUser("department", tree.county);
    const before = await storedInbox(tree.town);

    const res = await read(await markOf(department.token, tree.town, ids, "handled"));
    expect(res).toBeProblem(403, "forbidden");
    expect(await storedInbox(tree.town)).toEqual(before);
    expect(before.every((r) => r.handledAt === null && r.readAt === null)).toBe(true);
    expect(await auditedMarks(tree.town)).toBe(0);
  });

  it("refuses a county department listing another centre's inbox, and lets it list its own", async () => {
    const tree = await makeTree();
    await fillTownInbox(tree);
    const department = await makeUser("department", tree.county);
    expect(await read(await listOf(department.token, tree.town))).toBeProblem(403, "forbidden");
    expect(await read(await listOf(department.token, tree.village))).toBeProblem(403, "forbidden");
    const own = await read(await listOf(department.token, tree.county));
    expect(own.status).toBe(200);
    if (own.status !== 200) return;
    expect(own.body.items).toEqual([]);
  });

  it("lets the town's own centre staff mark its items, audited", async () => {
    const tree = await makeTree();
    const ids = await fillTownInbox(tree);
    const staff = await makeUser("center_staff", tree.town);
    const res = await read(await markOf(staff.token, tree.town, [ids[0]!], "handled"));
    expect(res.status).toBe(200);
    if (res.status !== 200) return;
    expect(res.body.updated).toEqual([ids[0]]);
    const stored = await storedInbox(tree.town);
    expect(stored.find((r) => r.id === ids[0])!.handledAt).not.toBeNull();
    expect(stored.find((r) => r.id === ids[1])!.handledAt).toBeNull();
    expect(await auditedMarks(tree.town)).toBe(1);
  });

  it("lets a department mark its own unit's inbox", async () => {
    const tree = await makeTree();
    const ids = await fillTownInbox(tree);
    const department = await makeUser("department", tree.town);
    const res = await read(await markOf(department.token, tree.town, ids, "read"));
    expect(res.status).toBe(200);
    if (res.status !== 200) return;
    expect(res.body.updated).toEqual([...ids].sort());
    expect((await storedInbox(tree.town)).every((r) => r.readAt !== null && r.handledAt === null)).toBe(true);
  });

  it("lets the county centre and a county leader read the town's inbox, but not mark it", async () => {
    const tree = await makeTree();
    const ids = await fillTownInbox(tree);
    const countyStaff = await makeUser("center_staff", tree.county);
    const leader = await makeUser("leader", tree.county);
    for (const reader of [countyStaff, leader]) {
      const list = await read(await listOf(reader.token, tree.town));
      expect(list.status).toBe(200);
      if (list.status !== 200) return;
      expect(list.body.items.map((i) => i.id).sort()).toEqual([...ids].sort());
      expect(list.body.items[0]!.payload).toMatchObject({ case: { title: "村道塌方阻断通行" } });
    }
    const before = await storedInbox(tree.town);
    for (const as of ["read", "handled"] as const) {
      expect(await read(await markOf(countyStaff.token, tree.town, ids, as))).toBeProblem(403, "forbidden");
    }
    expect(await read(await markOf(leader.token, tree.town, ids, "handled"))).toBeProblem(403);
    expect(await storedInbox(tree.town)).toEqual(before);
    expect(await auditedMarks(tree.town)).toBe(0);
  });

  it("keeps a grid worker to their own grid's inbox", async () => {
    const tree = await makeTree();
    const worker = await makeUser("grid_worker", tree.grid);
    expect((await read(await listOf(worker.token, tree.grid))).status).toBe(200);
    expect(await read(await listOf(worker.token, tree.subgrid))).toBeProblem(403);
    expect(await read(await listOf(worker.token, tree.village))).toBeProblem(404);
  });
});
