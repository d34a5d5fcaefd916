import { describe, expect, it } from "vitest";
import { call, makeTree, makeUser, sql } from "../support/helpers";

const shortCritical = {
  caseType: "*",
  severity: "critical",
  acceptWithinSeconds: 60,
  acceptWarnBeforeSeconds: 20,
  resolveWithinSeconds: 120,
  resolveWarnBeforeSeconds: 30,
  escalateGraceSeconds: 60,
};

const entry = (body: any, caseType: string, severity: string) =>
  body.entries.find((e: any) => e.caseType === caseType && e.severity === severity);

async function stored(unitId: string) {
  const rows = await sql().execute({
    sql: "SELECT value FROM unit_settings WHERE unit_id = ? AND key = 'sla_policy'",
    args: [unitId],
  });
  return rows.rows[0] ? JSON.parse(String(rows.rows[0].value)) : null;
}

describe("GET /v1/units/{id}/sla-policy", () => {
  it("shows the defaults with no source when nothing is set", async () => {
    const tree = await makeTree();
    const staff = await makeUser("center_staff", tree.village);
    const res = await call(`/v1/units/${tree.grid.id}/sla-policy`, { token: staff.token });
    expect(res.status).toBe(200);
    expect(res.body.rules).toEqual([]);
    expect(res.body.entries).toHaveLength(27);
    expect(entry(res.body, "dispute", "normal").values).toMatchObject({
      acceptWithinSeconds: 86400,
      resolveWithinSeconds: 15 * 86400,
    });
    expect(entry(res.body, "emergency", "critical").values).toMatchObject({
      acceptWithinSeconds: 1800,
      resolveWithinSeconds: 86400,
    });
    expect(entry(res.body, "other", "urgent").sources.acceptWithinSeconds).toBeNull();
  });

  it("answers 404 for a unit outside the caller's subtree", async () => {
    const tree = await makeTree();
    const staff = await makeUser("center_staff", tree.village2);
    expect(await call(`/v1/units/${tree.grid.id}/sla-policy`, { token: staff.token })).toBeProblem(404);
  });
});

describe("PUT /v1/units/{id}/sla-policy", () => {
  it("sets a unit's own rules, which its subtree inherits with the unit named as source, and audits it", async () => {
    const tree = await makeTree();
    const staff = await makeUser("center_staff", tree.town);
    const res = await call(`/v1/units/${tree.village.id}/sla-policy`, {
      method: "PUT",
      token: staff.token,
      body: { rules: [shortCritical] },
    });
    expect(res.status).toBe(200);
    expect(entry(res.body, "dispute", "critical").values.acceptWithinSeconds).toBe(60);
    expect(await stored(tree.village.id)).toEqual([
      {
        caseType: "*",
        severity: "critical",
        values: {
          acceptWithinSeconds: 60,
          acceptWarnBeforeSeconds: 20,
          resolveWithinSeconds: 120,
          resolveWarnBeforeSeconds: 30,
          escalateGraceSeconds: 60,
        },
      },
    ]);

    const below = await call(`/v1/units/${tree.subgrid.id}/sla-policy`, { token: staff.token });
    const e = entry(below.body, "environment", "critical");
    expect(e.values.resolveWithinSeconds).toBe(120);
    expect(e.sources.resolveWithinSeconds).toBe(tree.village.id);
    expect(entry(below.body, "environment", "normal").sources.resolveWithinSeconds).toBeNull();

    const audit = await sql().execute({
      sql: "SELECT actor_id, action, outcome FROM audit_log WHERE object_id = ? AND action = 'sla-policy.update'",
      args: [tree.village.id],
    });
    expect(audit.rows).toEqual([expect.objectContaining({ actor_id: staff.id, outcome: "success" })]);
  });

  it("lets a nearer unit override one value and keeps the rest inherited", async () => {
    const tree = await makeTree();
    const admin = await makeUser("admin", tree.city);
    await call(`/v1/units/${tree.town.id}/sla-policy`, {
      method: "PUT",
      token: admin.token,
      body: { rules: [shortCritical] },
    });
    const res = await call(`/v1/units/${tree.grid.id}/sla-policy`, {
      method: "PUT",
      token: admin.token,
      body: { rules: [{ caseType: "dispute", severity: "critical", escalateGraceSeconds: 300 }] },
    });
    expect(res.status).toBe(200);
    const e = entry(res.body, "dispute", "critical");
    expect(e.values).toMatchObject({ acceptWithinSeconds: 60, escalateGraceSeconds: 300 });
    expect(e.sources).toMatchObject({
      acceptWithinSeconds: tree.town.id,
      escalateGraceSeconds: tree.grid.id,
    });
    expect(entry(res.body, "livelihood", "critical").sources.escalateGraceSeconds).toBe(tree.town.id);
  });

  it("removes a unit's own rules with an empty list", async () => {
    const tree = await makeTree();
    const admin = await makeUser("admin", tree.city);
    await call(`/v1/units/${tree.town.id}/sla-policy`, {
      method: "PUT",
      token: admin.token,
      body: { rules: [shortCritical] },
    });
    const res = await call(`/v1/units/${tree.town.id}/sla-policy`, {
      method: "PUT",
      token: admin.token,
      body: { rules: [] },
    });
    expect(res.status).toBe(200);
    expect(await stored(tree.town.id)).toBeNull();
    expect(entry(res.body, "other", "critical").values.acceptWithinSeconds).toBe(1800);
  });

  describe("bad input gets 400 problem+json and writes nothing", () => {
    const cases: Array<[string, unknown[], string]> = [
      [
        "a zero duration",
        [{ caseType: "*", severity: "normal", acceptWithinSeconds: 0 }],
        "rules.0.acceptWithinSeconds",
      ],
      [
        "a negative duration",
        [{ caseType: "dispute", severity: "urgent", escalateGraceSeconds: -60 }],
        "rules.0.escalateGraceSeconds",
      ],
      [
        "a warning after its deadline",
        [{ caseType: "*", severity: "critical", resolveWithinSeconds: 600, resolveWarnBeforeSeconds: 900 }],
        "rules.0.resolveWarnBeforeSeconds",
      ],
      [
        "a shortened deadline leaving an inherited warning past it",
        [{ caseType: "*", severity: "urgent", acceptWithinSeconds: 600 }],
        "dispute:urgent.acceptWarnBeforeSeconds",
      ],
      [
        "a fractional duration",
        [{ caseType: "*", severity: "normal", acceptWithinSeconds: 1.5 }],
        "rules.0.acceptWithinSeconds",
      ],
      [
        "two rules for one type and severity",
        [
          { caseType: "*", severity: "normal" },
          { caseType: "*", severity: "normal" },
        ],
        "rules.1",
      ],
    ];
    for (const [what, rules, path] of cases) {
      it(`refuses ${what}`, async () => {
        const tree = await makeTree();
        const staff = await makeUser("center_staff", tree.village);
        const res = await call(`/v1/units/${tree.village.id}/sla-policy`, {
          method: "PUT",
          token: staff.token,
          body: { rules },
        });
        expect(res).toBeProblem(400);
        expect(res.body.errors.map((e: any) => e.path)).toContain(path);
        expect(await stored(tree.village.id)).toBeNull();
      });
    }

    it("refuses an unknown case type and unknown fields", async () => {
      const tree = await makeTree();
      const staff = await makeUser("center_staff", tree.village);
      for (const rules of [
        [{ caseType: "volcano", severity: "normal" }],
        [{ caseType: "*", severity: "normal", within: 5 }],
      ]) {
        const res = await call(`/v1/units/${tree.village.id}/sla-policy`, {
          method: "PUT",
          token: staff.token,
          body: { rules },
        });
        expect(res).toBeProblem(400);
      }
      expect(await stored(tree.village.id)).toBeNull();
    });

    it("refuses an ancestor's change that would break a unit below which sets its own rules", async () => {
      const tree = await makeTree();
      const admin = await makeUser("admin", tree.city);
      // The grid shortens critical acceptance to 15 minutes; the inherited 10-minute warning still falls before it.
      const ok = await call(`/v1/units/${tree.grid.id}/sla-policy`, {
        method: "PUT",
        token: admin.token,
        body: { rules: [{ caseType: "*", severity: "critical", acceptWithinSeconds: 900 }] },
      });
      expect(ok.status).toBe(200);
      // Now the town wants a 20-minute warning for critical acceptance: the grid's 15-minute deadline breaks.
      const res = await call(`/v1/units/${tree.town.id}/sla-policy`, {
        method: "PUT",
        token: admin.token,
        body: {
          rules: [
            { caseType: "*", severity: "critical", acceptWarnBeforeSeconds: 1200, acceptWithinSeconds: 1800 },
          ],
        },
      });
      expect(res).toBeProblem(400);
      expect(res.body.errors[0].path).toBe(
        `descendants.${tree.grid.id}.dispute:critical.acceptWarnBeforeSeconds`,
      );
      expect(await stored(tree.town.id)).toBeNull();
    });
  });

  it("is for centre staff and admins of the unit or above only", async () => {
    const tree = await makeTree();
    const worker = await makeUser("grid_worker", tree.grid);
    const sideStaff = await makeUser("center_staff", tree.village2);
    const body = { rules: [shortCritical] };
    expect(
      await call(`/v1/units/${tree.grid.id}/sla-policy`, { method: "PUT", token: worker.token, body }),
    ).toBeProblem(403);
    expect(
      await call(`/v1/units/${tree.grid.id}/sla-policy`, { method: "PUT", token: sideStaff.token, body }),
    ).toBeProblem(404);
    expect(await stored(tree.grid.id)).toBeNull();
  });
});
