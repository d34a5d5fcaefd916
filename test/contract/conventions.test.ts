import { describe, expect, it } from "vitest";
import { call, makeTree, makeUser, sql } from "../support/helpers";
import { household, resident, storedHousehold } from "../support/household-fixtures";

describe("one spelling of coordinates: lat/lng", () => {
  it("registers a household with lat/lng and answers with its residents, ids included", async () => {
    const tree = await makeTree();
    const worker = await makeUser("grid_worker", tree.grid);
    const res = await call("/v1/households", {
      token: worker.token,
      body: household(tree.grid, {
        location: { lat: 32.6841, lng: 109.0293 },
        residents: [resident({ name: "王秀英" }), resident({ name: "王建国", relationship: "spouse" })],
      }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("deprecation")).toBeNull();
    expect(res.body.location).toEqual({ lat: 32.6841, lng: 109.0293 });
    expect(res.body.residents.map((r: { name: string }) => r.name).sort()).toEqual(["王建国", "王秀英"]);
    const stored = await sql().execute({
      sql: "SELECT id, name FROM residents WHERE household_id = ? ORDER BY name",
      args: [res.body.id],
    });
    const byName = Object.fromEntries(
      res.body.residents.map((r: { name: string; id: string }) => [r.name, r.id]),
    );
    for (const row of stored.rows) expect(byName[String(row.name)]).toBe(row.id);
    expect(stored.rows).toHaveLength(2);
    const row = await storedHousehold(res.body.id);
    expect([row!.latitude, row!.longitude]).toEqual([32.6841, 109.0293]);
    const read = await call(`/v1/households/${res.body.id}`, { token: worker.token });
    expect(read.body.location).toEqual({ lat: 32.6841, lng: 109.0293 });
  });

  it("still accepts latitude/longitude on input for this version, answering with a Deprecation header", async () => {
    const tree = await makeTree();
    const worker = await makeUser("grid_worker", tree.grid);
    const res = await call("/v1/households", {
      token: worker.token,
      body: household(tree.grid, { location: { latitude: 32.7, longitude: 109.1 } }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("deprecation")).toMatch(/^@\d+$/);
    expect(res.headers.get("link")).toBe('</docs>; rel="deprecation"; type="text/html"');
    expect(res.body.location).toEqual({ lat: 32.7, lng: 109.1 });
    const row = await storedHousehold(res.body.id);
    expect([row!.latitude, row!.longitude]).toEqual([32.7, 109.1]);

    const patched = await call(`/v1/households/${res.body.id}`, {
      method: "PATCH",
      token: worker.token,
      headers: { "if-match": `"${res.body.version}"` },
      body: { location: { lat: 32.71, lng: 109.11 } },
    });
    expect(patched.status).toBe(200);
    expect(patched.headers.get("deprecation")).toBeNull();
    expect(patched.body.location).toEqual({ lat: 32.71, lng: 109.11 });

    const visit = await call(`/v1/households/${res.body.id}/visits`, {
      token: worker.token,
      body: { kind: "visit", location: { latitude: 32.72, longitude: 109.12 } },
    });
    expect(visit.status).toBe(201);
    expect(visit.headers.get("deprecation")).toMatch(/^@\d+$/);
    expect(visit.body.location).toEqual({ lat: 32.72, lng: 109.12 });
  });

  it("refuses a location mixing both spellings", async () => {
    const tree = await makeTree();
    const worker = await makeUser("grid_worker", tree.grid);
    const res = await call("/v1/households", {
      token: worker.token,
      body: household(tree.grid, { location: { lat: 32.7, longitude: 109.1 } }),
    });
    expect(res).toBeProblem(400, "validation");
    expect(await storedCount(tree.grid.id)).toBe(0);
  });
});

describe("clear messages for query parameters", () => {
  it('says "year is required" when ?year= is missing or empty, and names a value that is not a number', async () => {
    const tree = await makeTree();
    const staff = await makeUser("center_staff", tree.village);
    for (const query of ["", "?year=", "?year=%20"]) {
      const res = await call(`/v1/units/${tree.village.id}/party-points${query}`, { token: staff.token });
      expect(res).toBeProblem(400, "validation");
      expect(res.body.errors).toEqual([{ path: "query.year", message: "year is required" }]);
    }
    const res = await call(`/v1/units/${tree.village.id}/party-points?year=abc`, { token: staff.token });
    expect(res).toBeProblem(400, "validation");
    expect(res.body.errors).toEqual([{ path: "query.year", message: 'year must be a number, not "abc"' }]);
    const ok = await call(`/v1/units/${tree.village.id}/party-points?year=2026`, { token: staff.token });
    expect(ok.status).toBe(200);
  });
});

async function storedCount(unitId: string): Promise<number> {
  const rows = await sql().execute({
    sql: "SELECT count(*) AS n FROM households WHERE unit_id = ?",
    args: [unitId],
  });
  return Number(rows.rows[0]!.n);
}
