import { describe, expect, it } from "vitest";
import { call, makeTree, makeUser, sql } from "../support/helpers";
import { freshIp, freshMobile, signUp, sunkCode } from "../support/resident-accounts";

const codeRows = async (hmacOf: string) =>
  (
    await sql().execute({
      sql: "SELECT * FROM resident_codes WHERE mobile_hmac = ? ORDER BY created_at",
      args: [hmacOf],
    })
  ).rows;
const accountHmac = async (accountId: string) =>
  String(
    (
      await sql().execute({
        sql: "SELECT mobile_hmac FROM resident_accounts WHERE id = ?",
        args: [accountId],
      })
    ).rows[0]!.mobile_hmac,
  );
const countAccountsLike = async (masked: string) =>
  Number(
    (
      await sql().execute({
        sql: "SELECT count(*) AS n FROM resident_accounts WHERE mobile_masked = ?",
        args: [masked],
      })
    ).rows[0]!.n,
  );

describe("resident sign-up and sign-in by one-time code", () => {
  it("sends a 6-digit code to the dev sink, stores only its hash, and signs up then signs in", async () => {
    const mobile = freshMobile();
    const headers = { "cf-connecting-ip": freshIp() };
    const sent = await call("/v1/resident/auth/codes", { body: { mobile: `+86 ${mobile}` }, headers });
    expect(sent.status, sent.text).toBe(202);
    expect(sent.body).toEqual({ expiresIn: 300 });
    const code = await sunkCode(mobile);
    expect(code).toMatch(/^\d{6}$/);

    const first = await call("/v1/resident/auth/tokens", { body: { mobile, code }, headers });
    expect(first.status, first.text).toBe(200);
    expect(first.body.created).toBe(true);
    expect(first.body.account.mobile).toBe(`${mobile.slice(0, 3)}****${mobile.slice(-4)}`);
    expect(first.body.account.linked).toBe(false);
    const [stored] = (
      await sql().execute({
        sql: "SELECT * FROM resident_accounts WHERE id = ?",
        args: [first.body.account.id],
      })
    ).rows;
    expect(String(stored!.mobile_enc)).not.toContain(mobile);
    const codes = await codeRows(String(stored!.mobile_hmac));
    expect(codes).toHaveLength(1);
    expect(String(codes[0]!.code_hash)).not.toContain(code);
    expect(codes[0]!.used_at).not.toBeNull();
    const expires = Date.parse(String(codes[0]!.expires_at)) - Date.parse(String(codes[0]!.created_at));
    expect(expires).toBe(300_000);

    // A later code for the same number signs the same account in.
    await sql().execute({
      sql: "UPDATE resident_codes SET created_at = '2000-01-01T00:00:00.000Z' WHERE mobile_hmac = ?",
      args: [String(stored!.mobile_hmac)],
    });
    expect((await call("/v1/resident/auth/codes", { body: { mobile }, headers })).status).toBe(202);
    const again = await call("/v1/resident/auth/tokens", {
      body: { mobile, code: await sunkCode(mobile) },
      headers,
    });
    expect(again.status, again.text).toBe(200);
    expect(again.body.created).toBe(false);
    expect(again.body.account.id).toBe(first.body.account.id);

    const me = await call("/v1/resident/me", { token: again.body.accessToken });
    expect(me.status, me.text).toBe(200);
    expect(me.body.id).toBe(first.body.account.id);
  });

  it("refuses a wrong code, a replayed code and an expired code with 401, creating no account", async () => {
    const mobile = freshMobile();
    const headers = { "cf-connecting-ip": freshIp() };
    expect((await call("/v1/resident/auth/codes", { body: { mobile }, headers })).status).toBe(202);
    const code = await sunkCode(mobile);
    const wrong = code === "000000" ? "000001" : "000000";
    const bad = await call("/v1/resident/auth/tokens", { body: { mobile, code: wrong }, headers });
    expect(bad).toBeProblem(401, "code-invalid");
    expect(await countAccountsLike(`${mobile.slice(0, 3)}****${mobile.slice(-4)}`)).toBe(0);

    const ok = await call("/v1/resident/auth/tokens", { body: { mobile, code }, headers });
    expect(ok.status).toBe(200);
    const replay = await call("/v1/resident/auth/tokens", { body: { mobile, code }, headers });
    expect(replay).toBeProblem(401, "code-invalid");

    const hmac = await accountHmac(ok.body.account.id);
    await sql().execute({
      sql: "UPDATE resident_codes SET created_at = '2000-01-01T00:00:00.000Z' WHERE mobile_hmac = ?",
      args: [hmac],
    });
    expect((await call("/v1/resident/auth/codes", { body: { mobile }, headers })).status).toBe(202);
    const late = await sunkCode(mobile);
    await sql().execute({
      sql: "UPDATE resident_codes SET expires_at = '2000-01-01T00:05:00.000Z' WHERE mobile_hmac = ? AND used_at IS NULL",
      args: [hmac],
    });
    expect(await call("/v1/resident/auth/tokens", { body: { mobile, code: late }, headers })).toBeProblem(
      401,
      "code-invalid",
    );

    const failures = await sql().execute({
      sql: "SELECT count(*) AS n FROM audit_log WHERE action = 'resident.sign_in' AND outcome = 'failure' AND request_id IS NOT NULL AND detail LIKE '%code%'",
      args: [],
    });
    expect(Number(failures.rows[0]!.n)).toBeGreaterThanOrEqual(2);
  });

  it("answers a code for a number that never asked for one with 401, and a malformed number with 400", async () => {
    const headers = { "cf-connecting-ip": freshIp() };
    expect(
      await call("/v1/resident/auth/tokens", { body: { mobile: freshMobile(), code: "123456" }, headers }),
    ).toBeProblem(401, "code-invalid");
    expect(await call("/v1/resident/auth/codes", { body: { mobile: "12345" }, headers })).toBeProblem(
      400,
      "bad-request",
    );
    expect(
      await call("/v1/resident/auth/tokens", { body: { mobile: freshMobile(), code: "12ab56" }, headers }),
    ).toBeProblem(400, "validation");
  });

  it("retires the earlier code when a new one is sent: only the newest is valid", async () => {
    const mobile = freshMobile();
    const headers = { "cf-connecting-ip": freshIp() };
    expect((await call("/v1/resident/auth/codes", { body: { mobile }, headers })).status).toBe(202);
    const old = await sunkCode(mobile);
    await sql().execute({
      sql: "UPDATE resident_codes SET created_at = '2000-01-01T00:00:00.000Z' WHERE used_at IS NULL AND created_at > ? AND ip = ?",
      args: [new Date(Date.now() - 60_000).toISOString(), headers["cf-connecting-ip"]],
    });
    expect((await call("/v1/resident/auth/codes", { body: { mobile }, headers })).status).toBe(202);
    const fresh = await sunkCode(mobile);
    if (old !== fresh) {
      expect(await call("/v1/resident/auth/tokens", { body: { mobile, code: old }, headers })).toBeProblem(
        401,
        "code-invalid",
      );
    }
    expect((await call("/v1/resident/auth/tokens", { body: { mobile, code: fresh }, headers })).status).toBe(
      200,
    );
  });

  it("limits codes per number (one a minute) and per client IP (twenty an hour), answering 429 with Retry-After", async () => {
    const ip = freshIp();
    const mobile = freshMobile();
    expect(
      (await call("/v1/resident/auth/codes", { body: { mobile }, headers: { "cf-connecting-ip": ip } }))
        .status,
    ).toBe(202);
    const soon = await call("/v1/resident/auth/codes", {
      body: { mobile },
      headers: { "cf-connecting-ip": freshIp() },
    });
    expect(soon).toBeProblem(429, "code-throttled");
    expect(Number(soon.headers.get("retry-after"))).toBeGreaterThan(0);

    for (let i = 0; i < 19; i++) {
      const res = await call("/v1/resident/auth/codes", {
        body: { mobile: freshMobile() },
        headers: { "cf-connecting-ip": ip },
      });
      expect(res.status, res.text).toBe(202);
    }
    const other = freshMobile();
    const refused = await call("/v1/resident/auth/codes", {
      body: { mobile: other },
      headers: { "cf-connecting-ip": ip },
    });
    expect(refused).toBeProblem(429, "code-throttled");
    const sink = await call(`/v1/resident/dev/codes?mobile=${other}`);
    expect(sink.body.items).toEqual([]);
    const denials = await sql().execute({
      sql: "SELECT count(*) AS n FROM audit_log WHERE action = 'resident.code_sent' AND outcome = 'denied' AND detail LIKE ?",
      args: [`%${other.slice(-4)}%`],
    });
    expect(Number(denials.rows[0]!.n)).toBe(1);
  });

  it("throttles code guesses per number and IP: the sixth wrong guess in 15 minutes is 429", async () => {
    const mobile = freshMobile();
    const headers = { "cf-connecting-ip": freshIp() };
    expect((await call("/v1/resident/auth/codes", { body: { mobile }, headers })).status).toBe(202);
    const code = await sunkCode(mobile);
    const wrong = code === "999999" ? "999998" : "999999";
    for (let i = 0; i < 5; i++) {
      expect(await call("/v1/resident/auth/tokens", { body: { mobile, code: wrong }, headers })).toBeProblem(
        401,
        "code-invalid",
      );
    }
    expect(await call("/v1/resident/auth/tokens", { body: { mobile, code }, headers })).toBeProblem(
      429,
      "login-throttled",
    );
  });

  it("keeps the audiences apart: a resident token is refused by staff routes, a staff token by resident routes", async () => {
    const { token } = await signUp();
    const tree = await makeTree();
    const worker = await makeUser("grid_worker", tree.grid);
    expect(await call("/v1/me", { token })).toBeProblem(401, "unauthorized");
    expect(await call(`/v1/units/${tree.grid.id}`, { token })).toBeProblem(401, "unauthorized");
    expect(await call("/v1/resident/me", { token: worker.token })).toBeProblem(401, "unauthorized");
    expect(await call("/v1/resident/reports", { token: worker.token })).toBeProblem(401, "unauthorized");
    expect(await call("/v1/resident/me")).toBeProblem(401, "unauthorized");
  });
});
