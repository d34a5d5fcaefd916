import { beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/platform/crypto/tokens";
import { call, makeTree, makeUser, sql, type TestTree } from "../support/helpers";

const PASSWORD = "correct horse battery";
let tree: TestTree;

beforeAll(async () => {
  tree = await makeTree();
});

function login(username: string, password: string, requestId?: string) {
  return call("/v1/auth/login", {
    body: { username, password },
    headers: requestId ? { "x-request-id": requestId } : {},
  });
}

async function auditRows(requestId: string) {
  const rs = await sql().execute({
    sql: "SELECT action, outcome, actor_id, object_id, detail FROM audit_log WHERE request_id = ? ORDER BY seq",
    args: [requestId],
  });
  return rs.rows.map((r) => ({ ...r, detail: r.detail ? JSON.parse(String(r.detail)) : null }));
}

async function tokenRow(refreshToken: string) {
  const rs = await sql().execute({
    sql: "SELECT * FROM refresh_tokens WHERE token_hash = ?",
    args: [await sha256Hex(refreshToken)],
  });
  return rs.rows[0];
}

async function failureCount(username: string) {
  const rs = await sql().execute({
    sql: "SELECT count(*) AS n FROM login_failures WHERE username = ?",
    args: [username],
  });
  return Number(rs.rows[0]!.n);
}

describe("POST /v1/auth/login", () => {
  it("returns a 15-minute access token and a refresh token stored only as its hash, and audits the login", async () => {
    const user = await makeUser("grid_worker", tree.grid, PASSWORD);
    const requestId = `login-ok-${crypto.randomUUID()}`;
    const res = await login(user.username, PASSWORD, requestId);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      tokenType: "Bearer",
      expiresIn: 900,
      refreshExpiresIn: 30 * 24 * 3600,
      user: {
        id: user.id,
        username: user.username,
        role: "grid_worker",
        unitId: tree.grid.id,
        disabled: false,
      },
    });
    expect(res.body.user.passwordHash).toBeUndefined();

    const [header, payload] = (res.body.accessToken as string)
      .split(".")
      .slice(0, 2)
      .map((part) => JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/"))));
    expect(header).toMatchObject({ alg: "ES256", typ: "at+jwt" });
    expect(header.kid).toBeTruthy();
    expect(payload.exp - payload.iat).toBe(900);
    expect(payload).toMatchObject({ sub: user.id, role: "grid_worker", path: tree.grid.path, lvl: "grid" });

    const stored = await tokenRow(res.body.refreshToken);
    expect(stored).toMatchObject({ user_id: user.id, rotated_at: null, revoked_at: null });
    const raw = await sql().execute({
      sql: "SELECT count(*) AS n FROM refresh_tokens WHERE token_hash = ?",
      args: [res.body.refreshToken],
    });
    expect(Number(raw.rows[0]!.n)).toBe(0);

    expect(await auditRows(requestId)).toEqual([
      { action: "auth.login", outcome: "success", actor_id: user.id, object_id: user.id, detail: null },
    ]);

    const me = await call("/v1/me", { token: res.body.accessToken });
    expect(me.status).toBe(200);
    expect(me.body.user.id).toBe(user.id);
  });

  it("refuses a wrong password or an unknown username with the same 401, recording and auditing the failure", async () => {
    const user = await makeUser("grid_worker", tree.grid, PASSWORD);
    const requestId = `login-bad-${crypto.randomUUID()}`;
    const wrong = await login(user.username, "not the password", requestId);
    expect(wrong).toBeProblem(401);
    expect(wrong.body.accessToken).toBeUndefined();
    expect(await failureCount(user.username)).toBe(1);
    expect(await auditRows(requestId)).toEqual([
      {
        action: "auth.login",
        outcome: "failure",
        actor_id: user.id,
        object_id: user.id,
        detail: { username: user.username, reason: "bad credentials" },
      },
    ]);

    const ghost = `ghost-${crypto.randomUUID().slice(0, 8)}`;
    const unknown = await login(ghost, PASSWORD);
    expect(unknown).toBeProblem(401);
    expect(unknown.body.detail).toBe(wrong.body.detail);
    expect(await failureCount(ghost)).toBe(1);
  });

  it("clears the failure count after a successful login", async () => {
    const user = await makeUser("grid_worker", tree.grid, PASSWORD);
    await login(user.username, "nope nope nope");
    await login(user.username, "nope nope nope");
    expect(await failureCount(user.username)).toBe(2);
    expect((await login(user.username, PASSWORD)).status).toBe(200);
    expect(await failureCount(user.username)).toBe(0);
  });

  it("answers 429 with Retry-After after 5 failures, even to the right password", async () => {
    const user = await makeUser("grid_worker", tree.grid, PASSWORD);
    for (let i = 0; i < 5; i++) {
      expect((await login(user.username, `wrong-${i}`)).status).toBe(401);
    }
    expect(await failureCount(user.username)).toBe(5);
    const requestId = `login-throttled-${crypto.randomUUID()}`;
    const blocked = await login(user.username, PASSWORD, requestId);
    expect(blocked).toBeProblem(429);
    const retryAfter = Number(blocked.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(14 * 60);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    expect(blocked.body.accessToken).toBeUndefined();
    expect(await auditRows(requestId)).toEqual([
      {
        action: "auth.login",
        outcome: "denied",
        actor_id: user.id,
        object_id: user.id,
        detail: { username: user.username, reason: "throttled", by: "pair" },
      },
    ]);
    const tokens = await sql().execute({
      sql: "SELECT count(*) AS n FROM refresh_tokens WHERE user_id = ?",
      args: [user.id],
    });
    expect(Number(tokens.rows[0]!.n)).toBe(0);
  });

  it("counts failures older than 15 minutes out of the throttle", async () => {
    const user = await makeUser("grid_worker", tree.grid, PASSWORD);
    const old = new Date(Date.now() - 16 * 60 * 1000).toISOString();
    for (let i = 0; i < 5; i++) {
      await sql().execute({
        sql: "INSERT INTO login_failures (username, at) VALUES (?, ?)",
        args: [user.username, old],
      });
    }
    expect((await login(user.username, PASSWORD)).status).toBe(200);
  });

  it("rejects bodies without a username or with extra fields", async () => {
    const missing = await call("/v1/auth/login", { body: { password: PASSWORD } });
    expect(missing).toBeProblem(400);
    expect(missing.body.errors).toContainEqual(expect.objectContaining({ path: "username" }));
    const extra = await call("/v1/auth/login", { body: { username: "a", password: "b", remember: true } });
    expect(extra).toBeProblem(400);
  });
});

describe("POST /v1/auth/refresh", () => {
  it("rotates: a new pair in the same family, the old refresh token spent", async () => {
    const user = await makeUser("center_staff", tree.village, PASSWORD);
    const first = await login(user.username, PASSWORD);
    const res = await call("/v1/auth/refresh", { body: { refreshToken: first.body.refreshToken } });
    expect(res.status).toBe(200);
    expect(res.body.refreshToken).not.toBe(first.body.refreshToken);
    expect(res.body.user.id).toBe(user.id);
    expect((await call("/v1/me", { token: res.body.accessToken })).status).toBe(200);

    const old = await tokenRow(first.body.refreshToken);
    const fresh = await tokenRow(res.body.refreshToken);
    expect(old!.rotated_at).not.toBeNull();
    expect(old!.revoked_at).toBeNull();
    expect(fresh).toMatchObject({ family_id: old!.family_id, rotated_at: null, revoked_at: null });
  });

  it("treats reuse of a spent refresh token as theft and revokes the whole family", async () => {
    const user = await makeUser("center_staff", tree.village, PASSWORD);
    const first = await login(user.username, PASSWORD);
    const second = await call("/v1/auth/refresh", { body: { refreshToken: first.body.refreshToken } });
    expect(second.status).toBe(200);
    const other = await login(user.username, PASSWORD);

    const requestId = `refresh-reuse-${crypto.randomUUID()}`;
    const replay = await call("/v1/auth/refresh", {
      body: { refreshToken: first.body.refreshToken },
      headers: { "x-request-id": requestId },
    });
    expect(replay).toBeProblem(401);
    const family = (await tokenRow(first.body.refreshToken))!.family_id;
    expect(await auditRows(requestId)).toEqual([
      {
        action: "auth.refresh",
        outcome: "denied",
        actor_id: user.id,
        object_id: user.id,
        detail: { reason: "refresh token reused", familyId: family },
      },
    ]);
    expect((await tokenRow(second.body.refreshToken))!.revoked_at).not.toBeNull();
    expect((await tokenRow(first.body.refreshToken))!.revoked_at).not.toBeNull();
    const afterTheft = await call("/v1/auth/refresh", { body: { refreshToken: second.body.refreshToken } });
    expect(afterTheft).toBeProblem(401);

    // Another login of the same user is another family and keeps working.
    expect((await tokenRow(other.body.refreshToken))!.revoked_at).toBeNull();
    expect((await call("/v1/auth/refresh", { body: { refreshToken: other.body.refreshToken } })).status).toBe(
      200,
    );
  });

  it("refuses an unknown or expired refresh token", async () => {
    const unknown = await call("/v1/auth/refresh", { body: { refreshToken: "x".repeat(43) } });
    expect(unknown).toBeProblem(401);

    const user = await makeUser("center_staff", tree.village, PASSWORD);
    const first = await login(user.username, PASSWORD);
    await sql().execute({
      sql: "UPDATE refresh_tokens SET expires_at = ? WHERE token_hash = ?",
      args: [new Date(Date.now() - 1000).toISOString(), await sha256Hex(first.body.refreshToken)],
    });
    const expired = await call("/v1/auth/refresh", { body: { refreshToken: first.body.refreshToken } });
    expect(expired).toBeProblem(401);
    expect((await tokenRow(first.body.refreshToken))!.rotated_at).toBeNull();
  });
});

describe("POST /v1/auth/logout", () => {
  it("revokes the presented refresh token's session and audits it", async () => {
    const user = await makeUser("center_staff", tree.village, PASSWORD);
    const session = await login(user.username, PASSWORD);
    const keep = await login(user.username, PASSWORD);
    const requestId = `logout-${crypto.randomUUID()}`;
    const res = await call("/v1/auth/logout", {
      token: session.body.accessToken,
      body: { refreshToken: session.body.refreshToken },
      headers: { "x-request-id": requestId },
    });
    expect(res.status).toBe(204);
    expect(res.text).toBe("");
    expect((await tokenRow(session.body.refreshToken))!.revoked_at).not.toBeNull();
    expect((await tokenRow(keep.body.refreshToken))!.revoked_at).toBeNull();
    expect(await auditRows(requestId)).toEqual([
      {
        action: "auth.logout",
        outcome: "success",
        actor_id: user.id,
        object_id: user.id,
        detail: { all: false },
      },
    ]);
    const refused = await call("/v1/auth/refresh", { body: { refreshToken: session.body.refreshToken } });
    expect(refused).toBeProblem(401);
  });

  it("with all: true revokes every session of the caller", async () => {
    const user = await makeUser("center_staff", tree.village, PASSWORD);
    const a = await login(user.username, PASSWORD);
    const b = await login(user.username, PASSWORD);
    const res = await call("/v1/auth/logout", { token: a.body.accessToken, body: { all: true } });
    expect(res.status).toBe(204);
    const open = await sql().execute({
      sql: "SELECT count(*) AS n FROM refresh_tokens WHERE user_id = ? AND revoked_at IS NULL",
      args: [user.id],
    });
    expect(Number(open.rows[0]!.n)).toBe(0);
    expect((await call("/v1/auth/refresh", { body: { refreshToken: b.body.refreshToken } })).status).toBe(
      401,
    );
  });

  it("cannot revoke another user's session", async () => {
    const victim = await makeUser("center_staff", tree.village, PASSWORD);
    const attacker = await makeUser("center_staff", tree.village, PASSWORD);
    const session = await login(victim.username, PASSWORD);
    const res = await call("/v1/auth/logout", {
      token: attacker.token,
      body: { refreshToken: session.body.refreshToken },
    });
    expect(res.status).toBe(204);
    expect((await tokenRow(session.body.refreshToken))!.revoked_at).toBeNull();
  });

  it("needs a bearer token, and either a refresh token or all", async () => {
    expect(await call("/v1/auth/logout", { body: { all: true } })).toBeProblem(401);
    const user = await makeUser("center_staff", tree.village);
    const empty = await call("/v1/auth/logout", { token: user.token, body: {} });
    expect(empty).toBeProblem(400);
    expect(empty.body.errors).toEqual([{ path: "refreshToken", message: "required unless all is true" }]);
  });
});

describe("GET /v1/me", () => {
  it("returns the caller's user and unit", async () => {
    const user = await makeUser("household_lead", tree.subgrid);
    const res = await call("/v1/me", { token: user.token });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ id: user.id, username: user.username, role: "household_lead" });
    expect(res.body.unit).toEqual({
      id: tree.subgrid.id,
      code: tree.subgrid.code,
      name: `grid ${tree.subgrid.code}`,
      level: "grid",
      path: tree.subgrid.path,
    });
  });
});
