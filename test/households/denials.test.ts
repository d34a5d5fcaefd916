import { describe, expect, it } from "vitest";
import { api, read } from "../support/client";
import { makeTree, makeUser, sql } from "../support/helpers";
import { household, resident } from "../support/household-fixtures";

/** Waits until at least `ms` remain in the current UTC minute, so a burst stays inside one minute. */
async function awayFromMinuteEdge(ms = 5_000) {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < ms) await new Promise((r) => setTimeout(r, left + 50));
}

describe("denied requests for households and residents", () => {
  it("5 out-of-scope reads within a minute leave one audit row per resource and reason", async () => {
    const tree = await makeTree();
    const owner = await makeUser("grid_worker", tree.grid);
    const outsider = await makeUser("grid_worker", tree.otherGrid);
    const person = { ...resident(), relationship: "head" as const };
    const created = await read(
      await api(owner.token).v1.households.$post({ json: { ...household(tree.grid), residents: [person] } }),
    );
    const householdId = (created.body as { id: string }).id;
    const rows = await sql().execute({
      sql: "SELECT id FROM residents WHERE household_id = ?",
      args: [householdId],
    });
    const residentId = String(rows.rows[0]!.id);

    await awayFromMinuteEdge();
    const client = api(outsider.token).v1;
    for (let i = 0; i < 5; i++) {
      const h = await read(
        await client.households[":id"].$get({ param: { id: householdId }, query: {}, header: {} }),
      );
      expect(h).toBeProblem(404);
      const r = await read(
        await client.residents[":id"].$get({ param: { id: residentId }, query: {}, header: {} }),
      );
      expect(r).toBeProblem(404);
    }
    const audit = await sql().execute({
      sql: "SELECT action, object_type, object_id, outcome, scope_path, detail FROM audit_log WHERE actor_id = ? ORDER BY seq",
      args: [outsider.id],
    });
    expect(audit.rows.map((r) => [r.action, r.object_id, r.outcome])).toEqual([
      ["household.access", householdId, "denied"],
      ["resident.access", residentId, "denied"],
    ]);
    expect(audit.rows[0]).toMatchObject({ scope_path: tree.grid.path });
    expect(JSON.parse(String(audit.rows[0]!.detail))).toMatchObject({ reason: "out_of_scope" });

    // A missing household is not a denial: nothing to protect, nothing recorded.
    const missing = await read(
      await client.households[":id"].$get({ param: { id: crypto.randomUUID() }, query: {}, header: {} }),
    );
    expect(missing).toBeProblem(404);
    const after = await sql().execute({
      sql: "SELECT count(*) AS n FROM audit_log WHERE actor_id = ?",
      args: [outsider.id],
    });
    expect(Number(after.rows[0]!.n)).toBe(2);
  });

  it("parallel refused reveals by a masked role leave exactly one audit row", async () => {
    const tree = await makeTree();
    const owner = await makeUser("grid_worker", tree.grid);
    const leader = await makeUser("leader", tree.village);
    const person = { ...resident(), relationship: "head" as const };
    const created = await read(
      await api(owner.token).v1.households.$post({ json: { ...household(tree.grid), residents: [person] } }),
    );
    const rows = await sql().execute({
      sql: "SELECT id FROM residents WHERE household_id = ?",
      args: [(created.body as { id: string }).id],
    });
    const residentId = String(rows.rows[0]!.id);
    await awayFromMinuteEdge();
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        api(leader.token).v1.residents[":id"].$get({
          param: { id: residentId },
          query: { reveal: "true" },
          header: { "x-purpose": "verification" },
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(403));
    const audit = await sql().execute({
      sql: "SELECT action, outcome, detail FROM audit_log WHERE actor_id = ?",
      args: [leader.id],
    });
    expect(audit.rows).toHaveLength(1);
    expect(audit.rows[0]).toMatchObject({ action: "resident.reveal", outcome: "denied" });
    expect(JSON.parse(String(audit.rows[0]!.detail))).toMatchObject({ reason: "role" });
  });
});
