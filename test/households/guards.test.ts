import { describe, expect, it } from "vitest";
import { insertHouseholdsStatement } from "../../src/db/repos/households";
import { api, read } from "../support/client";
import { call, makeTree, makeUser, sql, type TestUnit } from "../support/helpers";
import { freshId, lastYears, storedHousehold } from "../support/household-fixtures";

/** A typed household body for the client, in `unit`. */
function newHousehold(unit: TestUnit, idNumber?: { idNumber: string; birthDate: string }) {
  return {
    unitId: unit.id,
    address: `安康市汉滨区江北街道${crypto.randomUUID().slice(0, 8)}号`,
    headName: "张秀英",
    incomePerCapita: 12_000,
    incomeStable: true,
    safeFamilyYears: lastYears(3),
    residents: idNumber
      ? [
          {
            name: "张秀英",
            gender: "male" as const,
            birthDate: idNumber.birthDate,
            idNumber: idNumber.idNumber,
            relationship: "head" as const,
            tags: [],
          },
        ]
      : [],
  };
}

async function registered(token: string, unit: TestUnit) {
  const res = await read(await api(token).v1.households.$post({ json: newHousehold(unit) }));
  expect(res.status).toBe(201);
  return res.body as { id: string; version: number };
}

describe("If-Match on PATCH /v1/households/{id}", () => {
  it("answers 428 when missing or empty, 400 when malformed, 412 when stale, and writes nothing", async () => {
    const tree = await makeTree();
    const worker = await makeUser("grid_worker", tree.grid);
    const { id } = await registered(worker.token, tree.grid);
    const client = api(worker.token).v1.households[":id"];
    const attempt = async (header: Record<string, string>) =>
      read(await client.$patch({ param: { id }, header, json: { notes: "搬迁后重新登记" } }));

    expect(await attempt({})).toBeProblem(428, "if-match-required");
    expect(await attempt({ "if-match": "" })).toBeProblem(428, "if-match-required");
    expect(await attempt({ "if-match": "  " })).toBeProblem(428, "if-match-required");
    expect(await attempt({ "if-match": "v1" })).toBeProblem(400);
    const stale = await attempt({ "if-match": '"5"' });
    expect(stale).toBeProblem(412, "stale-version");
    expect(stale.body).toMatchObject({ currentVersion: 1 });
    expect(stale.headers.get("etag")).toBe('"1"');
    expect(await storedHousehold(id)).toMatchObject({ version: 1, notes: null });
  });

  it("of concurrent writers with the same version one wins and the others answer 412, never 409", async () => {
    const tree = await makeTree();
    const worker = await makeUser("grid_worker", tree.grid);
    const { id } = await registered(worker.token, tree.grid);
    const notes = ["第一次走访记录", "第二次走访记录", "第三次走访记录", "第四次走访记录"];
    const results = await Promise.all(
      notes.map(async (note) =>
        read(
          await api(worker.token).v1.households[":id"].$patch({
            param: { id },
            header: { "if-match": '"1"' },
            json: { notes: note },
          }),
        ),
      ),
    );
    const won = results.filter((r) => r.status === 200);
    expect(won).toHaveLength(1);
    for (const lost of results.filter((r) => r.status !== 200))
      expect(lost).toBeProblem(412, "stale-version");
    const stored = await storedHousehold(id);
    expect(stored).toMatchObject({ version: 2, notes: (won[0]!.body as { notes: string }).notes });
  });

  it("is declared as a required header in the API document", async () => {
    const res = await call("/openapi.json");
    expect(res.status).toBe(200);
    const doc = res.body as {
      paths: Record<
        string,
        Record<string, { parameters?: Array<{ name: string; in: string; required?: boolean }> }>
      >;
    };
    const households = doc.paths["/v1/households/{id}"]!.patch!.parameters ?? [];
    expect(households).toContainEqual(
      expect.objectContaining({ name: "if-match", in: "header", required: true }),
    );
    const residents = doc.paths["/v1/residents/{id}"]!.patch!.parameters ?? [];
    expect(residents).toContainEqual(
      expect.objectContaining({ name: "if-match", in: "header", required: false }),
    );
  });
});

describe("If-Match on PATCH /v1/residents/{id}", () => {
  it("is optional: none or empty writes, malformed 400, stale 412, concurrent writers 412", async () => {
    const tree = await makeTree();
    const worker = await makeUser("grid_worker", tree.grid);
    const created = await read(
      await api(worker.token).v1.households.$post({ json: newHousehold(tree.grid, freshId("male")) }),
    );
    const householdId = (created.body as { id: string }).id;
    const stored = await sql().execute({
      sql: "SELECT id FROM residents WHERE household_id = ?",
      args: [householdId],
    });
    const id = String(stored.rows[0]!.id);
    const client = api(worker.token).v1.residents[":id"];
    const change = async (header: Record<string, string>, name: string) =>
      read(await client.$patch({ param: { id }, header, json: { name } }));

    expect(await change({}, "张秀兰")).toMatchObject({ status: 200, body: { name: "张秀兰", version: 2 } });
    expect(await change({ "if-match": "" }, "张秀梅")).toMatchObject({ status: 200, body: { version: 3 } });
    expect(await change({ "if-match": "W/x" }, "张秀芳")).toBeProblem(400);
    const stale = await change({ "if-match": '"1"' }, "张秀芳");
    expect(stale).toBeProblem(412, "stale-version");
    expect(stale.body).toMatchObject({ currentVersion: 3 });

    const racers = await Promise.all(
      ["李桂花", "李桂英", "李桂兰"].map((name) => change({ "if-match": '"3"' }, name)),
    );
    const won = racers.filter((r) => r.status === 200);
    expect(won).toHaveLength(1);
    for (const lost of racers.filter((r) => r.status !== 200)) expect(lost).toBeProblem(412, "stale-version");
    const row = await sql().execute({ sql: "SELECT name, version FROM residents WHERE id = ?", args: [id] });
    expect(row.rows[0]).toMatchObject({ name: (won[0]!.body as { name: string }).name, version: 4 });
  });
});

describe("checks in the write itself", () => {
  it("inserts a household only while its grid exists at the path read", async () => {
    const tree = await makeTree();
    const now = new Date().toISOString();
    const row = (unit: { id: string; path: string }) => ({
      id: crypto.randomUUID(),
      unit,
      address: "安康市汉滨区老城街道1号",
      headName: "陈志强",
      incomePerCapita: 9_000,
      incomeStable: true,
      safeFamilyYears: [],
      redTags: "[]",
      memberCount: 0,
      class: "yellow" as const,
      reasons: ["not_safe_family_last_3_years"],
      nextVisitDue: null,
    });
    const gone = row({ id: crypto.randomUUID(), path: `${tree.grid.path}${crypto.randomUUID()}/` });
    const moved = row({ id: tree.grid2.id, path: `${tree.village2.path}${tree.grid2.id}/` });
    const village = row({ id: tree.village.id, path: tree.village.path });
    const good = row({ id: tree.grid.id, path: tree.grid.path });
    for (const h of [gone, moved, village]) {
      const rs = await sql().execute(insertHouseholdsStatement([h], now));
      expect(rs.rowsAffected).toBe(0);
      expect(await storedHousehold(h.id)).toBeUndefined();
    }
    // One missing grid keeps the whole chunk out.
    expect((await sql().execute(insertHouseholdsStatement([good, gone], now))).rowsAffected).toBe(0);
    expect((await sql().execute(insertHouseholdsStatement([good], now))).rowsAffected).toBe(1);
    expect(await storedHousehold(good.id)).toMatchObject({
      unit_id: tree.grid.id,
      unit_path: tree.grid.path,
    });
  });

  it("registering a household while its grid is deleted leaves no orphan: 404 or the grid stays", async () => {
    for (let trial = 0; trial < 4; trial++) {
      const tree = await makeTree();
      const staff = await makeUser("center_staff", tree.village);
      // A delete that, like the units route, refuses while a household belongs to the grid.
      const remove = sql().execute({
        sql: "DELETE FROM units WHERE id = ? AND NOT EXISTS (SELECT 1 FROM households WHERE unit_id = ?)",
        args: [tree.subgrid.id, tree.subgrid.id],
      });
      const create = api(staff.token).v1.households.$post({ json: newHousehold(tree.subgrid) });
      const [deleted, res] = await Promise.all([remove, create.then(read)]);
      const unit = await sql().execute({ sql: "SELECT id FROM units WHERE id = ?", args: [tree.subgrid.id] });
      const kept = await sql().execute({
        sql: "SELECT count(*) AS n FROM households WHERE unit_id = ?",
        args: [tree.subgrid.id],
      });
      if (res.status === 201) {
        expect(deleted.rowsAffected).toBe(0);
        expect(unit.rows).toHaveLength(1);
        expect(Number(kept.rows[0]!.n)).toBe(1);
      } else {
        expect(res).toBeProblem(404, "not-found");
        expect(unit.rows).toHaveLength(0);
        expect(Number(kept.rows[0]!.n)).toBe(0);
      }
    }
  });

  it("two registrations of one ID number at once: one 201, one 409, one resident and no stray household", async () => {
    const tree = await makeTree();
    const worker = await makeUser("grid_worker", tree.grid);
    const person = freshId("male");
    const bodies = [newHousehold(tree.grid, person), newHousehold(tree.grid, person)];
    const results = await Promise.all(
      bodies.map(async (json) => read(await api(worker.token).v1.households.$post({ json }))),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    expect(results.find((r) => r.status === 409)).toBeProblem(409, "duplicate-id-number");
    const households = await sql().execute({
      sql: "SELECT address FROM households WHERE address IN (?, ?)",
      args: [bodies[0]!.address, bodies[1]!.address],
    });
    expect(households.rows).toHaveLength(1);
    const winner = results.find((r) => r.status === 201)!.body as { id: string };
    const members = await sql().execute({
      sql: "SELECT household_id FROM residents WHERE household_id IN (SELECT id FROM households WHERE address IN (?, ?))",
      args: [bodies[0]!.address, bodies[1]!.address],
    });
    expect(members.rows.map((r) => r.household_id)).toEqual([winner.id]);
  });
});
