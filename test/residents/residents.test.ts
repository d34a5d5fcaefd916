import { describe, expect, it } from "vitest";
import { call, makeTree, makeUser, sql } from "../support/helpers";
import { household, resident, storedHousehold } from "../support/household-fixtures";

describe("residents", () => {
  it("adding, changing and moving members reclassifies the households in the same write", async () => {
    const tree = await makeTree();
    const worker = await makeUser("grid_worker", tree.grid);
    const a = await call("/v1/households", { token: worker.token, body: household(tree.grid) });
    const b = await call("/v1/households", { token: worker.token, body: household(tree.subgrid) });
    expect(a.body.effectiveClass).toBe("green");

    const added = await call(`/v1/households/${a.body.id}/residents`, {
      token: worker.token,
      body: resident({ tags: ["left_behind_woman"], relationship: "spouse", gender: "female" }),
    });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({
      householdId: a.body.id,
      tags: ["left_behind_woman"],
      masked: true,
      version: 1,
    });
    expect(await storedHousehold(a.body.id)).toMatchObject({
      class: "red",
      member_count: 1,
      red_tags: '["left_behind_woman"]',
      version: 2,
    });

    const stale = await call(`/v1/residents/${added.body.id}`, {
      method: "PATCH",
      token: worker.token,
      headers: { "if-match": '"9"' },
      body: { tags: [] },
    });
    expect(stale).toBeProblem(412);
    const cleared = await call(`/v1/residents/${added.body.id}`, {
      method: "PATCH",
      token: worker.token,
      headers: { "if-match": '"1"' },
      body: { tags: ["migrant_worker"], phone: null },
    });
    expect(cleared.body).toMatchObject({ tags: ["migrant_worker"], phone: null, version: 2 });
    expect(await storedHousehold(a.body.id)).toMatchObject({ class: "green", red_tags: "[]" });

    await call(`/v1/residents/${added.body.id}`, {
      method: "PATCH",
      token: worker.token,
      body: { tags: ["poverty_risk"] },
    });
    const moved = await call(`/v1/residents/${added.body.id}/move`, {
      token: worker.token,
      body: { householdId: b.body.id, relationship: "other" },
    });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ householdId: b.body.id, relationship: "other" });
    expect(await storedHousehold(a.body.id)).toMatchObject({ class: "green", member_count: 0 });
    expect(await storedHousehold(b.body.id)).toMatchObject({
      class: "red",
      member_count: 1,
      red_tags: '["poverty_risk"]',
    });
    const row = await sql().execute({
      sql: "SELECT unit_path FROM residents WHERE id = ?",
      args: [added.body.id],
    });
    expect(row.rows[0]!.unit_path).toBe(tree.subgrid.path);
  });

  it("rejects a duplicate ID number on add (409) and a bad one on change (400), writing nothing", async () => {
    const tree = await makeTree();
    const worker = await makeUser("grid_worker", tree.grid);
    const person = resident();
    const h = await call("/v1/households", {
      token: worker.token,
      body: household(tree.grid, { residents: [person] }),
    });
    const dup = await call(`/v1/households/${h.body.id}/residents`, {
      token: worker.token,
      body: { ...person, name: "冒名" },
    });
    expect(dup).toBeProblem(409);
    expect(await storedHousehold(h.body.id)).toMatchObject({ member_count: 1, version: 1 });
    const [id] = (
      await sql().execute({ sql: "SELECT id FROM residents WHERE household_id = ?", args: [h.body.id] })
    ).rows.map((r) => String(r.id));
    const wrongDate = await call(`/v1/residents/${id}`, {
      method: "PATCH",
      token: worker.token,
      body: { birthDate: "1901-01-01" },
    });
    expect(wrongDate).toBeProblem(400);
    expect(wrongDate.body.errors).toEqual([
      { path: "birthDate", message: "the ID number's birth date is not birthDate" },
    ]);
    const unknownTag = await call(`/v1/residents/${id}`, {
      method: "PATCH",
      token: worker.token,
      body: { tags: ["ghost"] },
    });
    expect(unknownTag).toBeProblem(400);
    expect(unknownTag.body.errors[0].path).toBe("tags.0");
    const stored = await sql().execute({
      sql: "SELECT birth_date, birth_year, version FROM residents WHERE id = ?",
      args: [id!],
    });
    // The masking rule: only the birth year is stored in plaintext (the full date is sealed).
    expect(stored.rows[0]).toMatchObject({
      birth_date: `${person.birthDate.slice(0, 4)}-**-**`,
      birth_year: Number(person.birthDate.slice(0, 4)),
      version: 1,
    });
  });

  it("a grid worker of another grid gets 404 for a resident", async () => {
    const tree = await makeTree();
    const worker = await makeUser("grid_worker", tree.grid);
    const other = await makeUser("grid_worker", tree.grid2);
    const h = await call("/v1/households", {
      token: worker.token,
      body: household(tree.grid, { residents: [resident()] }),
    });
    const [id] = (
      await sql().execute({ sql: "SELECT id FROM residents WHERE household_id = ?", args: [h.body.id] })
    ).rows.map((r) => String(r.id));
    expect(await call(`/v1/residents/${id}`, { token: other.token })).toBeProblem(404);
    const reveal = await call(`/v1/residents/${id}?reveal=true`, {
      token: other.token,
      headers: { "x-purpose": "curiosity is not a purpose" },
    });
    expect(reveal).toBeProblem(404);
  });
});

describe("POST /v1/households/import", () => {
  it("imports all rows with residents, classified with the village totals including the import", async () => {
    const tree = await makeTree();
    const staff = await makeUser("center_staff", tree.town);
    const { unitId: _a, ...rich } = household(tree.grid, { incomePerCapita: 20_000 });
    const { unitId: _b, ...poor } = household(tree.subgrid, { incomePerCapita: 5_000 });
    const members = [resident({ tags: ["disabled"] }), resident()];
    const { unitId: _c, ...red } = household(tree.otherGrid, { residents: members });
    const res = await call("/v1/households/import", {
      token: staff.token,
      body: {
        rows: [
          { ...rich, unitCode: tree.grid.code },
          { ...poor, unitCode: tree.subgrid.code },
          { ...red, unitCode: tree.otherGrid.code },
        ],
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      imported: 3,
      residents: 2,
      byClass: { green: 1, yellow: 1, red: 1 },
      villages: 2,
    });
    const summary = await call(`/v1/units/${tree.town.id}/households/summary`, { token: staff.token });
    expect(summary.body.byClass).toEqual({ green: 1, yellow: 1, red: 1 });
    const rows = await sql().execute({
      sql: "SELECT * FROM residents WHERE unit_path LIKE ?",
      args: [`${tree.otherGrid.path}%`],
    });
    expect(rows.rows).toHaveLength(2);
    expect(JSON.stringify(rows.rows)).not.toContain(members[0]!.idNumber);
  });

  it("is all or nothing: row errors carry the row index and nothing is written", async () => {
    const tree = await makeTree();
    const staff = await makeUser("center_staff", tree.village);
    const { unitId: _a, ...good } = household(tree.grid);
    const rows = [
      { ...good, unitCode: tree.grid.code },
      { ...good, unitCode: tree.otherGrid.code }, // outside the caller's village
      { ...good, unitCode: tree.village.code.padEnd(15, "9") }, // no such grid
    ];
    const res = await call("/v1/households/import", { token: staff.token, body: { rows } });
    expect(res).toBeProblem(400);
    expect(res.body.rowErrors.map((e: { index: number }) => e.index)).toEqual([1, 2]);
    expect(res.body.errors[0].path).toBe("rows.1.unitCode");
    const invalid = await call("/v1/households/import", {
      token: staff.token,
      body: {
        rows: [
          { ...good, unitCode: tree.grid.code },
          { ...good, unitCode: tree.grid.code, incomePerCapita: -1 },
        ],
      },
    });
    expect(invalid).toBeProblem(400);
    expect(invalid.body.errors[0].path).toBe("rows.1.incomePerCapita");
    const person = resident();
    const dup = await call("/v1/households/import", {
      token: staff.token,
      body: {
        rows: [
          { ...good, unitCode: tree.grid.code, residents: [person] },
          {
            ...good,
            unitCode: tree.grid2.code,
            residents: [resident(), { ...person, relationship: "child" }],
          },
        ],
      },
    });
    expect(dup).toBeProblem(409);
    expect(dup.body.errors).toEqual([
      { path: "rows.1.residents.1.idNumber", message: "the same ID number as rows.0.residents.0.idNumber" },
    ]);
    const count = await sql().execute({
      sql: "SELECT count(*) AS n FROM households WHERE unit_path LIKE ?",
      args: [`${tree.village.path}%`],
    });
    expect(Number(count.rows[0]!.n)).toBe(0);
  });
});
