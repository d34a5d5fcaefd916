import { describe, expect, it } from "vitest";
import { makeWorld, report } from "../support/case-fixtures";
import { call, sql } from "../support/helpers";

describe("out-of-scope case reads are audited", () => {
  it("answers another grid's worker 404 and leaves one denied audit row per minute, however often it asks", async () => {
    const world = await makeWorld();
    const created = await report(world.gridWorker, { title: "三组路口井盖缺失" });
    for (let i = 0; i < 4; i++) {
      expect(await call(`/v1/cases/${created.id}`, { token: world.otherGridWorker.token })).toBeProblem(404);
    }
    const rows = await sql().execute({
      sql: "SELECT action, actor_id, outcome, object_type FROM audit_log WHERE object_id = ? AND outcome = 'denied'",
      args: [created.id],
    });
    expect(rows.rows.map((r) => ({ ...r }))).toEqual([
      { action: "case.read", actor_id: world.otherGridWorker.id, outcome: "denied", object_type: "case" },
    ]);
    // The grid's own worker reads it, and that read is not a denial.
    const own = await call(`/v1/cases/${created.id}`, { token: world.gridWorker.token });
    expect(own.status).toBe(200);
    expect(own.body.id).toBe(created.id);
  });
});
