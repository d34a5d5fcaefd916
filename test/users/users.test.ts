import { beforeAll, describe, expect, it } from "vitest";
import { api, read } from "../support/client";
import { call, makeTree, makeUser, sql, type TestTree, type TestUser } from "../support/helpers";

const PASSWORD = "a long enough password";
let tree: TestTree;
let admin: TestUser;

beforeAll(async () => {
  tree = await makeTree();
  admin = await makeUser("admin", tree.town);
});

const uniqueName = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

async function userRow(id: string) {
  const rs = await sql().execute({ sql: "SELECT * FROM users WHERE id = ?", args: [id] });
  return rs.rows[0];
}

async function countUsers(username: string) {
  const rs = await sql().execute({
    sql: "SELECT count(*) AS n FROM users WHERE username = ?",
    args: [username],
  });
  return Number(rs.rows[0]!.n);
}

function createUser(token: string, body: Record<string, unknown>, requestId?: string) {
  return call("/v1/users", { token, body, headers: requestId ? { "x-request-id": requestId } : {} });
}

describe("POST /v1/users", () => {
  it("creates a user with a PBKDF2-SHA-256 hash and a per-user salt, audits it, and the user can log in", async () => {
    const username = uniqueName("worker");
    const requestId = `user-create-${crypto.randomUUID()}`;
    const res = await createUser(
      admin.token,
      {
        username,
        displayName: "张网格",
        role: "grid_worker",
        unitId: tree.grid.id,
        phone: "+8613800000000",
        password: PASSWORD,
      },
      requestId,
    );
    expect(res.status).toBe(201);
    expect(res.headers.get("location")).toBe(`/v1/users/${res.body.id}`);
    expect(res.body).toMatchObject({
      username,
      displayName: "张网格",
      role: "grid_worker",
      unitId: tree.grid.id,
      phone: "+8613800000000",
      disabled: false,
      version: 1,
    });
    expect(JSON.stringify(res.body)).not.toMatch(/password/i);

    const stored = await userRow(res.body.id);
    expect(stored).toMatchObject({ username, role: "grid_worker", unit_path: tree.grid.path, disabled: 0 });
    const hash = String(stored!.password_hash);
    expect(hash).toMatch(/^pbkdf2-sha256\$100000\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/);
    expect(hash).not.toContain(PASSWORD);

    const twin = await createUser(admin.token, {
      username: uniqueName("worker"),
      displayName: "Twin",
      role: "grid_worker",
      unitId: tree.grid.id,
      password: PASSWORD,
    });
    const twinHash = String((await userRow(twin.body.id))!.password_hash);
    expect(twinHash.split("$")[2]).not.toBe(hash.split("$")[2]);

    const audit = await sql().execute({
      sql: "SELECT action, object_id, detail FROM audit_log WHERE request_id = ?",
      args: [requestId],
    });
    expect(audit.rows).toHaveLength(1);
    expect(audit.rows[0]!.action).toBe("user.create");
    expect(audit.rows[0]!.object_id).toBe(res.body.id);
    expect(String(audit.rows[0]!.detail)).not.toContain(PASSWORD);

    const login = await call("/v1/auth/login", { body: { username, password: PASSWORD } });
    expect(login.status).toBe(200);
    expect(login.body.user.id).toBe(res.body.id);
  });

  it("refuses a taken username (409), a role that does not fit the unit (400) and bad fields, writing nothing", async () => {
    const duplicate = await createUser(admin.token, {
      username: admin.username,
      displayName: "Dup",
      role: "admin",
      unitId: tree.town.id,
      password: PASSWORD,
    });
    expect(duplicate).toBeProblem(409);

    const username = uniqueName("misfit");
    const misfit = await createUser(admin.token, {
      username,
      displayName: "Misfit",
      role: "grid_worker",
      unitId: tree.town.id,
      password: PASSWORD,
    });
    expect(misfit).toBeProblem(400);
    expect(misfit.body.errors).toEqual([{ path: "role", message: "a grid_worker cannot belong to a town" }]);

    const invalid = await createUser(admin.token, {
      username: "A!",
      displayName: "",
      role: "emperor",
      unitId: "not-a-uuid",
      password: "short",
      shoeSize: 42,
    });
    expect(invalid).toBeProblem(400);
    const paths = (invalid.body.errors as Array<{ path: string }>).map((e) => e.path);
    for (const path of ["username", "displayName", "role", "unitId", "password"])
      expect(paths).toContain(path);
    expect(await countUsers(username)).toBe(0);
    expect(await countUsers("A!")).toBe(0);
  });

  it("answers 404 for a unit outside the caller's subtree and 403 for non-admins", async () => {
    const other = await makeTree();
    const username = uniqueName("outside");
    const outside = await createUser(admin.token, {
      username,
      displayName: "Outside",
      role: "grid_worker",
      unitId: other.grid.id,
      password: PASSWORD,
    });
    expect(outside).toBeProblem(404);
    const staff = await makeUser("center_staff", tree.town);
    const forbidden = await createUser(staff.token, {
      username,
      displayName: "Nope",
      role: "grid_worker",
      unitId: tree.grid.id,
      password: PASSWORD,
    });
    expect(forbidden).toBeProblem(403);
    expect(await countUsers(username)).toBe(0);
  });
});

describe("GET /v1/users", () => {
  it("pages through the users of the caller's subtree, with role, unit and text filters", async () => {
    const t = await makeTree();
    const townAdmin = await makeUser("admin", t.town);
    const workers = [
      await makeUser("grid_worker", t.grid),
      await makeUser("grid_worker", t.grid2),
      await makeUser("grid_worker", t.otherGrid),
    ];
    const lead = await makeUser("household_lead", t.subgrid);
    await makeUser("grid_worker", (await makeTree()).grid); // another town's worker, never listed

    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const res: Awaited<ReturnType<typeof call>> = await call(
        `/v1/users?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
        { token: townAdmin.token },
      );
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((u: { id: string }) => u.id));
      cursor = res.body.nextCursor;
      if (!cursor) break;
    }
    const expected = [townAdmin, ...workers, lead].sort((a, b) => a.username.localeCompare(b.username));
    expect(seen).toEqual(expected.map((u) => u.id));

    const byRole = await call("/v1/users?role=grid_worker", { token: townAdmin.token });
    expect(new Set(byRole.body.items.map((u: { id: string }) => u.id))).toEqual(
      new Set(workers.map((w) => w.id)),
    );

    const byUnit = await call(`/v1/users?unitId=${t.grid.id}`, { token: townAdmin.token });
    expect(new Set(byUnit.body.items.map((u: { id: string }) => u.id))).toEqual(
      new Set([workers[0]!.id, lead.id]),
    );

    const byText = await call(`/v1/users?q=${lead.username}`, { token: townAdmin.token });
    expect(byText.body.items.map((u: { id: string }) => u.id)).toEqual([lead.id]);

    const staff = await makeUser("center_staff", t.village2);
    const staffView = await call("/v1/users", { token: staff.token });
    expect(staffView.body.items.map((u: { id: string }) => u.id).sort()).toEqual(
      [workers[2]!.id, staff.id].sort(),
    );
  });

  it("forbids roles without oversight (403) and answers 404 for a unit filter outside the subtree", async () => {
    const worker = await makeUser("grid_worker", tree.grid);
    expect(await call("/v1/users", { token: worker.token })).toBeProblem(403);
    const other = await makeTree();
    expect(await call(`/v1/users?unitId=${other.town.id}`, { token: admin.token })).toBeProblem(404);
    expect(await call("/v1/users?cursor=%%%", { token: admin.token })).toBeProblem(400);
  });
});

describe("GET /v1/users/{id}", () => {
  it("shows a user to admins in scope and to the user themself, and hides the rest", async () => {
    const worker = await makeUser("grid_worker", tree.grid);
    const colleague = await makeUser("grid_worker", tree.grid2);
    const res = await call(`/v1/users/${worker.id}`, { token: admin.token });
    expect(res.status).toBe(200);
    expect(res.headers.get("etag")).toBe('"1"');
    expect(res.body).toMatchObject({ id: worker.id, username: worker.username, role: "grid_worker" });
    expect((await call(`/v1/users/${worker.id}`, { token: worker.token })).status).toBe(200);
    expect(await call(`/v1/users/${colleague.id}`, { token: worker.token })).toBeProblem(403);
    const otherAdmin = await makeUser("admin", (await makeTree()).town);
    expect(await call(`/v1/users/${worker.id}`, { token: otherAdmin.token })).toBeProblem(404);
    expect(await call(`/v1/users/${crypto.randomUUID()}`, { token: admin.token })).toBeProblem(404);
  });
});

describe("PATCH /v1/users/{id}", () => {
  it("changes details and moves the user, rewriting the stored unit path", async () => {
    const worker = await makeUser("grid_worker", tree.grid);
    const res = await call(`/v1/users/${worker.id}`, {
      method: "PATCH",
      token: admin.token,
      body: { displayName: "Moved worker", unitId: tree.otherGrid.id, phone: null },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ displayName: "Moved worker", unitId: tree.otherGrid.id, version: 2 });
    expect(await userRow(worker.id)).toMatchObject({
      display_name: "Moved worker",
      unit_id: tree.otherGrid.id,
      unit_path: tree.otherGrid.path,
      version: 2,
    });
  });

  it("disabling refuses the user's login and refresh and revokes their sessions", async () => {
    const user = await makeUser("center_staff", tree.village, PASSWORD);
    const session = await call("/v1/auth/login", { body: { username: user.username, password: PASSWORD } });
    expect(session.status).toBe(200);
    const requestId = `user-disable-${crypto.randomUUID()}`;
    const res = await call(`/v1/users/${user.id}`, {
      method: "PATCH",
      token: admin.token,
      body: { disabled: true },
      headers: { "x-request-id": requestId },
    });
    expect(res.status).toBe(200);
    expect(res.body.disabled).toBe(true);
    expect(await userRow(user.id)).toMatchObject({ disabled: 1 });
    const open = await sql().execute({
      sql: "SELECT count(*) AS n FROM refresh_tokens WHERE user_id = ? AND revoked_at IS NULL",
      args: [user.id],
    });
    expect(Number(open.rows[0]!.n)).toBe(0);
    const audit = await sql().execute({
      sql: "SELECT action FROM audit_log WHERE request_id = ?",
      args: [requestId],
    });
    expect(audit.rows.map((r) => r.action)).toEqual(["user.disable"]);

    const login = await call("/v1/auth/login", { body: { username: user.username, password: PASSWORD } });
    expect(login).toBeProblem(401);
    expect(login.body.accessToken).toBeUndefined();
    const refresh = await call("/v1/auth/refresh", { body: { refreshToken: session.body.refreshToken } });
    expect(refresh).toBeProblem(401);

    const enable = await call(`/v1/users/${user.id}`, {
      method: "PATCH",
      token: admin.token,
      body: { disabled: false },
    });
    expect(enable.status).toBe(200);
    expect(
      (await call("/v1/auth/login", { body: { username: user.username, password: PASSWORD } })).status,
    ).toBe(200);
  });

  it("resets a password: the old one stops working and sessions are revoked", async () => {
    const user = await makeUser("center_staff", tree.village, PASSWORD);
    const session = await call("/v1/auth/login", { body: { username: user.username, password: PASSWORD } });
    const newPassword = "another long password";
    const res = await call(`/v1/users/${user.id}`, {
      method: "PATCH",
      token: admin.token,
      body: { password: newPassword },
    });
    expect(res.status).toBe(200);
    expect(
      (await call("/v1/auth/refresh", { body: { refreshToken: session.body.refreshToken } })).status,
    ).toBe(401);
    expect(
      (await call("/v1/auth/login", { body: { username: user.username, password: PASSWORD } })).status,
    ).toBe(401);
    expect(
      (await call("/v1/auth/login", { body: { username: user.username, password: newPassword } })).status,
    ).toBe(200);
  });

  it("refuses self-lockout (409), misfit roles (400), out-of-scope moves (404), non-admins (403) and empty patches", async () => {
    const self = await call(`/v1/users/${admin.id}`, {
      method: "PATCH",
      token: admin.token,
      body: { disabled: true },
    });
    expect(self).toBeProblem(409);
    const worker = await makeUser("grid_worker", tree.grid);
    const misfit = await call(`/v1/users/${worker.id}`, {
      method: "PATCH",
      token: admin.token,
      body: { role: "department" },
    });
    expect(misfit).toBeProblem(400);
    const other = await makeTree();
    const away = await call(`/v1/users/${worker.id}`, {
      method: "PATCH",
      token: admin.token,
      body: { unitId: other.grid.id },
    });
    expect(away).toBeProblem(404);
    const staff = await makeUser("center_staff", tree.town);
    const forbidden = await call(`/v1/users/${worker.id}`, {
      method: "PATCH",
      token: staff.token,
      body: { displayName: "x" },
    });
    expect(forbidden).toBeProblem(403);
    const empty = await call(`/v1/users/${worker.id}`, { method: "PATCH", token: admin.token, body: {} });
    expect(empty).toBeProblem(400);
    expect(await userRow(admin.id)).toMatchObject({ disabled: 0, version: 1 });
    expect(await userRow(worker.id)).toMatchObject({
      role: "grid_worker",
      unit_id: tree.grid.id,
      version: 1,
    });
  });
});

describe("PATCH /v1/users/{id} with If-Match", () => {
  function rename(token: string, id: string, displayName: string, ifMatch?: string) {
    return api(token)
      .v1.users[":id"].$patch({
        param: { id },
        json: { displayName },
        header: ifMatch === undefined ? {} : { "if-match": ifMatch },
      })
      .then(read);
  }

  it("honours a current version, refuses a stale one (412) and a malformed one (400), writing nothing", async () => {
    const worker = await makeUser("grid_worker", tree.grid);
    const ok = await rename(admin.token, worker.id, "张网格", '"1"');
    expect(ok.status).toBe(200);
    expect(ok.headers.get("etag")).toBe('"2"');
    expect(ok.body).toMatchObject({ displayName: "张网格", version: 2 });

    const stale = await rename(admin.token, worker.id, "过期的名字", '"1"');
    expect(stale).toBeProblem(412, "stale-version");
    expect((stale.body as { currentVersion?: number }).currentVersion).toBe(2);
    expect(stale.headers.get("etag")).toBe('"2"');
    expect(await rename(admin.token, worker.id, "坏的版本", "yesterday")).toBeProblem(400);
    expect(await userRow(worker.id)).toMatchObject({ display_name: "张网格", version: 2 });

    // Without If-Match the change is unconditional, as before.
    const unconditional = await rename(admin.token, worker.id, "李网格");
    expect(unconditional.status).toBe(200);
    expect(await userRow(worker.id)).toMatchObject({ display_name: "李网格", version: 3 });
  });

  it("answers 412, not 409, to the writer that loses the version to a concurrent one", async () => {
    for (let trial = 0; trial < 3; trial++) {
      const worker = await makeUser("grid_worker", tree.grid);
      const results = await Promise.all([
        rename(admin.token, worker.id, "王一", '"1"'),
        rename(admin.token, worker.id, "王二", '"1"'),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 412]);
      const [winner, loser] = results[0]!.status === 200 ? results : [results[1]!, results[0]!];
      expect(loser).toBeProblem(412, "stale-version");
      const name = (winner!.body as { displayName: string }).displayName;
      expect(await userRow(worker.id)).toMatchObject({ display_name: name, version: 2 });
      const audits = await sql().execute({
        sql: "SELECT count(*) AS n FROM audit_log WHERE action = 'user.update' AND object_id = ?",
        args: [worker.id],
      });
      expect(Number(audits.rows[0]!.n)).toBe(1);
    }
  });

  it("refuses a user in a unit that is gone: no user row names a deleted unit", async () => {
    const t = await makeTree();
    const townAdmin = await makeUser("admin", t.town);
    expect((await api(townAdmin.token).v1.units[":id"].$delete({ param: { id: t.grid2.id } })).status).toBe(
      204,
    );
    const res = await read(
      await api(townAdmin.token).v1.users.$post({
        json: {
          username: uniqueName("ghost"),
          displayName: "无单位的人",
          role: "grid_worker",
          unitId: t.grid2.id,
          password: PASSWORD,
        },
      }),
    );
    expect(res).toBeProblem(404);
    const rows = await sql().execute({
      sql: "SELECT count(*) AS n FROM users WHERE unit_id = ?",
      args: [t.grid2.id],
    });
    expect(Number(rows.rows[0]!.n)).toBe(0);
  });
});
