import { describe, expect, it } from "vitest";
import { call, makeTree, makeUser, sql } from "../support/helpers";
import { household, resident, storedHousehold } from "../support/household-fixtures";

const DAY = 86_400_000;

describe("visits and the service cadence", () => {
  it("a visit moves the next contact one cadence after it, and counts for three-line contacts too", async () => {
    const tree = await makeTree();
    const worker = await makeUser("grid_worker", tree.grid);
    const lead = await makeUser("household_lead", tree.grid);
    const red = await call("/v1/households", {
      token: worker.token,
      body: household(tree.grid, { residents: [resident({ tags: ["left_behind_elderly"] })] }),
    });
    const visitedAt = new Date(Date.now() - 2 * DAY).toISOString();
    const res = await call(`/v1/households/${red.body.id}/visits`, {
      token: lead.token,
      body: {
        kind: "phone",
        visitedAt,
        notes: "asked about medicine",
        location: { latitude: 32.68, longitude: 109.03 },
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      householdId: red.body.id,
      visitorUserId: lead.id,
      visitorRole: "household_lead",
      kind: "phone",
      visitedAt,
      recordedBy: lead.id,
    });
    const stored = await storedHousehold(red.body.id);
    // The household entered red at creation (now), later than the visit: the cadence counts from the later one.
    expect(stored!.last_visit_at).toBe(visitedAt);
    expect(Date.parse(String(stored!.next_visit_due)) - Date.parse(String(stored!.class_since))).toBe(
      7 * DAY,
    );
    const later = new Date().toISOString();
    await call(`/v1/households/${red.body.id}/visits`, {
      token: worker.token,
      body: { kind: "visit", visitedAt: later },
    });
    const after = await storedHousehold(red.body.id);
    expect(after!.next_visit_due).toBe(new Date(Date.parse(later) + 7 * DAY).toISOString());
    // An older visit entered afterwards does not move the schedule back.
    await call(`/v1/households/${red.body.id}/visits`, {
      token: worker.token,
      body: { kind: "reception", visitedAt },
    });
    expect((await storedHousehold(red.body.id))!.next_visit_due).toBe(after!.next_visit_due);
    const first = await call(`/v1/households/${red.body.id}/visits?limit=2`, { token: lead.token });
    expect(first.body.items.map((v: { visitedAt: string }) => v.visitedAt)).toEqual([later, visitedAt]);
    const rest = await call(`/v1/households/${red.body.id}/visits?limit=2&cursor=${first.body.nextCursor}`, {
      token: lead.token,
    });
    expect(rest.body).toMatchObject({ items: [{ visitedAt }], nextCursor: null });
    const kinds = [...first.body.items, ...rest.body.items].map((v: { kind: string }) => v.kind).sort();
    expect(kinds).toEqual(["phone", "reception", "visit"]);
  });

  it("records for another user only when a grid worker or centre enters it, for someone covering the household", async () => {
    const tree = await makeTree();
    const worker = await makeUser("grid_worker", tree.grid);
    const member = await makeUser("party_member", tree.village);
    const outsider = await makeUser("party_member", tree.village2);
    const h = await call("/v1/households", {
      token: worker.token,
      body: household(tree.grid, { incomeStable: false }),
    });
    const ok = await call(`/v1/households/${h.body.id}/visits`, {
      token: worker.token,
      body: { kind: "visit", visitorUserId: member.id },
    });
    expect(ok.body).toMatchObject({
      visitorUserId: member.id,
      visitorRole: "party_member",
      recordedBy: worker.id,
    });
    const bad = await call(`/v1/households/${h.body.id}/visits`, {
      token: worker.token,
      body: { kind: "visit", visitorUserId: outsider.id },
    });
    expect(bad).toBeProblem(400);
    expect(bad.body.errors[0].path).toBe("visitorUserId");
    const byMember = await call(`/v1/households/${h.body.id}/visits`, {
      token: member.token,
      body: { kind: "visit", visitorUserId: worker.id },
    });
    expect(byMember).toBeProblem(403);
    const future = await call(`/v1/households/${h.body.id}/visits`, {
      token: worker.token,
      body: { kind: "visit", visitedAt: new Date(Date.now() + DAY).toISOString() },
    });
    expect(future).toBeProblem(400);
    const outside = await call(`/v1/households/${h.body.id}/visits`, {
      token: outsider.token,
      body: { kind: "visit" },
    });
    expect(outside).toBeProblem(404);
  });

  it("lists overdue households longest-late first in cursor pages, and summarizes classes and overdue counts", async () => {
    const tree = await makeTree();
    const staff = await makeUser("center_staff", tree.town);
    const ids: string[] = [];
    for (const unit of [tree.grid, tree.subgrid, tree.grid2, tree.otherGrid]) {
      const res = await call("/v1/households", {
        token: staff.token,
        body: household(unit, { incomeStable: false }),
      });
      ids.push(res.body.id);
    }
    const red = await call("/v1/households", {
      token: staff.token,
      body: household(tree.grid, { residents: [resident({ tags: ["in_prison"] })] }),
    });
    const green = await call("/v1/households", { token: staff.token, body: household(tree.grid) });
    expect(green.body.effectiveClass).toBe("green");
    expect(green.body.nextVisitDue).toBeNull();
    // Yellow households were due 30 days after creation; the red one 7 days. Look 40 days ahead, with lateness
    // staggered by rewriting due dates.
    const base = Date.now();
    const dues = [35, 5, 20, 12].map((d) => new Date(base + d * DAY).toISOString());
    for (let i = 0; i < ids.length; i++) {
      await sql().execute({
        sql: "UPDATE households SET next_visit_due = ? WHERE id = ?",
        args: [dues[i]!, ids[i]!],
      });
    }
    const asOf = new Date(base + 40 * DAY).toISOString();
    const seen: Array<{ householdId: string; daysLate: number }> = [];
    let cursor: string | null = null;
    do {
      const page: any = await call(
        `/v1/visits/overdue?unitId=${tree.town.id}&asOf=${asOf}&limit=2${cursor ? `&cursor=${cursor}` : ""}`,
        { token: staff.token },
      );
      expect(page.status).toBe(200);
      seen.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen.map((s) => s.householdId)).toEqual([ids[1], red.body.id, ids[3], ids[2], ids[0]]);
    expect(seen.map((s) => s.daysLate)).toEqual([35, 33, 28, 20, 5]);

    const village = await call(`/v1/visits/overdue?unitId=${tree.village.id}&asOf=${asOf}`, {
      token: staff.token,
    });
    expect(village.body.items).toHaveLength(4);
    const summary = await call(`/v1/units/${tree.town.id}/households/summary?asOf=${asOf}`, {
      token: staff.token,
    });
    expect(summary.body).toMatchObject({
      unitId: tree.town.id,
      total: 6,
      byClass: { green: 1, yellow: 4, red: 1 },
      overdue: { total: 5, green: 0, yellow: 4, red: 1 },
    });
    const grid = await call(`/v1/units/${tree.grid.id}/households/summary?asOf=${asOf}`, {
      token: staff.token,
    });
    expect(grid.body).toMatchObject({
      total: 4,
      byClass: { green: 1, yellow: 2, red: 1 },
      overdue: { total: 3 },
    });
    const city = await call(`/v1/units/${tree.city.id}/households/summary`, {
      token: (await makeUser("leader", tree.city)).token,
    });
    expect(city.body).toMatchObject({ total: 6, overdue: { total: 0 } });

    const worker = await makeUser("grid_worker", tree.otherGrid);
    const mine = await call(`/v1/visits/overdue?asOf=${asOf}`, { token: worker.token });
    expect(mine.body.items.map((s: { householdId: string }) => s.householdId)).toEqual([ids[3]]);
    expect(await call(`/v1/visits/overdue?unitId=${tree.grid.id}`, { token: worker.token })).toBeProblem(404);
  });
});

describe("named helpers", () => {
  it("names a helper covering the household, refuses a second active pairing, and ends it keeping history", async () => {
    const tree = await makeTree();
    const worker = await makeUser("grid_worker", tree.grid);
    const member = await makeUser("party_member", tree.village);
    const outsider = await makeUser("party_member", tree.village2);
    const h = await call("/v1/households", {
      token: worker.token,
      body: household(tree.grid, { residents: [resident({ tags: ["disabled"] })] }),
    });
    const added = await call(`/v1/households/${h.body.id}/helpers`, {
      token: worker.token,
      body: { userId: member.id, kind: "one_to_one" },
    });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({
      userId: member.id,
      line: "party_member",
      kind: "one_to_one",
      until: null,
    });
    const twice = await call(`/v1/households/${h.body.id}/helpers`, {
      token: worker.token,
      body: { userId: member.id, kind: "one_to_many" },
    });
    expect(twice).toBeProblem(409);
    const far = await call(`/v1/households/${h.body.id}/helpers`, {
      token: worker.token,
      body: { userId: outsider.id, kind: "one_to_one" },
    });
    expect(far).toBeProblem(400);
    const ended = await call(`/v1/households/${h.body.id}/helpers/${member.id}`, {
      method: "DELETE",
      token: worker.token,
    });
    expect(ended.status).toBe(204);
    const detail = await call(`/v1/households/${h.body.id}`, { token: worker.token });
    expect(detail.body.helpers).toHaveLength(1);
    expect(detail.body.helpers[0].until).not.toBeNull();
    const again = await call(`/v1/households/${h.body.id}/helpers/${member.id}`, {
      method: "DELETE",
      token: worker.token,
    });
    expect(again).toBeProblem(404);
    const rows = await sql().execute({
      sql: "SELECT count(*) AS n FROM household_helpers WHERE household_id = ?",
      args: [h.body.id],
    });
    expect(Number(rows.rows[0]!.n)).toBe(1);
  });
});

describe("service plans", () => {
  it("shows defaults, inherits a unit's own cadences down the tree, and reschedules the subtree", async () => {
    const tree = await makeTree();
    const staff = await makeUser("center_staff", tree.town);
    const worker = await makeUser("grid_worker", tree.grid);
    const h = await call("/v1/households", {
      token: staff.token,
      body: household(tree.subgrid, { incomeStable: false }),
    });
    const defaults = await call(`/v1/units/${tree.subgrid.id}/service-plan`, { token: worker.token });
    expect(defaults.body).toMatchObject({
      cadence: { green: null, yellow: 30, red: 7 },
      source: { green: null, yellow: null, red: null },
    });
    const set = await call(`/v1/units/${tree.village.id}/service-plan`, {
      method: "PUT",
      token: staff.token,
      body: { yellow: 10, green: 180 },
    });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ cadence: { green: 180, yellow: 10, red: 7 }, rescheduled: 1 });
    const inherited = await call(`/v1/units/${tree.subgrid.id}/service-plan`, { token: worker.token });
    expect(inherited.body).toMatchObject({
      cadence: { green: 180, yellow: 10, red: 7 },
      source: { green: tree.village.id, yellow: tree.village.id, red: null },
    });
    const stored = await storedHousehold(h.body.id);
    expect(Date.parse(String(stored!.next_visit_due)) - Date.parse(String(stored!.class_since))).toBe(
      10 * DAY,
    );
    const back = await call(`/v1/units/${tree.village.id}/service-plan`, {
      method: "PUT",
      token: staff.token,
      body: { yellow: "inherit", green: "none" },
    });
    expect(back.body.cadence).toEqual({ green: null, yellow: 30, red: 7 });
    expect(
      await call(`/v1/units/${tree.village.id}/service-plan`, {
        method: "PUT",
        token: staff.token,
        body: { yellow: 0 },
      }),
    ).toBeProblem(400);
    expect(
      await call(`/v1/units/${tree.village.id}/service-plan`, {
        method: "PUT",
        token: worker.token,
        body: { yellow: 5 },
      }),
    ).toBeProblem(403);
  });
});
