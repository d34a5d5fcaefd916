import { describe, expect, it } from "vitest";
import { call, makeTree, makeUser, sql } from "../support/helpers";
import { signUp } from "../support/resident-accounts";

const refresh = (refreshToken: string) => call("/v1/resident/auth/refresh", { body: { refreshToken } });

const tokenRows = async (accountId: string) =>
  (
    await sql().execute({
      sql: "SELECT * FROM resident_refresh_tokens WHERE account_id = ? ORDER BY created_at, rotated_at IS NULL",
      args: [accountId],
    })
  ).rows;

const auditOf = async (accountId: string, action: string) =>
  (
    await sql().execute({
      sql: "SELECT outcome, detail FROM audit_log WHERE object_id = ? AND action = ? ORDER BY at",
      args: [accountId, action],
    })
  ).rows.map((r) => ({ outcome: r.outcome, detail: JSON.parse(String(r.detail)) }));

describe("residents' refresh tokens", () => {
  it("gives a resident a refresh token at sign-in, stored only as a hash, and rotates it for a new access token", async () => {
    const { refreshToken, account } = await signUp();
    expect(refreshToken).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    const [issued] = await tokenRows(account.id);
    expect(String(issued!.token_hash)).not.toContain(refreshToken);
    expect(issued!.session_epoch).toBe(0);
    expect(Date.parse(String(issued!.expires_at)) - Date.parse(String(issued!.created_at))).toBe(
      30 * 24 * 3600 * 1000,
    );

    const next = await refresh(refreshToken);
    expect(next.status, next.text).toBe(200);
    expect(next.body).toMatchObject({
      tokenType: "Bearer",
      expiresIn: 3600,
      refreshExpiresIn: 30 * 24 * 3600,
      created: false,
      account: { id: account.id, linked: false },
    });
    expect(next.body.refreshToken).not.toBe(refreshToken);
    const me = await call("/v1/resident/me", { token: next.body.accessToken });
    expect(me.status, me.text).toBe(200);
    expect(me.body.id).toBe(account.id);

    const rows = await tokenRows(account.id);
    expect(rows).toHaveLength(2);
    expect(rows[0]!.rotated_at).not.toBeNull();
    expect(rows[1]!.rotated_at).toBeNull();
    expect(rows[1]!.family_id).toBe(rows[0]!.family_id);
    expect(rows.every((r) => r.revoked_at === null)).toBe(true);
    expect(await auditOf(account.id, "resident.refresh")).toEqual([
      { outcome: "success", detail: { familyId: rows[0]!.family_id } },
    ]);

    // The next one rotates in turn.
    const third = await refresh(next.body.refreshToken);
    expect(third.status, third.text).toBe(200);
    expect(await tokenRows(account.id)).toHaveLength(3);
  });

  it("takes a spent refresh token presented again as stolen: 401, the whole sign-in revoked, audited", async () => {
    const { refreshToken, account } = await signUp();
    const next = await refresh(refreshToken);
    expect(next.status, next.text).toBe(200);

    expect(await refresh(refreshToken)).toBeProblem(401, "unauthorized");
    const rows = await tokenRows(account.id);
    expect(rows).toHaveLength(2);
    expect(rows.every((r) => r.revoked_at !== null)).toBe(true);
    // The thief's and the resident's newer token are both dead.
    expect(await refresh(next.body.refreshToken)).toBeProblem(401, "unauthorized");
    expect(await tokenRows(account.id)).toHaveLength(2);
    const denied = (await auditOf(account.id, "resident.refresh")).filter((a) => a.outcome === "denied");
    expect(denied).toEqual([
      { outcome: "denied", detail: { reason: "refresh token reused", familyId: rows[0]!.family_id } },
    ]);
  });

  it("keeps the other sign-ins of the same resident when one is revoked for reuse", async () => {
    const first = await signUp();
    const spent = await refresh(first.refreshToken);
    expect(spent.status, spent.text).toBe(200);
    // A second sign-in (a second phone) is its own family.
    await sql().execute({
      sql: "UPDATE resident_codes SET created_at = '2000-01-01T00:00:00.000Z' WHERE mobile_hmac = (SELECT mobile_hmac FROM resident_accounts WHERE id = ?)",
      args: [first.account.id],
    });
    const second = await signUp(first.mobile);
    expect(second.account.id).toBe(first.account.id);

    expect(await refresh(first.refreshToken)).toBeProblem(401, "unauthorized");
    const other = await refresh(second.refreshToken);
    expect(other.status, other.text).toBe(200);
  });

  it("refuses an unknown, an expired and a malformed refresh token, writing nothing", async () => {
    const { refreshToken, account } = await signUp();
    expect(await refresh("x".repeat(43))).toBeProblem(401, "unauthorized");
    expect(await refresh("short")).toBeProblem(400, "validation");
    expect(await call("/v1/resident/auth/refresh", { body: { refreshToken, extra: 1 } })).toBeProblem(
      400,
      "validation",
    );

    await sql().execute({
      sql: "UPDATE resident_refresh_tokens SET expires_at = '2000-01-01T00:00:00.000Z' WHERE account_id = ?",
      args: [account.id],
    });
    expect(await refresh(refreshToken)).toBeProblem(401, "unauthorized");
    const rows = await tokenRows(account.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.rotated_at).toBeNull();
  });

  it("revokes the sign-in when the account is disabled or its session epoch was raised", async () => {
    const disabled = await signUp();
    await sql().execute({
      sql: "UPDATE resident_accounts SET disabled = 1 WHERE id = ?",
      args: [disabled.account.id],
    });
    expect(await refresh(disabled.refreshToken)).toBeProblem(401, "unauthorized");
    expect((await tokenRows(disabled.account.id)).every((r) => r.revoked_at !== null)).toBe(true);
    expect(await auditOf(disabled.account.id, "resident.refresh")).toMatchObject([
      { outcome: "denied", detail: { reason: "account disabled" } },
    ]);

    const raised = await signUp();
    await sql().execute({
      sql: "UPDATE resident_accounts SET session_epoch = session_epoch + 1 WHERE id = ?",
      args: [raised.account.id],
    });
    expect(await refresh(raised.refreshToken)).toBeProblem(401, "unauthorized");
    expect((await tokenRows(raised.account.id)).every((r) => r.revoked_at !== null)).toBe(true);
  });

  it("spends a refresh token once when two refreshes race: exactly one gets a new token", async () => {
    const { refreshToken, account } = await signUp();
    const answers = await Promise.all([refresh(refreshToken), refresh(refreshToken)]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 401]);
    const rows = await tokenRows(account.id);
    expect(rows.filter((r) => r.rotated_at !== null)).toHaveLength(1);
    expect(rows).toHaveLength(2);
  });

  it("keeps the audiences apart: neither refresh endpoint takes the other's refresh token", async () => {
    const resident = await signUp();
    const tree = await makeTree();
    const worker = await makeUser("grid_worker", tree.grid);
    const login = await call("/v1/auth/login", {
      body: { username: worker.username, password: "grid321-test" },
    });
    expect(login.status, login.text).toBe(200);

    expect(await call("/v1/auth/refresh", { body: { refreshToken: resident.refreshToken } })).toBeProblem(
      401,
      "unauthorized",
    );
    expect(await refresh(login.body.refreshToken)).toBeProblem(401, "unauthorized");
    // Both still work where they belong.
    expect((await refresh(resident.refreshToken)).status).toBe(200);
    const staff = await call("/v1/auth/refresh", { body: { refreshToken: login.body.refreshToken } });
    expect(staff.status, staff.text).toBe(200);
  });
});
