import { describe, expect, it } from "vitest";
import { api, read } from "../support/client";
import { makeTree, makeUser } from "../support/helpers";

describe("the typed client", () => {
  it("reads a unit through hc<AppType> and gets a problem for one outside scope", async () => {
    const tree = await makeTree();
    const worker = await makeUser("grid_worker", tree.grid);
    const own = await api(worker.token).v1.units[":id"].$get({ param: { id: tree.grid.id } });
    expect(own.status).toBe(200);
    const unit = await own.json();
    expect(unit).toMatchObject({ id: tree.grid.id, level: "grid", code: tree.grid.code });
    const other = await api(worker.token).v1.units[":id"].$get({ param: { id: tree.otherGrid.id } });
    expect(await read(other)).toBeProblem(404, "not-found");
  });
});
