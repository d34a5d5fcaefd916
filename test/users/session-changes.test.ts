import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createApp } from "../../src/app";
import { api, read } from "../support/client";
import { makeTree, makeUser, sql, type TestTree, type TestUser } from "../support/helpers";

let tree: TestTree;

beforeAll(async () => {
  tree = await makeTree();
});

afterEach(() => {
  vi.useRealTimers();
});

/**
 * A reveal of an unknown household against `libsqlUrl`: 404 past the session check, 401 when the session was
 * revoked, 503 past the check when libSQL is down. With the number of libSQL round trips it took.
 */
async function revealAt(user: TestUser, libsqlUrl: string = env.LIBSQL_URL) {
  const res = await createApp().fetch(
    new Request(`https://grid321.test/v1/households/${crypto.randomUUID()}?reveal=true`, {
      headers: { authorization: `Bearer ${user.token}`, "x-purpose": "case_handling" },
    }),
    { ...env, LIBSQL_URL: libsqlUrl } as Cloudflare.Env,
  );
  const timing = res.headers.get("server-timing") ?? "";
  const db = Number(/db;[^,]*desc="n=(\d+)"/.exec(timing)?.[1] ?? 0);
  return { status: res.status, db };
}

const down = "http://127.0.0.1:9";

async function disableBehindTheIsolatesBack(user: TestUser) {
  await sql().execute({ sql: "UPDATE users SET disabled = 1 WHERE id = ?", args: [user.id] });
  const stored = await sql().execute({
    sql: "SELECT disabled, session_changed_at FROM users WHERE id = ?",
    args: [user.id],
  });
  // Stamped by the database's trigger, whatever wrote the change.
  expect(Number(stored.rows[0]!.disabled)).toBe(1);
  expect(Number(stored.rows[0]!.session_changed_at)).toBeGreaterThan(Date.now() - 60_000);
}

describe("session changes read once for the isolate", () => {
  it("checks many users' writes with no read of their own, and refuses a user disabled elsewhere within 5 s", async () => {
    const a = await makeUser("grid_worker", tree.grid);
    const b = await makeUser("grid_worker", tree.grid);
    const c = await makeUser("grid_worker", tree.grid);
    const started = Date.now();
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(started);
    expect((await revealAt(a)).status).toBe(404);
    await disableBehindTheIsolatesBack(a);
    // A second later two users never seen before are checked against the view read at the start: no read.
    vi.setSystemTime(started + 1_000);
    const first = await revealAt(b);
    const second = await revealAt(c);
    expect(first.status).toBe(404);
    expect(second.status).toBe(404);
    expect(second.db).toBe(first.db);
    // Past 5 s the next check reads the changes again: one round trip more, and a's is among them.
    vi.setSystemTime(started + 6_000);
    const stale = await revealAt(b);
    expect(stale.status).toBe(404);
    expect(stale.db).toBe(first.db + 1);
    expect((await revealAt(a)).status).toBe(401);
    expect((await revealAt(c)).status).toBe(404);
  });

  it("applies a revocation made in this isolate at once", async () => {
    const admin = await makeUser("admin", tree.city);
    const a = await makeUser("grid_worker", tree.grid);
    const b = await makeUser("grid_worker", tree.grid);
    expect((await revealAt(a)).status).toBe(404);
    const disabled = await read(
      await api(admin.token).v1.users[":id"].$patch({
        param: { id: a.id },
        json: { disabled: true },
        header: {},
      }),
    );
    expect(disabled.status).toBe(200);
    expect((await revealAt(a)).status).toBe(401);
    expect((await revealAt(b)).status).toBe(404);
  });

  it("goes on with the last view while libSQL is unreachable: a revoked user stays refused, the others get through", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const a = await makeUser("grid_worker", tree.grid);
    const b = await makeUser("grid_worker", tree.grid);
    const started = Date.now();
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(started);
    expect((await revealAt(b)).status).toBe(404);
    await disableBehindTheIsolatesBack(a);
    vi.setSystemTime(started + 6_000);
    expect((await revealAt(b)).status).toBe(404);
    // The view is past its age and cannot be read again: a is refused on what the isolate last read, and b
    // gets past the check to the household read, which fails with 503.
    vi.setSystemTime(started + 12_000);
    expect((await revealAt(a, down)).status).toBe(401);
    expect((await revealAt(b, down)).status).toBe(503);
  });

  it("does not refuse anyone when a read ahead of time fails", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const a = await makeUser("grid_worker", tree.grid);
    const b = await makeUser("grid_worker", tree.grid);
    const started = Date.now();
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(started);
    expect((await revealAt(a)).status).toBe(404);
    // 4 s later b's check reads ahead, finds libSQL down, and goes on: 503 from the household read, not 401.
    vi.setSystemTime(started + 4_000);
    expect((await revealAt(b, down)).status).toBe(503);
    vi.setSystemTime(started + 4_500);
    expect((await revealAt(a)).status).toBe(404);
    const stored = await sql().execute({ sql: "SELECT disabled FROM users WHERE id = ?", args: [a.id] });
    expect(Number(stored.rows[0]!.disabled)).toBe(0);
  });
});
