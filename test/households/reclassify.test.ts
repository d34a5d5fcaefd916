import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { expireOverrides } from "../../src/db/repos/households";
import { classifyHousehold } from "../../src/domain/classification";
import { getDb } from "../../src/platform/db/client";
import { call, makeTree, makeUser, sql } from "../support/helpers";
import { household, lastYears, resident, storedHousehold } from "../support/household-fixtures";

describe("POST /v1/units/{id}/reclassify", () => {
  it("recomputes a subtree set-based after the averages move, agreeing with classifyHousehold on every branch", async () => {
    const tree = await makeTree();
    const staff = await makeUser("center_staff", tree.town);
    const three = lastYears(3);
    const cases = [
      { incomePerCapita: 9_999, incomeStable: true, safeFamilyYears: three }, // alone at creation: green; then below
      { incomePerCapita: 10_000, incomeStable: true, safeFamilyYears: three }, // at the average after the move
      { incomePerCapita: 12_000, incomeStable: true, safeFamilyYears: three.slice(1) }, // 2 safe years only
      { incomePerCapita: 12_000, incomeStable: false, safeFamilyYears: three },
      { incomePerCapita: 1_000, incomeStable: true, safeFamilyYears: [] }, // literal yellow
      { incomePerCapita: 1_000, incomeStable: true, safeFamilyYears: three.slice(2) }, // below, safe last year
      {
        incomePerCapita: 15_000,
        incomeStable: true,
        safeFamilyYears: three,
        residents: [resident({ tags: ["disabled"] })],
      },
    ];
    const ids: string[] = [];
    for (const body of cases) {
      const res = await call("/v1/households", { token: staff.token, body: household(tree.grid, body) });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    // Move the village average to exactly 10,000 behind the API's back: sum = 10,000 × 8 households.
    // Created one by one, each was classified against the village as it was then (the first one alone, at its own income).
    const sum = cases.reduce((s, c) => s + c.incomePerCapita, 0);
    await sql().execute({
      sql: `INSERT INTO households (id, unit_id, unit_path, address, head_name, income_per_capita, income_stable, safe_years_mask,
              computed_class, class, class_reasons, class_since, classified_at, created_at, updated_at)
            VALUES (?, ?, ?, 'ballast', 'ballast', ?, 1, 0, 'yellow', 'yellow', '[]', ?, ?, ?, ?)`,
      args: [
        crypto.randomUUID(),
        tree.subgrid.id,
        tree.subgrid.path,
        80_000 - sum,
        ...Array(4).fill(new Date().toISOString()),
      ],
    });
    const before = await Promise.all(ids.map((id) => storedHousehold(id)));
    const res = await call(`/v1/units/${tree.village.id}/reclassify`, { method: "POST", token: staff.token });
    expect(res.status).toBe(200);
    const stored = await Promise.all(ids.map((id) => storedHousehold(id)));
    const village = { incomeSum: 80_000, households: 8 };
    const now = new Date();
    cases.forEach((c, i) => {
      const expected = classifyHousehold(
        { ...c, memberTags: (c.residents ?? []).flatMap((r) => r.tags as string[]) },
        village,
        now,
      );
      expect({
        i,
        class: stored[i]!.computed_class,
        reasons: JSON.parse(String(stored[i]!.class_reasons)),
      }).toEqual({
        i,
        class: expected.class,
        reasons: expected.reasons,
      });
    });
    expect(stored.map((s) => s!.computed_class)).toEqual([
      "yellow",
      "green",
      "yellow",
      "yellow",
      "yellow",
      "yellow",
      "red",
    ]);
    expect(res.body.byClass).toEqual({ green: 1, yellow: 6, red: 1 });
    expect(res.body.examined).toBe(8);
    // Each household was classified on write against the village as it was then; the moved average changes some.
    const changed = stored.filter((row, i) => row!.class !== before[i]!.class).length;
    expect(changed).toBeGreaterThanOrEqual(1);
    expect(res.body.changed).toBe(changed); // the ballast row stays yellow: only its reasons are filled in
    expect(res.body.updated).toBe(
      changed +
        1 +
        stored.filter(
          (row, i) => row!.class === before[i]!.class && row!.class_reasons !== before[i]!.class_reasons,
        ).length,
    );

    const again = await call(`/v1/units/${tree.village.id}/reclassify`, {
      method: "POST",
      token: staff.token,
    });
    expect(again.body).toMatchObject({ changed: 0, updated: 0, byClass: { green: 1, yellow: 6, red: 1 } });
    const audit = await sql().execute({
      sql: "SELECT count(*) AS n FROM audit_log WHERE object_id = ? AND action = 'household.reclassify'",
      args: [tree.village.id],
    });
    expect(Number(audit.rows[0]!.n)).toBe(2);
  });

  it("a grid's reclassification still averages over its whole village", async () => {
    const tree = await makeTree();
    const staff = await makeUser("center_staff", tree.village);
    const three = lastYears(3);
    const mine = await call("/v1/households", {
      token: staff.token,
      body: household(tree.grid, { incomePerCapita: 10_000, safeFamilyYears: three }),
    });
    await call("/v1/households", {
      token: staff.token,
      body: household(tree.grid2, { incomePerCapita: 10_000 }),
    });
    expect(mine.body.effectiveClass).toBe("green");
    // The other grid's household gets richer: the village average rises above 10,000.
    await sql().execute({
      sql: "UPDATE households SET income_per_capita = 30000 WHERE unit_id = ?",
      args: [tree.grid2.id],
    });
    const res = await call(`/v1/units/${tree.grid.id}/reclassify`, { method: "POST", token: staff.token });
    expect(res.body).toMatchObject({ byClass: { green: 0, yellow: 1, red: 0 }, changed: 1, examined: 1 });
    expect(await storedHousehold(mine.body.id)).toMatchObject({
      class: "yellow",
      class_reasons: '["income_below_village_average"]',
    });
  });

  it("uses the cadence settings inherited down the tree for next visit dates", async () => {
    const tree = await makeTree();
    const staff = await makeUser("center_staff", tree.town);
    const created = await call("/v1/households", {
      token: staff.token,
      body: household(tree.subgrid, { incomeStable: false }),
    });
    expect(created.body.effectiveClass).toBe("yellow");
    expect(Date.parse(created.body.nextVisitDue) - Date.parse(created.body.classSince)).toBe(30 * 86_400_000);
    await sql().execute({
      sql: "INSERT INTO unit_settings (unit_id, key, value) VALUES (?, 'households.cadence.yellowDays', '14'), (?, 'households.cadence.yellowDays', '21')",
      args: [tree.county.id, tree.village.id],
    });
    await call(`/v1/units/${tree.town.id}/reclassify`, { method: "POST", token: staff.token });
    const stored = await storedHousehold(created.body.id);
    expect(Date.parse(String(stored!.next_visit_due)) - Date.parse(String(stored!.class_since))).toBe(
      21 * 86_400_000,
    );
    // A new household in the same village is scheduled with the village's setting on write.
    const next = await call("/v1/households", {
      token: staff.token,
      body: household(tree.grid, { incomeStable: false }),
    });
    expect(Date.parse(next.body.nextVisitDue) - Date.parse(next.body.classSince)).toBe(21 * 86_400_000);
  });

  it("is for admin and centre staff only, inside their scope", async () => {
    const tree = await makeTree();
    const worker = await makeUser("grid_worker", tree.grid);
    const other = await makeUser("center_staff", tree.village2);
    expect(
      await call(`/v1/units/${tree.grid.id}/reclassify`, { method: "POST", token: worker.token }),
    ).toBeProblem(403);
    expect(
      await call(`/v1/units/${tree.village.id}/reclassify`, { method: "POST", token: other.token }),
    ).toBeProblem(404);
  });
});

describe("expired overrides", () => {
  it("the cron task moves households whose override expired back to their computed class and schedule", async () => {
    const tree = await makeTree();
    const staff = await makeUser("center_staff", tree.village);
    const created = await call("/v1/households", { token: staff.token, body: household(tree.grid) });
    const until = new Date(Date.now() + 86_400_000).toISOString();
    await call(`/v1/households/${created.body.id}`, {
      method: "PATCH",
      token: staff.token,
      headers: { "if-match": '"1"' },
      body: { override: { class: "red", reason: "temporary hardship", until } },
    });
    expect(await storedHousehold(created.body.id)).toMatchObject({ class: "red" });
    const countsBefore = await call(`/v1/units/${tree.grid.id}/households/summary`, { token: staff.token });
    expect(countsBefore.body.byClass).toEqual({ green: 0, yellow: 0, red: 1 });
    await expireOverrides(getDb(env), new Date(Date.parse(until) - 1));
    expect(await storedHousehold(created.body.id)).toMatchObject({ class: "red" });
    await expireOverrides(getDb(env), new Date(Date.parse(until) + 1));
    expect(await storedHousehold(created.body.id)).toMatchObject({
      class: "green",
      computed_class: "green",
      override_class: "red",
      next_visit_due: null,
    });
    const counts = await sql().execute({
      sql: "SELECT class, n FROM household_class_counts WHERE unit_id = ?",
      args: [tree.village.id],
    });
    expect(counts.rows.map((r) => [r.class, Number(r.n)])).toEqual([["green", 1]]);
  });
});
