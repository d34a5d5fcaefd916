import { describe, expect, it } from "vitest";
import { call, makeTree, makeUser, sql, type TestTree, type TestUnit } from "../support/helpers";

/** Puts a case straight into the libSQL projection, with the events the GridDesk would have recorded. */
async function projected(
  owning: TestUnit,
  responsible: TestUnit,
  state: string,
  createdAt: string,
  events: string[] = [],
) {
  const id = crypto.randomUUID();
  await sql().execute({
    sql: `INSERT INTO cases (id, owning_unit_id, owning_unit_path, responsible_unit_id, responsible_unit_path,
            responsible_level, type, severity, state, title, description, reporter_id, version, seq, created_at,
            updated_at, projected_at, doc)
          VALUES (?, ?, ?, ?, ?, ?, 'livelihood', 'normal', ?, 't', 'd', 'r', ?, ?, ?, ?, ?, '{}')`,
    args: [
      id,
      owning.id,
      owning.path,
      responsible.id,
      responsible.path,
      responsible.level,
      state,
      events.length + 1,
      events.length + 1,
      createdAt,
      createdAt,
      createdAt,
    ],
  });
  for (const [i, type] of ["reported", ...events].entries()) {
    await sql().execute({
      sql: "INSERT INTO case_events (case_id, seq, type, at, payload) VALUES (?, ?, ?, ?, '{}')",
      args: [id, i + 1, type, createdAt],
    });
  }
  return id;
}

async function arrange(tree: TestTree) {
  const may = "2026-05-10T00:00:00.000Z";
  // Grid: 4 cases — 2 resolved in the grid on time, 1 escalated to the village and resolved there late, 1 open.
  await projected(tree.grid, tree.grid, "closed", may, ["accepted", "resolved", "closed"]);
  await projected(tree.grid, tree.grid, "resolved", may, ["accepted", "resolved"]);
  await projected(tree.grid, tree.village, "resolved", may, ["accepted", "overdue", "escalated", "resolved"]);
  await projected(tree.grid, tree.grid, "in_progress", may, ["accepted", "warned"]);
  // Subgrid: 2 cases — 1 escalated twice and resolved at the town, 1 rejected.
  await projected(tree.subgrid, tree.town, "closed", may, [
    "accepted",
    "overdue",
    "escalated",
    "escalated",
    "resolved",
    "closed",
  ]);
  await projected(tree.subgrid, tree.subgrid, "rejected", may, ["rejected"]);
  // Outside the period and outside the subtree: not counted.
  await projected(tree.grid, tree.grid, "closed", "2026-03-01T00:00:00.000Z", ["resolved", "closed"]);
  await projected(tree.otherGrid, tree.otherGrid, "closed", may, ["resolved", "closed"]);
}

describe("GET /v1/units/{id}/resolution-levels", () => {
  it("gives the share resolved at each level, on-time and overdue rates and the escalation rate per grid", async () => {
    const tree = await makeTree();
    await arrange(tree);
    const staff = await makeUser("center_staff", tree.village);
    const res = await call(
      `/v1/units/${tree.village.id}/resolution-levels?from=2026-05-01T00:00:00Z&to=2026-06-01T00:00:00Z`,
      { token: staff.token },
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      cases: 6,
      resolved: 4,
      onTimeRate: 0.5,
      overdueRate: 2 / 6,
      escalationRate: 2 / 6,
    });
    const share = Object.fromEntries(res.body.resolvedAtLevel.map((l: any) => [l.level, l.share]));
    expect(share).toEqual({ grid: 0.5, village: 0.25, town: 0.25, county: 0, city: 0 });
    const grids = Object.fromEntries(res.body.grids.map((g: any) => [g.unitId, g]));
    expect(grids[tree.grid.id]).toMatchObject({
      cases: 4,
      escalated: 1,
      escalationRate: 0.25,
      level: "grid",
    });
    expect(grids[tree.subgrid.id]).toMatchObject({ cases: 2, escalated: 1, escalationRate: 0.5 });
    expect(res.body.grids).toHaveLength(2);
  });

  it("pages the per-grid list and answers null rates for an empty period", async () => {
    const tree = await makeTree();
    await arrange(tree);
    const staff = await makeUser("center_staff", tree.town);
    // The town's subtree holds three reporting grids: grid and subgrid (village) and otherGrid (village2).
    const path = `/v1/units/${tree.town.id}/resolution-levels?from=2026-05-01T00:00:00Z&to=2026-06-01T00:00:00Z&limit=2`;
    const first = await call(path, { token: staff.token });
    expect(first.body.grids).toHaveLength(2);
    expect(first.body.cases).toBe(7);
    const second = await call(`${path}&cursor=${first.body.nextCursor}`, { token: staff.token });
    expect(second.body.grids).toHaveLength(1);
    expect(second.body.nextCursor).toBeNull();
    expect([...first.body.grids, ...second.body.grids].map((g: any) => g.unitId).sort()).toEqual(
      [tree.grid.id, tree.subgrid.id, tree.otherGrid.id].sort(),
    );

    const empty = await call(
      `/v1/units/${tree.town.id}/resolution-levels?from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z`,
      {
        token: staff.token,
      },
    );
    expect(empty.body).toMatchObject({
      cases: 0,
      onTimeRate: null,
      overdueRate: null,
      escalationRate: null,
      grids: [],
    });
  });

  it("refuses a missing or reversed period with 400, and foreign units with 404", async () => {
    const tree = await makeTree();
    const staff = await makeUser("center_staff", tree.village);
    const base = `/v1/units/${tree.village.id}/resolution-levels`;
    for (const q of [
      "",
      "?from=2026-05-01T00:00:00Z",
      "?from=2026-06-01T00:00:00Z&to=2026-05-01T00:00:00Z",
      "?from=yesterday&to=today",
    ]) {
      expect(await call(`${base}${q}`, { token: staff.token })).toBeProblem(400);
    }
    const foreign = `/v1/units/${tree.village2.id}/resolution-levels?from=2026-05-01T00:00:00Z&to=2026-06-01T00:00:00Z`;
    expect(await call(foreign, { token: staff.token })).toBeProblem(404);
  });
});
