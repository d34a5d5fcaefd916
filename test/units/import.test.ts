import { describe, expect, it } from "vitest";
import { call, makeTree, makeUser, sql, type TestTree } from "../support/helpers";

interface Row {
  code: string;
  name: string;
  level: "village" | "grid";
  parentCode: string;
}

/** Villages under the tree's town, `perVillage` level-2 grids each, `perGrid` level-3 grids under each of those. */
function generate(t: TestTree, villages: number, perVillage: number, perGrid: number): Row[] {
  const rows: Row[] = [];
  const pad = (n: number) => String(n).padStart(3, "0");
  for (let v = 0; v < villages; v++) {
    const village = `${t.town.code}${pad(101 + v)}`;
    rows.push({
      code: village,
      name: `Village ${village} 村民委员会`,
      level: "village",
      parentCode: t.town.code,
    });
    for (let g = 1; g <= perVillage; g++) {
      const grid = `${village}${pad(g)}`;
      rows.push({ code: grid, name: `Grid ${grid} 村民小组`, level: "grid", parentCode: village });
      for (let s = 1; s <= perGrid; s++) {
        const sub = `${grid}${pad(s)}`;
        rows.push({ code: sub, name: `Grid ${sub} 三级网格`, level: "grid", parentCode: grid });
      }
    }
  }
  return rows;
}

async function count(where: string, args: (string | number)[]) {
  const rs = await sql().execute({ sql: `SELECT count(*) AS n FROM units WHERE ${where}`, args });
  return Number(rs.rows[0]!.n);
}

async function auditCount(requestId: string) {
  const rs = await sql().execute({
    sql: "SELECT count(*) AS n FROM audit_log WHERE request_id = ?",
    args: [requestId],
  });
  return Number(rs.rows[0]!.n);
}

function importRows(token: string, rows: unknown[], requestId: string) {
  return call("/v1/units/import", { token, body: { rows }, headers: { "x-request-id": requestId } });
}

describe("POST /v1/units/import", () => {
  it("imports 10,000 units (villages, level-2 and level-3 grids) in one call of more than 1 MiB", async () => {
    const t = await makeTree();
    const admin = await makeUser("admin", t.town);
    const rows = generate(t, 400, 4, 5);
    expect(rows).toHaveLength(10_000);
    expect(JSON.stringify({ rows }).length).toBeGreaterThan(1024 * 1024);
    const requestId = `import-10k-${crypto.randomUUID()}`;

    const res = await importRows(admin.token, rows, requestId);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ imported: 10_000, byLevel: { village: 400, grid: 9_600 } });

    const under = `${t.town.path}%`;
    expect(await count("path LIKE ? AND level = 'village'", [under])).toBe(2 + 400);
    expect(await count("path LIKE ? AND grid_level = 2", [under])).toBe(3 + 1_600);
    expect(await count("path LIKE ? AND grid_level = 3", [under])).toBe(1 + 8_000);

    const deepest = rows[rows.length - 1]!;
    const stored = await sql().execute({
      sql: `SELECT u.path, u.depth, u.level, u.grid_level, p.code AS parent_code, p.path AS parent_path
            FROM units u JOIN units p ON p.id = u.parent_id WHERE u.code = ?`,
      args: [deepest.code],
    });
    const row = stored.rows[0]!;
    expect(row.parent_code).toBe(deepest.parentCode);
    expect(String(row.path).startsWith(String(row.parent_path))).toBe(true);
    expect(String(row.path).startsWith(t.town.path)).toBe(true);
    expect(row).toMatchObject({ depth: 5, level: "grid", grid_level: 3 });

    const audit = await sql().execute({
      sql: "SELECT action, actor_id, detail FROM audit_log WHERE request_id = ?",
      args: [requestId],
    });
    expect(audit.rows).toHaveLength(1);
    expect(audit.rows[0]!.action).toBe("unit.import");
    expect(audit.rows[0]!.actor_id).toBe(admin.id);
    expect(JSON.parse(String(audit.rows[0]!.detail))).toEqual({
      imported: 10_000,
      byLevel: { village: 400, grid: 9_600 },
    });

    const children = await call(`/v1/units/${t.town.id}/children?limit=200`, { token: admin.token });
    expect(children.body.items).toHaveLength(200);
  });

  it("writes nothing when exactly one row of many is bad, and names that row's index", async () => {
    const t = await makeTree();
    const admin = await makeUser("admin", t.town);
    const rows = generate(t, 50, 4, 5);
    const bad = 777;
    rows[bad] = { ...rows[bad]!, code: `${t.village.code}999001` }; // a level-3 grid code outside its parent
    const before = await count("path LIKE ?", [`${t.town.path}%`]);
    const requestId = `import-bad-${crypto.randomUUID()}`;

    const res = await importRows(admin.token, rows, requestId);
    expect(res).toBeProblem(400);
    expect(res.body.type).toMatch(/import-rows-invalid$/);
    expect(res.body.errors).toEqual([
      { path: `rows.${bad}.code`, message: "the code must start with the parent's code" },
    ]);
    expect(res.body.rowErrors).toEqual([
      { index: bad, path: `rows.${bad}.code`, message: "the code must start with the parent's code" },
    ]);
    expect(await count("path LIKE ?", [`${t.town.path}%`])).toBe(before);
    expect(await auditCount(requestId)).toBe(0);
  });

  it("reports cycles, duplicate codes, existing codes, wrong levels and unknown parents per row", async () => {
    const t = await makeTree();
    const admin = await makeUser("admin", t.town);
    const v = `${t.town.code}201`;
    const rows: Row[] = [
      { code: v, name: "ok village", level: "village", parentCode: t.town.code },
      { code: `${v}001`, name: "loop a", level: "grid", parentCode: `${v}002` },
      { code: `${v}002`, name: "loop b", level: "grid", parentCode: `${v}001` },
      { code: v, name: "duplicate", level: "village", parentCode: t.town.code },
      { code: t.village2.code, name: "exists", level: "village", parentCode: t.town.code },
      { code: `${t.town.code}202`, name: "wrong level", level: "grid", parentCode: t.town.code },
      { code: `${v}003`, name: "orphan", level: "grid", parentCode: `${t.town.code}299` },
    ];
    const before = await count("path LIKE ?", [`${t.town.path}%`]);
    const res = await importRows(admin.token, rows, `import-mixed-${crypto.randomUUID()}`);
    expect(res).toBeProblem(400);
    const byIndex = new Map<number, string[]>();
    for (const e of res.body.rowErrors as Array<{ index: number; message: string }>) {
      byIndex.set(e.index, [...(byIndex.get(e.index) ?? []), e.message]);
    }
    expect([...byIndex.keys()].sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(byIndex.get(1)!.join()).toMatch(/loops back|parent row 2 is invalid/);
    expect(byIndex.get(2)!.join()).toMatch(/loops back|parent row 1 is invalid/);
    expect([...byIndex.get(1)!, ...byIndex.get(2)!]).toContain("the parent chain loops back to this row");
    expect(byIndex.get(3)).toContain("duplicate of row 0");
    expect(byIndex.get(4)).toContain("a unit with this code exists");
    expect(byIndex.get(5)).toEqual(["a town can only have village children, not grid"]);
    expect(byIndex.get(6)).toEqual(["no such parent unit"]);
    expect(await count("path LIKE ?", [`${t.town.path}%`])).toBe(before);
  });

  it("treats parents outside the importer's subtree as unknown", async () => {
    const t = await makeTree();
    const other = await makeTree();
    const villageAdmin = await makeUser("admin", t.village);
    const res = await importRows(
      villageAdmin.token,
      [{ code: `${other.village.code}099`, name: "x", level: "grid", parentCode: other.village.code }],
      `import-scope-${crypto.randomUUID()}`,
    );
    expect(res).toBeProblem(400);
    expect(res.body.errors).toEqual([
      { path: "rows.0.parentCode", message: "no such parent unit in your scope" },
    ]);
    expect(await count("code = ?", [`${other.village.code}099`])).toBe(0);
  });

  it("rejects malformed rows by schema with their paths, and non-admins with 403", async () => {
    const t = await makeTree();
    const admin = await makeUser("admin", t.town);
    const malformed = await importRows(
      admin.token,
      [
        { code: `${t.town.code}301`, name: "ok", level: "village", parentCode: t.town.code },
        { code: "12ab", name: "x", level: "village", parentCode: t.town.code },
        { code: `${t.town.code}303`, name: "x", level: "hamlet", parentCode: t.town.code, extra: 1 },
      ],
      `import-schema-${crypto.randomUUID()}`,
    );
    expect(malformed).toBeProblem(400);
    const paths = (malformed.body.errors as Array<{ path: string }>).map((e) => e.path);
    expect(paths).toContain("rows.1.code");
    expect(paths).toContain("rows.2.level");
    expect(paths.some((p) => p.startsWith("rows.2"))).toBe(true);
    expect(await call("/v1/units/import", { token: admin.token, body: { rows: [] } })).toBeProblem(400);

    const worker = await makeUser("grid_worker", t.grid);
    const forbidden = await importRows(
      worker.token,
      [{ code: `${t.town.code}301`, name: "x", level: "village", parentCode: t.town.code }],
      `import-403-${crypto.randomUUID()}`,
    );
    expect(forbidden).toBeProblem(403);
    expect(await count("code = ?", [`${t.town.code}301`])).toBe(0);
  });
});
