import { beforeAll, describe, expect, it } from "vitest";
import { LOGIN_MAX_FAILURES_PER_IP, LOGIN_MAX_FAILURES_PER_USERNAME } from "../../src/domain/throttle";
import { makeTree, makeUser, sql, type TestTree } from "../support/helpers";
import { freshIp, loginFrom } from "./support";

const PASSWORD = "正确的口令 correct horse";
let tree: TestTree;

beforeAll(async () => {
  tree = await makeTree();
});

async function count(query: string, ...args: string[]): Promise<number> {
  return Number((await sql().execute({ sql: query, args })).rows[0]!.n);
}

/** Stored failures, as the throttle claims them before each password check. */
async function insertFailures(rows: Array<{ username: string; ip: string }>) {
  const at = new Date().toISOString();
  await sql().batch(
    rows.map((r) => ({
      sql: "INSERT INTO login_failures (username, ip, kind, at) VALUES (?, ?, 'password', ?)",
      args: [r.username, r.ip, at],
    })),
    "write",
  );
}

describe("login throttling", () => {
  it("admits at most 5 password checks for 100 parallel attempts from one (username, IP), and the rest get 429", async () => {
    const user = await makeUser("grid_worker", tree.grid, PASSWORD);
    const ip = freshIp();
    const tag = `burst-${crypto.randomUUID()}`;
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        loginFrom(user.username, i === 61 ? PASSWORD : `错误口令-${i}`, ip, `${tag}-${i}`),
      ),
    );
    const statuses = results.map((r) => r.status);
    const checked = statuses.filter((s) => s === 200 || s === 401).length;
    expect(checked).toBeGreaterThanOrEqual(1);
    expect(checked).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(100 - checked);
    for (const r of results.filter((x) => x.status === 429)) {
      expect(r).toBeProblem(429, "login-throttled");
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
    }
    // Every password check leaves exactly one audit row, success or failure: count them.
    const checks = await count(
      "SELECT count(*) AS n FROM audit_log WHERE request_id LIKE ? AND action = 'auth.login' AND outcome IN ('success', 'failure')",
      `${tag}-%`,
    );
    expect(checks).toBe(checked);
    const failures = await count(
      "SELECT count(*) AS n FROM login_failures WHERE username = ? AND ip = ?",
      user.username,
      ip,
    );
    expect(failures).toBeLessThanOrEqual(5);
    // Throttled refusals are audited without flooding: at most one row a minute.
    const denied = await count(
      "SELECT count(*) AS n FROM audit_log WHERE request_id LIKE ? AND outcome = 'denied'",
      `${tag}-%`,
    );
    expect(denied).toBeLessThanOrEqual(2);
  });

  it("lets the right password in from another IP while one IP is throttled for the username", async () => {
    const user = await makeUser("grid_worker", tree.grid, PASSWORD);
    const attacker = freshIp();
    for (let i = 0; i < 5; i++)
      expect((await loginFrom(user.username, `猜测-${i}`, attacker)).status).toBe(401);
    const blocked = await loginFrom(user.username, PASSWORD, attacker);
    expect(blocked).toBeProblem(429, "login-throttled");
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(14 * 60);

    const real = await loginFrom(user.username, PASSWORD, freshIp());
    expect(real.status).toBe(200);
    expect(real.body).toMatchObject({ user: { id: user.id } });
    // The attacker's failures still stand after the real user's success.
    expect(
      await count(
        "SELECT count(*) AS n FROM login_failures WHERE username = ? AND ip = ?",
        user.username,
        attacker,
      ),
    ).toBe(5);
  });

  it("refuses an IP past its ceiling over every username, whatever the username", async () => {
    const user = await makeUser("grid_worker", tree.grid, PASSWORD);
    const ip = freshIp();
    await insertFailures(
      Array.from({ length: LOGIN_MAX_FAILURES_PER_IP }, (_, i) => ({ username: `spray-${i}-${ip}`, ip })),
    );
    const res = await loginFrom(user.username, PASSWORD, ip);
    expect(res).toBeProblem(429, "login-throttled");
    expect((await loginFrom(user.username, PASSWORD, freshIp())).status).toBe(200);
  });

  it("refuses a username past its ceiling over every IP, and alerts the city centre once", async () => {
    const user = await makeUser("center_staff", tree.village, PASSWORD);
    await insertFailures(
      Array.from({ length: LOGIN_MAX_FAILURES_PER_USERNAME - 1 }, () => ({
        username: user.username,
        ip: freshIp(),
      })),
    );
    expect((await loginFrom(user.username, "最后一次猜测", freshIp())).status).toBe(401);
    const alertsBefore = await count(
      "SELECT count(*) AS n FROM inbox_items WHERE unit_id = ? AND kind = 'alert' AND payload LIKE ?",
      tree.city.id,
      `%${user.username}%`,
    );
    expect(alertsBefore).toBe(0);

    const requestId = `ceiling-${crypto.randomUUID()}`;
    const refused = await loginFrom(user.username, PASSWORD, freshIp(), requestId);
    expect(refused).toBeProblem(429, "login-throttled");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await loginFrom(user.username, PASSWORD, freshIp())).status).toBe(429);

    const alerts = await sql().execute({
      sql: "SELECT unit_id, payload FROM inbox_items WHERE unit_id = ? AND kind = 'alert' AND payload LIKE ?",
      args: [tree.city.id, `%${user.username}%`],
    });
    expect(alerts.rows).toHaveLength(1);
    expect(JSON.parse(String(alerts.rows[0]!.payload))).toMatchObject({
      alert: "auth.login_ceiling_reached",
      username: user.username,
      userId: user.id,
      limit: LOGIN_MAX_FAILURES_PER_USERNAME,
    });
    const audit = await sql().execute({
      sql: "SELECT action, outcome, detail FROM audit_log WHERE request_id = ? ORDER BY seq",
      args: [requestId],
    });
    expect(audit.rows.map((r) => [r.action, r.outcome])).toEqual([
      ["auth.login_ceiling_reached", "denied"],
      ["auth.login", "denied"],
    ]);
    expect(JSON.parse(String(audit.rows[1]!.detail))).toMatchObject({ by: "username", reason: "throttled" });
  });
});
