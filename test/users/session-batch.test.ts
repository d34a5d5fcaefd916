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

/** A reveal of an unknown household: 404 past the session check, 401 when the session was revoked. */
async function reveal(user: TestUser) {
  return read(
    await api(user.token).v1.households[":id"].$get({
      param: { id: crypto.randomUUID() },
      query: { reveal: "true" },
      header: { "x-purpose": "case_handling" },
    }),
  );
}

describe("session states read together", () => {
  it("reads the states of other active users with one user's read, and still refuses a disabled user within 5 s", async () => {
    const a = await makeUser("grid_worker", tree.grid);
    const b = await makeUser("grid_worker", tree.grid);
    const started = Date.now();
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(started);
    expect(await reveal(a)).toBeProblem(404);
    // 4 s later a's state is due for a refresh; b's first check reads it along with b's own.
    vi.setSystemTime(started + 4_000);
    expect(await reveal(b)).toBeProblem(404);
    // Disabled behind this isolate's back, as another isolate's change would be.
    await sql().execute({ sql: "UPDATE users SET disabled = 1 WHERE id = ?", args: [a.id] });
    // Half a second later a's state is the one b's check read at 4 s: a's own request reads nothing.
    vi.setSystemTime(started + 4_500);
    expect(await reveal(a)).toBeProblem(404);
    // Within 5 s of that read a is refused: the bound is the same for a state read along with another's.
    vi.setSystemTime(started + 8_000);
    expect(await reveal(a)).toBeProblem(401);
  });

  it("does not read along a user whose state was forgotten by a revocation in this isolate", async () => {
    const admin = await makeUser("admin", tree.city);
    const a = await makeUser("grid_worker", tree.grid);
    const b = await makeUser("grid_worker", tree.grid);
    expect(await reveal(a)).toBeProblem(404);
    const disabled = await read(
      await api(admin.token).v1.users[":id"].$patch({
        param: { id: a.id },
        json: { disabled: true },
        header: {},
      }),
    );
    expect(disabled.status).toBe(200);
    expect(await reveal(b)).toBeProblem(404);
    expect(await reveal(a)).toBeProblem(401);
  });

  it("keeps the states read along when the read fails: a user taken along is not refused for it", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const a = await makeUser("grid_worker", tree.grid);
    const b = await makeUser("grid_worker", tree.grid);
    const revealAt = async (user: TestUser, libsqlUrl: string) =>
      (
        await createApp().fetch(
          new Request(`https://grid321.test/v1/households/${crypto.randomUUID()}?reveal=true`, {
            headers: { authorization: `Bearer ${user.token}`, "x-purpose": "case_handling" },
          }),
          { ...env, LIBSQL_URL: libsqlUrl },
        )
      ).status;
    const started = Date.now();
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(started);
    expect(await revealAt(a, env.LIBSQL_URL)).toBe(404);
    expect(await revealAt(b, env.LIBSQL_URL)).toBe(404);
    // 4 s later both states are due for a refresh: b's refresh takes a's along, and finds libSQL down.
    vi.setSystemTime(started + 4_000);
    expect(await revealAt(b, "http://127.0.0.1:9")).toBe(503);
    // The failed read said nothing about a: a is still an active, enabled user and is let in.
    vi.setSystemTime(started + 4_500);
    expect(await revealAt(a, env.LIBSQL_URL)).toBe(404);
    const stored = await sql().execute({ sql: "SELECT disabled FROM users WHERE id = ?", args: [a.id] });
    expect(Number(stored.rows[0]!.disabled)).toBe(0);
  });
});
