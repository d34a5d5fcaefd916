import { beforeAll, describe, expect, it } from "vitest";
import { api, read } from "../support/client";
import { call, makeTree, makeUser, sql, type TestTree, type TestUser } from "../support/helpers";

let tree: TestTree;
let admin: TestUser;

beforeAll(async () => {
  tree = await makeTree();
  admin = await makeUser("admin", tree.town);
});

async function unitRow(id: string) {
  const rs = await sql().execute({ sql: "SELECT * FROM units WHERE id = ?", args: [id] });
  return rs.rows[0];
}

async function countUnitsUnder(path: string) {
  const rs = await sql().execute({
    sql: "SELECT count(*) AS n FROM units WHERE path LIKE ?",
    args: [`${path}%`],
  });
  return Number(rs.rows[0]!.n);
}

async function auditFor(requestId: string) {
  const rs = await sql().execute({
    sql: "SELECT action, object_id, actor_id, scope_path, outcome, detail FROM audit_log WHERE request_id = ?",
    args: [requestId],
  });
  return rs.rows.map((r) => ({
    action: r.action,
    object_id: r.object_id,
    actor_id: r.actor_id,
    scope_path: r.scope_path,
    outcome: r.outcome,
    detail: r.detail ? JSON.parse(String(r.detail)) : null,
  }));
}

/** Creates a village under the tree's town through the API. */
async function createVillage(t: TestTree, token: string, suffix: string, requestId?: string) {
  return call("/v1/units", {
    token,
    body: {
      code: `${t.town.code}${suffix}`,
      name: `Village ${suffix}`,
      level: "village",
      parentId: t.town.id,
    },
    headers: requestId ? { "x-request-id": requestId } : {},
  });
}

describe("GET /v1/units/{id}", () => {
  it("returns a unit in the caller's subtree with its ETag", async () => {
    const res = await call(`/v1/units/${tree.grid.id}`, { token: admin.token });
    expect(res.status).toBe(200);
    expect(res.headers.get("etag")).toBe('"1"');
    expect(res.body).toMatchObject({
      id: tree.grid.id,
      code: tree.grid.code,
      parentId: tree.village.id,
      path: tree.grid.path,
      level: "grid",
      gridLevel: 2,
      depth: 4,
      version: 1,
    });
  });

  it("answers 404, as for a missing unit, for units outside the caller's subtree", async () => {
    const other = await makeTree();
    const foreign = await call(`/v1/units/${other.village.id}`, { token: admin.token });
    const above = await call(`/v1/units/${tree.county.id}`, { token: admin.token });
    const missing = await call(`/v1/units/${crypto.randomUUID()}`, { token: admin.token });
    for (const res of [foreign, above, missing]) expect(res).toBeProblem(404);
    expect(foreign.body.detail).toBe(missing.body.detail);

    const worker = await makeUser("grid_worker", tree.grid);
    expect(await call(`/v1/units/${tree.grid2.id}`, { token: worker.token })).toBeProblem(404);
    expect((await call(`/v1/units/${tree.subgrid.id}`, { token: worker.token })).status).toBe(200);
  });
});

describe("GET /v1/units/{id}/children", () => {
  it("pages through the direct children by code", async () => {
    const first = await call(`/v1/units/${tree.village.id}/children?limit=1`, { token: admin.token });
    expect(first.status).toBe(200);
    expect(first.body.items.map((u: { id: string }) => u.id)).toEqual([tree.grid.id]);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await call(
      `/v1/units/${tree.village.id}/children?limit=1&cursor=${first.body.nextCursor}`,
      { token: admin.token },
    );
    expect(second.body.items.map((u: { id: string }) => u.id)).toEqual([tree.grid2.id]);
    expect(second.body.nextCursor).toBeNull();
  });

  it("answers 404 for a unit outside the caller's subtree", async () => {
    const other = await makeTree();
    expect(await call(`/v1/units/${other.town.id}/children`, { token: admin.token })).toBeProblem(404);
  });
});

describe("GET /v1/units", () => {
  it("pages through the caller's whole subtree by code and nothing outside it", async () => {
    const codes: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: Awaited<ReturnType<typeof call>> = await call(
        `/v1/units?limit=3${cursor ? `&cursor=${cursor}` : ""}`,
        { token: admin.token },
      );
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(3);
      codes.push(...res.body.items.map((u: { code: string }) => u.code));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 20);
    const stored = await sql().execute({
      sql: "SELECT code FROM units WHERE path LIKE ? ORDER BY code",
      args: [`${tree.town.path}%`],
    });
    expect(codes).toEqual(stored.rows.map((r) => String(r.code)));
    expect(codes).toContain(tree.town.code);
    expect(codes).not.toContain(tree.county.code);
    expect(pages).toBeGreaterThanOrEqual(3);
  });

  it("filters by parentId, level and q (name substring or code prefix)", async () => {
    const byParent = await call(`/v1/units?parentId=${tree.village.id}`, { token: admin.token });
    expect(byParent.body.items.map((u: { id: string }) => u.id)).toEqual([tree.grid.id, tree.grid2.id]);

    const villages = await call(`/v1/units?level=village&q=${tree.town.code}`, { token: admin.token });
    expect(villages.body.items.map((u: { id: string }) => u.id)).toEqual([tree.village.id, tree.village2.id]);

    const byName = await call(`/v1/units?q=${encodeURIComponent(`grid ${tree.subgrid.code}`)}`, {
      token: admin.token,
    });
    expect(byName.body.items.map((u: { id: string }) => u.id)).toEqual([tree.subgrid.id]);
  });

  it("rejects a bad level, an oversized limit and a forged cursor with 400", async () => {
    for (const query of ["level=hamlet", "limit=500", "limit=0", "cursor=bm90LWEtY3Vyc29y", "parentId=42"]) {
      const res = await call(`/v1/units?${query}`, { token: admin.token });
      expect(res, query).toBeProblem(400);
      expect(res.body.errors?.length, query).toBeGreaterThan(0);
    }
  });
});

describe("POST /v1/units", () => {
  it("creates a unit under a parent in scope, stores it and audits it", async () => {
    const t = await makeTree();
    const townAdmin = await makeUser("admin", t.town);
    const requestId = `unit-create-${crypto.randomUUID()}`;
    const res = await createVillage(t, townAdmin.token, "101", requestId);
    expect(res.status).toBe(201);
    expect(res.headers.get("location")).toBe(`/v1/units/${res.body.id}`);
    expect(res.body).toMatchObject({
      code: `${t.town.code}101`,
      name: "Village 101",
      level: "village",
      gridLevel: 1,
      parentId: t.town.id,
      path: `${t.town.path}${res.body.id}/`,
      depth: 3,
      version: 1,
    });
    expect(await unitRow(res.body.id)).toMatchObject({
      code: `${t.town.code}101`,
      level: "village",
      grid_level: 1,
      parent_id: t.town.id,
      path: `${t.town.path}${res.body.id}/`,
    });
    expect(await auditFor(requestId)).toEqual([
      {
        action: "unit.create",
        object_id: res.body.id,
        actor_id: townAdmin.id,
        scope_path: res.body.path,
        outcome: "success",
        detail: { code: `${t.town.code}101`, name: "Village 101" },
      },
    ]);
  });

  it("refuses a wrong level, a bad code and a duplicate code, writing nothing", async () => {
    const t = await makeTree();
    const before = await countUnitsUnder(t.town.path);
    const wrongLevel = await call("/v1/units", {
      token: admin.token,
      body: { code: `${t.town.code}102`, name: "X", level: "grid", parentId: t.town.id },
    });
    const townAdmin = await makeUser("admin", t.town);
    const wrongLevelInScope = await call("/v1/units", {
      token: townAdmin.token,
      body: { code: `${t.town.code}102`, name: "X", level: "grid", parentId: t.town.id },
    });
    expect(wrongLevel).toBeProblem(404);
    expect(wrongLevelInScope).toBeProblem(400);
    expect(wrongLevelInScope.body.errors).toEqual([
      { path: "level", message: "a town can only have village children, not grid" },
    ]);

    const badCode = await call("/v1/units", {
      token: townAdmin.token,
      body: { code: "999999001", name: "X", level: "village", parentId: t.town.id },
    });
    expect(badCode).toBeProblem(400);
    expect(badCode.body.errors[0].path).toBe("code");

    const duplicate = await call("/v1/units", {
      token: townAdmin.token,
      body: { code: t.village.code, name: "Again", level: "village", parentId: t.town.id },
    });
    expect(duplicate).toBeProblem(409);
    expect(await countUnitsUnder(t.town.path)).toBe(before);
  });

  it("forbids roles other than admin (403) and parents outside the subtree (404)", async () => {
    const t = await makeTree();
    const worker = await makeUser("grid_worker", t.grid);
    const staff = await makeUser("center_staff", t.town);
    const before = await countUnitsUnder(t.town.path);
    for (const user of [worker, staff]) {
      const res = await createVillage(t, user.token, "103");
      expect(res).toBeProblem(403);
    }
    const outsider = await createVillage(t, admin.token, "104");
    expect(outsider).toBeProblem(404);
    expect(await countUnitsUnder(t.town.path)).toBe(before);
  });
});

describe("PATCH /v1/units/{id}", () => {
  it("renames with If-Match, bumps the version and audits", async () => {
    const t = await makeTree();
    const townAdmin = await makeUser("admin", t.town);
    const requestId = `unit-rename-${crypto.randomUUID()}`;
    const res = await call(`/v1/units/${t.village.id}`, {
      method: "PATCH",
      token: townAdmin.token,
      body: { name: "Renamed village" },
      headers: { "if-match": '"1"', "x-request-id": requestId },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("etag")).toBe('"2"');
    expect(res.body).toMatchObject({ name: "Renamed village", version: 2, code: t.village.code });
    expect(await unitRow(t.village.id)).toMatchObject({ name: "Renamed village", version: 2 });
    expect((await auditFor(requestId)).map((r) => r.action)).toEqual(["unit.update"]);

    const stale = await call(`/v1/units/${t.village.id}`, {
      method: "PATCH",
      token: townAdmin.token,
      body: { name: "Stale" },
      headers: { "if-match": '"1"' },
    });
    expect(stale).toBeProblem(412);
    expect(stale.body.currentVersion).toBe(2);
    expect(await unitRow(t.village.id)).toMatchObject({ name: "Renamed village", version: 2 });
  });

  it("moves a subtree, rewriting descendants' codes and every stored path", async () => {
    const t = await makeTree();
    const townAdmin = await makeUser("admin", t.town);
    const subgridWorker = await makeUser("grid_worker", t.subgrid);
    const newCode = `${t.village2.code}009`;
    const res = await call(`/v1/units/${t.grid.id}`, {
      method: "PATCH",
      token: townAdmin.token,
      body: { parentId: t.village2.id, code: newCode },
    });
    expect(res.status).toBe(200);
    const newPath = `${t.village2.path}${t.grid.id}/`;
    expect(res.body).toMatchObject({ parentId: t.village2.id, code: newCode, path: newPath, version: 2 });
    expect(await unitRow(t.grid.id)).toMatchObject({
      parent_id: t.village2.id,
      code: newCode,
      path: newPath,
    });
    expect(await unitRow(t.subgrid.id)).toMatchObject({
      code: `${newCode}001`,
      path: `${newPath}${t.subgrid.id}/`,
      parent_id: t.grid.id,
    });
    const user = await sql().execute({
      sql: "SELECT unit_path FROM users WHERE id = ?",
      args: [subgridWorker.id],
    });
    expect(user.rows[0]!.unit_path).toBe(`${newPath}${t.subgrid.id}/`);
  });

  it("refuses moves under the unit's own subtree, code changes without a move, wrong levels and empty patches", async () => {
    const t = await makeTree();
    const townAdmin = await makeUser("admin", t.town);
    const cycle = await call(`/v1/units/${t.village.id}`, {
      method: "PATCH",
      token: townAdmin.token,
      body: { parentId: t.subgrid.id, code: `${t.town.code}555` },
    });
    expect(cycle).toBeProblem(409);
    expect(cycle.body.type).toMatch(/unit-cycle$/);

    const codeOnly = await call(`/v1/units/${t.grid.id}`, {
      method: "PATCH",
      token: townAdmin.token,
      body: { code: `${t.village.code}077` },
    });
    expect(codeOnly).toBeProblem(400);

    const wrongLevel = await call(`/v1/units/${t.grid.id}`, {
      method: "PATCH",
      token: townAdmin.token,
      body: { parentId: t.town.id, code: `${t.town.code}077` },
    });
    expect(wrongLevel).toBeProblem(400);

    const badIfMatch = await call(`/v1/units/${t.grid.id}`, {
      method: "PATCH",
      token: townAdmin.token,
      body: { name: "x" },
      headers: { "if-match": "yesterday" },
    });
    expect(badIfMatch).toBeProblem(400);

    const empty = await call(`/v1/units/${t.grid.id}`, { method: "PATCH", token: townAdmin.token, body: {} });
    expect(empty).toBeProblem(400);
    expect(await unitRow(t.grid.id)).toMatchObject({
      parent_id: t.village.id,
      code: t.grid.code,
      version: 1,
    });
  });

  it("forbids non-admins (403) and hides units outside the subtree (404)", async () => {
    const t = await makeTree();
    const leader = await makeUser("leader", t.town);
    const forbidden = await call(`/v1/units/${t.village.id}`, {
      method: "PATCH",
      token: leader.token,
      body: { name: "Nope" },
    });
    expect(forbidden).toBeProblem(403);
    const hidden = await call(`/v1/units/${t.village.id}`, {
      method: "PATCH",
      token: admin.token,
      body: { name: "Nope" },
    });
    expect(hidden).toBeProblem(404);
    expect(await unitRow(t.village.id)).toMatchObject({ name: `village ${t.village.code}`, version: 1 });
  });
});

describe("DELETE /v1/units/{id}", () => {
  it("deletes a leaf without data and audits it", async () => {
    const t = await makeTree();
    const townAdmin = await makeUser("admin", t.town);
    const requestId = `unit-delete-${crypto.randomUUID()}`;
    const res = await call(`/v1/units/${t.grid2.id}`, {
      method: "DELETE",
      token: townAdmin.token,
      headers: { "x-request-id": requestId },
    });
    expect(res.status).toBe(204);
    expect(await unitRow(t.grid2.id)).toBeUndefined();
    expect((await auditFor(requestId)).map((r) => [r.action, r.object_id])).toEqual([
      ["unit.delete", t.grid2.id],
    ]);
    expect(await call(`/v1/units/${t.grid2.id}`, { token: townAdmin.token })).toBeProblem(404);
  });

  it("refuses units with children or with users (409) and keeps them", async () => {
    const t = await makeTree();
    const townAdmin = await makeUser("admin", t.town);
    const withChildren = await call(`/v1/units/${t.grid.id}`, { method: "DELETE", token: townAdmin.token });
    expect(withChildren).toBeProblem(409);
    expect(withChildren.body.detail).toMatch(/children/);

    await makeUser("grid_worker", t.otherGrid);
    const withUsers = await call(`/v1/units/${t.otherGrid.id}`, { method: "DELETE", token: townAdmin.token });
    expect(withUsers).toBeProblem(409);
    expect(withUsers.body.detail).toMatch(/users/);
    expect(await unitRow(t.grid.id)).toBeDefined();
    expect(await unitRow(t.otherGrid.id)).toBeDefined();
  });

  it("forbids non-admins (403) and hides units outside the subtree (404)", async () => {
    const t = await makeTree();
    const worker = await makeUser("grid_worker", t.grid2);
    expect(await call(`/v1/units/${t.grid2.id}`, { method: "DELETE", token: worker.token })).toBeProblem(403);
    expect(await call(`/v1/units/${t.grid2.id}`, { method: "DELETE", token: admin.token })).toBeProblem(404);
    expect(await unitRow(t.grid2.id)).toBeDefined();
  });
});

describe("PATCH /v1/units/{id} racing another writer", () => {
  it("answers 412 to the rename that loses the version, and audits only the winner", async () => {
    for (let trial = 0; trial < 3; trial++) {
      const t = await makeTree();
      const townAdmin = await makeUser("admin", t.town);
      const rename = (name: string, ifMatch?: string) =>
        api(townAdmin.token)
          .v1.units[":id"].$patch({
            param: { id: t.village.id },
            json: { name },
            header: ifMatch === undefined ? {} : { "if-match": ifMatch },
          })
          .then(read);
      // Both expect version 1: whichever writes second finds version 2, in the read or in the UPDATE's guard.
      const results = await Promise.all([rename("东风村", '"1"'), rename("红旗村", '"1"')]);
      expect(results.map((r) => r.status).sort(), JSON.stringify(results)).toEqual([200, 412]);
      const loser = results.find((r) => r.status !== 200)!;
      expect(loser).toBeProblem(412, "stale-version");
      const winner = results.find((r) => r.status === 200)!.body as { name: string };
      expect(await unitRow(t.village.id)).toMatchObject({ name: winner.name, version: 2 });
      const audits = await sql().execute({
        sql: "SELECT count(*) AS n FROM audit_log WHERE action = 'unit.update' AND object_id = ?",
        args: [t.village.id],
      });
      expect(Number(audits.rows[0]!.n)).toBe(1);
    }
  });
});
