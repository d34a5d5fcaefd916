import { describe, expect, it } from "vitest";
import { chinaDate } from "../../src/domain/china-time";
import { syntheticCaseEvents } from "../support/figures";
import { call, makeTree, makeUser, type TestTree } from "../support/helpers";
import { deliver } from "../support/queues";

/** A fresh tree with synthetic case histories projected through the real consumer. */
async function projectedTree(count = 30, seed = 7) {
  const tree = await makeTree();
  const { messages } = syntheticCaseEvents(tree, count, seed);
  for (let i = 0; i < messages.length; i += 60) await deliver("case-events", messages.slice(i, i + 60));
  return { tree, messages };
}

const inside = (tree: TestTree, path: string) => path.startsWith(tree.village.path);
const PERIOD = "from=2026-03-01&to=2026-06-30";

describe("GET /v1/units/{id}/figures/cases", () => {
  it("counts a subtree's cases of a period, by type and as a weekly trend", async () => {
    const { tree, messages } = await projectedTree();
    const staff = await makeUser("center_staff", tree.town);
    const res = await call(`/v1/units/${tree.village.id}/figures/cases?${PERIOD}&granularity=week`, {
      token: staff.token,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const ofVillage = messages.filter((m) => inside(tree, m.record.owningUnit.path));
    const count = (type: string) => ofVillage.filter((m) => m.event.type === type).length;
    expect(res.body.totals).toMatchObject({
      reported: count("reported"),
      accepted: count("accepted"),
      resolved: count("resolved"),
      closed: count("closed"),
    });
    expect(res.body.totals.closureRate).toBeCloseTo(count("closed") / count("reported"));
    const levels = res.body.totals.resolvedAtLevel.reduce(
      (a: number, l: { count: number }) => a + l.count,
      0,
    );
    expect(levels).toBe(count("resolved"));
    expect(res.body.byType.reduce((a: number, t: { reported: number }) => a + t.reported, 0)).toBe(
      count("reported"),
    );
    // Weeks start on Monday: 2026-03-02 is one.
    expect(
      res.body.trend.every((t: { period: string }) => new Date(`${t.period}T00:00:00Z`).getUTCDay() === 1),
    ).toBe(true);
    expect(res.body.trend.reduce((a: number, t: { reported: number }) => a + t.reported, 0)).toBe(
      count("reported"),
    );

    const oneType = ofVillage.find((m) => m.event.type === "reported")!.record.type;
    const typed = await call(`/v1/units/${tree.village.id}/figures/cases?${PERIOD}&type=${oneType}`, {
      token: staff.token,
    });
    expect(typed.body.totals.reported).toBe(
      ofVillage.filter((m) => m.event.type === "reported" && m.record.type === oneType).length,
    );
    // A one-day period counts only that China day's events.
    const day = chinaDate(ofVillage[0]!.event.at);
    const single = await call(`/v1/units/${tree.village.id}/figures/cases?from=${day}&to=${day}`, {
      token: staff.token,
    });
    expect(single.body.totals.reported).toBe(
      ofVillage.filter((m) => m.event.type === "reported" && chinaDate(m.event.at) === day).length,
    );
  });

  it("answers only inside the caller's subtree, to the roles that read figures, and refuses bad periods", async () => {
    const tree = await makeTree();
    const village = await makeUser("center_staff", tree.village);
    const worker = await makeUser("grid_worker", tree.grid);
    const get = (unitId: string, query: string, token = village.token) =>
      call(`/v1/units/${unitId}/figures/cases?${query}`, { token });
    expect((await get(tree.village.id, PERIOD)).status).toBe(200);
    expect(await get(tree.village2.id, PERIOD)).toMatchObject({ status: 404 });
    expect(await get(tree.town.id, PERIOD)).toMatchObject({ status: 404 });
    expect(await get(crypto.randomUUID(), PERIOD)).toMatchObject({ status: 404 });
    expect(await get(tree.grid.id, PERIOD, worker.token)).toMatchObject({ status: 403 });
    for (const bad of [
      "from=2026-03-02&to=2026-03-01",
      "from=2010-01-01&to=2026-01-01",
      "from=2026-02-30&to=2026-03-01",
      "from=2026-03-01",
      `${PERIOD}&granularity=hour`,
      `${PERIOD}&type=weather`,
    ]) {
      const res = await get(tree.village.id, bad);
      expect(res.status, bad).toBe(400);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
    }
    expect((await get(tree.village.id, "from=2016-01-02&to=2026-01-01")).status).toBe(200);
  });
});

describe("GET /v1/units/{id}/league", () => {
  it("lists every child with its figures and the change against the previous period, sorted", async () => {
    const { tree, messages } = await projectedTree(30, 11);
    const staff = await makeUser("center_staff", tree.town);
    const reported = (u: { path: string }) =>
      messages.filter((m) => m.event.type === "reported" && m.record.owningUnit.path.startsWith(u.path))
        .length;
    const res = await call(`/v1/units/${tree.town.id}/league?from=2026-03-01&to=2026-03-31&sort=reported`, {
      token: staff.token,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ previousFrom: "2026-01-29", previousTo: "2026-02-28" });
    const rows = res.body.items as Array<{
      unitId: string;
      figures: { reported: number };
      change: { reported: number };
    }>;
    expect(rows.map((r) => r.unitId).sort()).toEqual([tree.village.id, tree.village2.id].sort());
    for (const r of rows) {
      const unit = r.unitId === tree.village.id ? tree.village : tree.village2;
      expect(r.figures.reported).toBe(reported(unit));
      expect(r.change.reported).toBe(reported(unit));
    }
    expect(rows[0]!.figures.reported).toBeGreaterThanOrEqual(rows[1]!.figures.reported);
    // April compares against the 30 days before it: 2026-03-02 to 2026-03-31.
    const april = await call(
      `/v1/units/${tree.town.id}/league?from=2026-04-01&to=2026-04-30&sort=reported&order=asc`,
      {
        token: staff.token,
      },
    );
    const ofVillage = (april.body.items as typeof rows).find((r) => r.unitId === tree.village.id)!;
    expect(april.body).toMatchObject({ previousFrom: "2026-03-02", previousTo: "2026-03-31" });
    const reportedFrom2nd = messages.filter(
      (m) =>
        m.event.type === "reported" &&
        m.record.owningUnit.path.startsWith(tree.village.path) &&
        chinaDate(m.event.at) >= "2026-03-02",
    ).length;
    expect(ofVillage.change.reported).toBe(-reportedFrom2nd);
    expect(
      (await call(`/v1/units/${tree.town.id}/league?${PERIOD}&sort=name`, { token: staff.token })).status,
    ).toBe(400);
  });
});

describe("GET /v1/units/{id}/hotspots", () => {
  it("counts the period's cases on square cells as GeoJSON", async () => {
    const { tree, messages } = await projectedTree(20, 5);
    const staff = await makeUser("leader", tree.county);
    const res = await call(`/v1/units/${tree.county.id}/hotspots?${PERIOD}&cell=0.01`, {
      token: staff.token,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.type).toBe("FeatureCollection");
    const total = res.body.features.reduce(
      (a: number, f: { properties: { count: number } }) => a + f.properties.count,
      0,
    );
    expect(total).toBe(messages.filter((m) => m.event.type === "reported").length);
    for (const f of res.body.features) {
      const [w, s] = f.geometry.coordinates[0][0];
      const [e, n] = f.geometry.coordinates[0][2];
      expect(e - w).toBeCloseTo(0.01);
      expect(n - s).toBeCloseTo(0.01);
      expect(s).toBeGreaterThan(32);
      expect(w).toBeGreaterThan(109);
    }
  });
});

describe("GET /v1/units/{id}/figures/satisfaction", () => {
  it("gives return-visit satisfaction by type and lists the dissatisfied closures", async () => {
    const { tree, messages } = await projectedTree(30, 3);
    const staff = await makeUser("center_staff", tree.city);
    const res = await call(`/v1/units/${tree.city.id}/figures/satisfaction?${PERIOD}`, {
      token: staff.token,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const visits = messages.filter((m) => m.event.type === "return_visited");
    const of = (s: string) => visits.filter((m) => m.event.payload.satisfaction === s).length;
    expect(res.body.totals).toMatchObject({
      satisfied: of("satisfied"),
      basicallySatisfied: of("basically_satisfied"),
      dissatisfied: of("dissatisfied"),
    });
    expect(res.body.dissatisfied).toHaveLength(of("dissatisfied"));
    expect(new Set(res.body.dissatisfied.map((d: { caseId: string }) => d.caseId))).toEqual(
      new Set(visits.filter((m) => m.event.payload.satisfaction === "dissatisfied").map((m) => m.caseId)),
    );
  });
});
