import { beforeAll, describe, expect, it } from "vitest";
import { base32Decode, TOTP_STEP_SECONDS, totp } from "../../src/domain/totp";
import { sha256Hex } from "../../src/platform/crypto/tokens";
import { api, read } from "../support/client";
import { makeTree, makeUser, sql, type TestTree, type TestUser } from "../support/helpers";
import { answerChallenge, freshIp, jwtPayload, loginFrom, passwordOnlyToken } from "./support";

const PASSWORD = "两步验证 second factor";
let tree: TestTree;
let admin: TestUser;

beforeAll(async () => {
  tree = await makeTree();
  admin = await makeUser("admin", tree.city);
});

async function factorRow(userId: string) {
  const rs = await sql().execute({
    sql: "SELECT * FROM user_second_factors WHERE user_id = ?",
    args: [userId],
  });
  return rs.rows[0];
}

/** Logs in (password only) and enrols and confirms a factor; returns the secret and the recovery codes. */
async function enrolled(user: TestUser, ip = freshIp()) {
  const first = await loginFrom(user.username, PASSWORD, ip);
  expect(first.status).toBe(200);
  const token = (first.body as { accessToken: string }).accessToken;
  const start = await read(await api(token).v1.auth["second-factor"].enrolment.$post());
  expect(start.status).toBe(201);
  const secret = base32Decode((start.body as { secret: string }).secret);
  const confirm = await read(
    await api(token).v1.auth["second-factor"].confirmation.$post({
      json: { code: await totp(secret, Date.now() - TOTP_STEP_SECONDS * 1000) },
      header: { "cf-connecting-ip": ip },
    }),
  );
  expect(confirm.status).toBe(200);
  return { secret, recoveryCodes: (confirm.body as { recoveryCodes: string[] }).recoveryCodes, token };
}

/** Password step of a login for a user with a factor: the challenge. */
async function challengeFor(user: TestUser, ip: string): Promise<string> {
  const res = await loginFrom(user.username, PASSWORD, ip);
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ methods: ["totp", "recovery"], expiresIn: 300 });
  expect(res.body).not.toHaveProperty("accessToken");
  return (res.body as { challenge: string }).challenge;
}

describe("TOTP enrolment", () => {
  it("a privileged user without a factor logs in read-only, enrols, confirms, and gets ten recovery codes stored hashed", async () => {
    const user = await makeUser("center_staff", tree.county, PASSWORD);
    const ip = freshIp();
    const first = await loginFrom(user.username, PASSWORD, ip);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ amr: ["pwd"], secondFactorEnrollmentRequired: true });
    const token = (first.body as { accessToken: string }).accessToken;
    expect(jwtPayload(token).amr).toEqual(["pwd"]);

    // Reads go on; writes (other than enrolment) and reveals need the second factor.
    expect((await read(await api(token).v1.me.$get())).status).toBe(200);
    const write = await read(
      await api(token).v1.users[":id"].$patch({
        param: { id: user.id },
        json: { displayName: "改名" },
        header: {},
      }),
    );
    expect(write).toBeProblem(403, "second-factor-required");
    const reveal = await read(
      await api(token).v1.households[":id"].$get({
        param: { id: crypto.randomUUID() },
        query: { reveal: "true" },
        header: { "x-purpose": "case_handling" },
      }),
    );
    expect(reveal).toBeProblem(403, "second-factor-required");

    const status = await read(await api(token).v1.auth["second-factor"].$get());
    expect(status.body).toEqual({
      enrolled: false,
      pendingConfirmation: false,
      required: true,
      recoveryCodesLeft: 0,
    });

    const start = await read(await api(token).v1.auth["second-factor"].enrolment.$post());
    expect(start.status).toBe(201);
    const { secret, otpauthUri } = start.body as { secret: string; otpauthUri: string };
    expect(otpauthUri).toContain(`otpauth://totp/grid321:${user.username}?secret=${secret}`);
    const pending = await factorRow(user.id);
    expect(pending).toMatchObject({ confirmed_at: null, last_used_step: null });
    expect(String(pending!.secret_enc)).toMatch(/^v1\./);
    expect(String(pending!.secret_enc)).not.toContain(secret);

    const wrong = await read(
      await api(token).v1.auth["second-factor"].confirmation.$post({
        json: {
          code: (Number(await totp(base32Decode(secret), Date.now())) ^ 1).toString().padStart(6, "0"),
        },
        header: { "cf-connecting-ip": ip },
      }),
    );
    expect(wrong).toBeProblem(400, "second-factor-code-invalid");
    expect((await factorRow(user.id))!.confirmed_at).toBeNull();

    const confirm = await read(
      await api(token).v1.auth["second-factor"].confirmation.$post({
        json: { code: await totp(base32Decode(secret), Date.now()) },
        header: { "cf-connecting-ip": ip },
      }),
    );
    expect(confirm.status).toBe(200);
    const codes = (confirm.body as { recoveryCodes: string[] }).recoveryCodes;
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$/);
    expect((await factorRow(user.id))!.confirmed_at).not.toBeNull();
    const stored = await sql().execute({
      sql: "SELECT code_hash FROM recovery_codes WHERE user_id = ? ORDER BY code_hash",
      args: [user.id],
    });
    const hashes = await Promise.all(codes.map((c) => sha256Hex(c.replace(/-/g, ""))));
    expect(stored.rows.map((r) => r.code_hash)).toEqual(hashes.sort());

    // A second enrolment over a confirmed factor is refused.
    expect(await read(await api(token).v1.auth["second-factor"].enrolment.$post())).toBeProblem(409);
  });
});

describe("login with a second factor", () => {
  it("asks for a code after the password and issues tokens with amr pwd+otp only after a valid one", async () => {
    const user = await makeUser("admin", tree.city, PASSWORD);
    const ip = freshIp();
    const { secret } = await enrolled(user, ip);
    const challenge = await challengeFor(user, ip);
    const tokensBefore = await sql().execute({
      sql: "SELECT count(*) AS n FROM refresh_tokens WHERE user_id = ?",
      args: [user.id],
    });

    const bad = await answerChallenge(challenge, "totp", "000000", ip);
    expect(bad).toBeProblem(401);
    const good = await answerChallenge(challenge, "totp", await totp(secret, Date.now()), ip);
    expect(good.status).toBe(200);
    const pair = good.body as { accessToken: string; refreshToken: string; amr: string[] };
    expect(pair).toMatchObject({ amr: ["pwd", "otp"], secondFactorEnrollmentRequired: false });
    expect(jwtPayload(pair.accessToken).amr).toEqual(["pwd", "otp"]);
    const tokensAfter = await sql().execute({
      sql: "SELECT count(*) AS n, max(amr) AS amr FROM refresh_tokens WHERE user_id = ?",
      args: [user.id],
    });
    expect(Number(tokensAfter.rows[0]!.n)).toBe(Number(tokensBefore.rows[0]!.n) + 1);
    expect(tokensAfter.rows[0]!.amr).toBe("pwd otp");

    // The second factor lets a privileged user write; a refresh keeps it.
    const write = await read(
      await api(pair.accessToken).v1.users[":id"].$patch({
        param: { id: user.id },
        json: { displayName: "平台管理员（两步）" },
        header: {},
      }),
    );
    expect(write.status).toBe(200);
    const refreshed = await read(
      await api().v1.auth.refresh.$post({ json: { refreshToken: pair.refreshToken } }),
    );
    expect(refreshed.body).toMatchObject({ amr: ["pwd", "otp"] });

    // The challenge is spent.
    expect(await answerChallenge(challenge, "totp", await totp(secret, Date.now() + 30_000), ip)).toBeProblem(
      401,
    );
  });

  it("refuses a code that was already used, even on a new challenge", async () => {
    const user = await makeUser("leader", tree.county, PASSWORD);
    const ip = freshIp();
    const { secret } = await enrolled(user, ip);
    const code = await totp(secret, Date.now());
    expect((await answerChallenge(await challengeFor(user, ip), "totp", code, ip)).status).toBe(200);
    const reuse = await answerChallenge(await challengeFor(user, ip), "totp", code, ip);
    expect(reuse).toBeProblem(401);
    const step = Math.floor(Date.now() / 1000 / TOTP_STEP_SECONDS);
    expect(Number((await factorRow(user.id))!.last_used_step)).toBeGreaterThanOrEqual(step);
  });

  it("accepts a recovery code once", async () => {
    const user = await makeUser("center_staff", tree.city, PASSWORD);
    const ip = freshIp();
    const { recoveryCodes } = await enrolled(user, ip);
    const code = recoveryCodes[3]!.toLowerCase();
    const first = await answerChallenge(await challengeFor(user, ip), "recovery", code, ip);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ amr: ["pwd", "otp"] });
    const again = await answerChallenge(await challengeFor(user, ip), "recovery", code, ip);
    expect(again).toBeProblem(401);
    const used = await sql().execute({
      sql: "SELECT count(*) AS n FROM recovery_codes WHERE user_id = ? AND used_at IS NOT NULL",
      args: [user.id],
    });
    expect(Number(used.rows[0]!.n)).toBe(1);
  });

  it("accepts a code one step early or late and refuses two steps off", async () => {
    const user = await makeUser("admin", tree.city, PASSWORD);
    const ip = freshIp();
    const { secret } = await enrolled(user, ip);
    const step = TOTP_STEP_SECONDS * 1000;
    expect(
      await answerChallenge(
        await challengeFor(user, ip),
        "totp",
        await totp(secret, Date.now() + 2 * step),
        ip,
      ),
    ).toBeProblem(401);
    expect(
      await answerChallenge(
        await challengeFor(user, ip),
        "totp",
        await totp(secret, Date.now() - 2 * step),
        ip,
      ),
    ).toBeProblem(401);
    // Enrolment confirmed the step before the current one, so the current step is the first one left.
    const late = await answerChallenge(
      await challengeFor(user, ip),
      "totp",
      await totp(secret, Date.now()),
      ip,
    );
    expect(late.status).toBe(200);
    const early = await answerChallenge(
      await challengeFor(user, ip),
      "totp",
      await totp(secret, Date.now() + step),
      ip,
    );
    expect(early.status).toBe(200);
  });

  it("throttles code guesses like passwords", async () => {
    const user = await makeUser("admin", tree.city, PASSWORD);
    const ip = freshIp();
    const { secret } = await enrolled(user, ip);
    const challenge = await challengeFor(user, ip);
    for (let i = 0; i < 5; i++)
      expect((await answerChallenge(challenge, "totp", "000000", ip)).status).toBe(401);
    const blocked = await answerChallenge(challenge, "totp", await totp(secret, Date.now()), ip);
    expect(blocked).toBeProblem(429, "login-throttled");
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("leaves users without a factor or a privileged role as they were: tokens at once", async () => {
    const user = await makeUser("grid_worker", tree.grid, PASSWORD);
    const res = await loginFrom(user.username, PASSWORD, freshIp());
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ amr: ["pwd"], secondFactorEnrollmentRequired: false });
  });
});

describe("disabling and resetting a second factor", () => {
  it("the user disables it with a current code; a wrong code is refused", async () => {
    const user = await makeUser("grid_worker", tree.grid, PASSWORD);
    const ip = freshIp();
    const { secret } = await enrolled(user, ip);
    const pair = await answerChallenge(
      await challengeFor(user, ip),
      "totp",
      await totp(secret, Date.now()),
      ip,
    );
    const token = (pair.body as { accessToken: string }).accessToken;
    const wrong = await read(
      await api(token).v1.auth["second-factor"].disable.$post({
        json: { method: "totp", code: "123456" },
        header: { "cf-connecting-ip": ip },
      }),
    );
    expect(wrong).toBeProblem(400, "second-factor-code-invalid");
    expect(await factorRow(user.id)).toBeDefined();
    const ok = await read(
      await api(token).v1.auth["second-factor"].disable.$post({
        json: { method: "totp", code: await totp(secret, Date.now() + 30_000) },
        header: { "cf-connecting-ip": ip },
      }),
    );
    expect(ok.status).toBe(204);
    expect(await factorRow(user.id)).toBeUndefined();
    expect((await loginFrom(user.username, PASSWORD, ip)).body).toHaveProperty("accessToken");
  });

  it("an admin resets a user's factor, which revokes the user's sessions", async () => {
    const user = await makeUser("center_staff", tree.county, PASSWORD);
    const ip = freshIp();
    const { secret } = await enrolled(user, ip);
    const pair = await answerChallenge(
      await challengeFor(user, ip),
      "totp",
      await totp(secret, Date.now()),
      ip,
    );
    const token = (pair.body as { accessToken: string }).accessToken;
    expect(
      await read(await api(token).v1.auth["second-factor"].reset.$post({ json: { userId: admin.id } })),
    ).toBeProblem(403);
    const requestId = `2fa-reset-${crypto.randomUUID()}`;
    const reset = await read(
      await api(admin.token, { "x-request-id": requestId }).v1.auth["second-factor"].reset.$post({
        json: { userId: user.id },
      }),
    );
    expect(reset.status).toBe(204);
    expect(await factorRow(user.id)).toBeUndefined();
    const audit = await sql().execute({
      sql: "SELECT action, object_id FROM audit_log WHERE request_id = ?",
      args: [requestId],
    });
    expect(audit.rows.map((r) => [r.action, r.object_id])).toEqual([["auth.second_factor_reset", user.id]]);
    expect(await read(await api(token).v1.auth.logout.$post({ json: { all: true } }))).toBeProblem(401);
  });

  it("a password-only token of a privileged role cannot reveal; the same user with otp reaches the route", async () => {
    const user = await makeUser("admin", tree.city);
    const pwdOnly = await passwordOnlyToken(user);
    const ask = (token: string) =>
      api(token).v1.households[":id"].$get({
        param: { id: crypto.randomUUID() },
        query: { reveal: "true" },
        header: { "x-purpose": "case_handling" },
      });
    expect(await read(await ask(pwdOnly))).toBeProblem(403, "second-factor-required");
    expect(await read(await ask(user.token))).toBeProblem(404);
  });
});
