import { beforeAll, describe, expect, it, vi } from "vitest";
import { api, read } from "../support/client";
import { makeTree, makeUser, sql, type TestTree, type TestUser } from "../support/helpers";

let tree: TestTree;
let admin: TestUser;

beforeAll(async () => {
  tree = await makeTree();
  admin = await makeUser("admin", tree.city);
});

async function disable(user: TestUser) {
  const res = await read(
    await api(admin.token).v1.users[":id"].$patch({
      param: { id: user.id },
      json: { disabled: true },
      header: {},
    }),
  );
  expect(res.status).toBe(200);
}

describe("revoking a disabled user's access tokens", () => {
  it("refuses the old token's writes and reveals at once (401), while plain reads go on until it expires", async () => {
    const user = await makeUser("grid_worker", tree.grid);
    // Before: the token writes and asks for reveals (404: the household does not exist, past the check).
    const before = await read(
      await api(user.token).v1.households[":id"].$get({
        param: { id: crypto.randomUUID() },
        query: { reveal: "true" },
        header: { "x-purpose": "case_handling" },
      }),
    );
    expect(before).toBeProblem(404);

    await disable(user);
    const stored = await sql().execute({
      sql: "SELECT disabled, session_epoch FROM users WHERE id = ?",
      args: [user.id],
    });
    expect(stored.rows[0]).toMatchObject({ disabled: 1, session_epoch: 1 });

    const write = await read(await api(user.token).v1.auth.logout.$post({ json: { all: true } }));
    expect(write).toBeProblem(401);
    expect(write.body).toMatchObject({ detail: "The session was revoked; log in again" });
    const reveal = await read(
      await api(user.token).v1.households[":id"].$get({
        param: { id: crypto.randomUUID() },
        query: { reveal: "true" },
        header: { "x-purpose": "case_handling" },
      }),
    );
    expect(reveal).toBeProblem(401);
    const search = await read(
      await api(user.token).v1.households.$get({
        query: { q: "610902197504121031" },
        header: { "x-purpose": "verification" },
      }),
    );
    expect(search).toBeProblem(401);
    // A masked read is not checked against the revocation: it goes on until the token expires (≤ 15 minutes).
    expect((await read(await api(user.token).v1.me.$get())).status).toBe(200);
  });

  it("reads a session state again once it is 3.5 s old, so a user's requests do not all miss when it expires", async () => {
    const user = await makeUser("grid_worker", tree.grid);
    const reveal = async () =>
      read(
        await api(user.token).v1.households[":id"].$get({
          param: { id: crypto.randomUUID() },
          query: { reveal: "true" },
          header: { "x-purpose": "case_handling" },
        }),
      );
    expect(await reveal()).toBeProblem(404);
    // Disabled behind this isolate's back (no forgetting here), as another isolate's change would be.
    await sql().execute({ sql: "UPDATE users SET disabled = 1 WHERE id = ?", args: [user.id] });
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + 4_000);
      expect(await reveal()).toBeProblem(401);
    } finally {
      vi.useRealTimers();
    }
  });

  it("a password reset revokes the user's older tokens for writes too", async () => {
    const user = await makeUser("grid_worker", tree.grid);
    const reset = await read(
      await api(admin.token).v1.users[":id"].$patch({
        param: { id: user.id },
        json: { password: "新的口令 new password" },
        header: {},
      }),
    );
    expect(reset.status).toBe(200);
    expect(await read(await api(user.token).v1.auth.logout.$post({ json: { all: true } }))).toBeProblem(401);
  });

  it("a plain update (a new display name) keeps the user's tokens", async () => {
    const user = await makeUser("grid_worker", tree.grid);
    const renamed = await read(
      await api(admin.token).v1.users[":id"].$patch({
        param: { id: user.id },
        json: { displayName: "网格员 张三" },
        header: {},
      }),
    );
    expect(renamed.status).toBe(200);
    expect((await read(await api(user.token).v1.auth.logout.$post({ json: { all: true } }))).status).toBe(
      204,
    );
  });
});
