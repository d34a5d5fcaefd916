import { beforeAll, describe, expect, it } from "vitest";
import { deskList } from "../support/case-fixtures";
import { api, read } from "../support/client";
import { makeTree, makeUser, sql, type TestTree, type TestUser } from "../support/helpers";
import { lastYears } from "../support/household-fixtures";

let tree: TestTree;
let admin: TestUser;
let villageStaff: TestUser;
let nextGrid = 100;

beforeAll(async () => {
  tree = await makeTree();
  [admin, villageStaff] = await Promise.all([
    makeUser("admin", tree.town),
    makeUser("center_staff", tree.village),
  ]);
});

/** A fresh, empty grid under the tree's village, created through the API. */
async function freshGrid(): Promise<string> {
  const res = await read(
    await api(admin.token).v1.units.$post({
      json: {
        code: `${tree.village.code}${nextGrid++}`,
        name: `第${nextGrid}村民小组`,
        level: "grid",
        parentId: tree.village.id,
      },
    }),
  );
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return (res.body as { id: string }).id;
}

function deleteUnit(id: string) {
  return api(admin.token).v1.units[":id"].$delete({ param: { id } });
}

function createHousehold(gridId: string) {
  return api(admin.token).v1.households.$post({
    json: {
      unitId: gridId,
      address: `安康市汉滨区新村${Math.floor(Math.random() * 1e6)}号`,
      headName: "王建国",
      incomePerCapita: 12_000,
      incomeStable: true,
      safeFamilyYears: lastYears(3),
    },
  });
}

function createUser(gridId: string) {
  return api(admin.token).v1.users.$post({
    json: {
      username: `gw-${crypto.randomUUID().slice(0, 12)}`,
      displayName: "李网格",
      role: "grid_worker",
      unitId: gridId,
      password: "网格员的长密码-2024",
    },
  });
}

function reportCase(gridId: string) {
  return api(villageStaff.token).v1.cases.$post({
    json: {
      id: crypto.randomUUID(),
      gridId,
      type: "safety_hazard",
      severity: "normal",
      title: "村口路灯不亮",
      description: "三组村口的路灯连续三晚不亮，夜里行人看不清路。",
    },
    header: {},
  });
}

async function count(query: string, id: string): Promise<number> {
  const rs = await sql().execute({ sql: query, args: [id] });
  return Number(rs.rows[0]!.n);
}

/** What the database and the unit's desk hold for a unit after a race. */
async function storedFor(gridId: string) {
  const [unit, households, users, deletes] = await Promise.all([
    count("SELECT count(*) AS n FROM units WHERE id = ?", gridId),
    count("SELECT count(*) AS n FROM households WHERE unit_id = ?", gridId),
    count("SELECT count(*) AS n FROM users WHERE unit_id = ?", gridId),
    count("SELECT count(*) AS n FROM audit_log WHERE action = 'unit.delete' AND object_id = ?", gridId),
  ]);
  const deskCases = await deskList(gridId, { limit: 50 });
  return { unit, households, users, deletes, deskCases: deskCases.length };
}

describe("DELETE /v1/units/{id} racing creates in the unit", () => {
  it("leaves no household, user or case in a deleted grid, and at most one audit row", async () => {
    for (let trial = 0; trial < 5; trial++) {
      const gridId = await freshGrid();
      const [deleted, household, user, reported] = await Promise.all([
        deleteUnit(gridId).then(read),
        createHousehold(gridId).then(read),
        createUser(gridId).then(read),
        reportCase(gridId).then(read),
      ]);
      const creates = [household, user, reported];
      const stored = await storedFor(gridId);
      const trace = JSON.stringify({ trial, deleted, creates: creates.map((c) => c.status), stored });
      if (deleted.status === 204) {
        // Gone: every create was refused as for a missing unit, and nothing names the unit.
        for (const created of creates) expect(created, trace).toBeProblem(404);
        expect(stored, trace).toEqual({ unit: 0, households: 0, users: 0, deletes: 1, deskCases: 0 });
      } else {
        // Kept: the delete lost to a create that succeeded, wrote no audit row, and the unit is whole.
        expect(deleted, trace).toBeProblem(409);
        expect(
          creates.some((c) => c.status === 201),
          trace,
        ).toBe(true);
        expect(stored.unit, trace).toBe(1);
        expect(stored.deletes, trace).toBe(0);
        expect(stored.households, trace).toBe(household.status === 201 ? 1 : 0);
        expect(stored.users, trace).toBe(user.status === 201 ? 1 : 0);
        expect(stored.deskCases, trace).toBe(reported.status === 201 ? 1 : 0);
      }
    }
  });

  it("refuses to delete a grid whose desk holds a case (409 unit-has-cases), and keeps the case reachable", async () => {
    const gridId = await freshGrid();
    const reported = await read(await reportCase(gridId));
    expect(reported.status, JSON.stringify(reported.body)).toBe(201);
    const refused = await read(await deleteUnit(gridId));
    expect(refused).toBeProblem(409, "unit-has-cases");
    expect(await storedFor(gridId)).toMatchObject({ unit: 1, deletes: 0, deskCases: 1 });
    const listed = await read(
      await api(villageStaff.token).v1.grids[":id"].cases.$get({ param: { id: gridId }, query: {} }),
    );
    expect(listed.status).toBe(200);
    expect((listed.body as { items: unknown[] }).items).toHaveLength(1);
  });

  it("reopens the desk when the delete is refused for dependants, so the grid keeps taking reports", async () => {
    const gridId = await freshGrid();
    expect((await read(await createUser(gridId))).status).toBe(201);
    const refused = await read(await deleteUnit(gridId));
    expect(refused).toBeProblem(409, "unit-in-use");
    expect((refused.body as { detail: string }).detail).toMatch(/users/);
    expect((await read(await reportCase(gridId))).status).toBe(201);
    expect(await storedFor(gridId)).toMatchObject({ unit: 1, users: 1, deletes: 0, deskCases: 1 });
  });

  it("answers two concurrent deletes with one 204 and one 404, writing one audit row", async () => {
    for (let trial = 0; trial < 3; trial++) {
      const gridId = await freshGrid();
      const results = await Promise.all([deleteUnit(gridId).then(read), deleteUnit(gridId).then(read)]);
      const statuses = results.map((r) => r.status).sort();
      expect(statuses, JSON.stringify(results)).toEqual([204, 404]);
      expect(results.find((r) => r.status === 404)).toBeProblem(404);
      expect(await storedFor(gridId)).toEqual({
        unit: 0,
        households: 0,
        users: 0,
        deletes: 1,
        deskCases: 0,
      });
    }
  });
});
