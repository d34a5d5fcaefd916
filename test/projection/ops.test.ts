import { describe, expect, it } from "vitest";
import { api, read } from "../support/client";
import { makeTree, makeUser } from "../support/helpers";

describe("GET /v1/ops/projection-lag", () => {
  it("is for administrators only, and refuses a forged cursor", async () => {
    const tree = await makeTree();
    const staff = await makeUser("center_staff", tree.city);
    const admin = await makeUser("admin", tree.city);
    const refused = await api(staff.token).v1.ops["projection-lag"].$get({ query: {} });
    expect(await read(refused)).toBeProblem(403);
    const forged = await api(admin.token).v1.ops["projection-lag"].$get({
      query: { cursor: "bm90LWEtY3Vyc29y" },
    });
    expect(await read(forged)).toBeProblem(400);
    const empty = await api(admin.token).v1.ops["projection-lag"].$get({ query: { limit: "5" } });
    expect(await read(empty)).toMatchObject({ status: 200, body: { items: [], nextCursor: null } });
  });
});
