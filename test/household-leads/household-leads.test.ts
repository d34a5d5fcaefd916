import { describe, expect, it } from "vitest";
import { periodOf } from "../../src/domain/subsidy";
import { projected } from "../support/case-fixtures";
import { api, read } from "../support/client";
import { call, makeTree, makeUser, sql, type TestTree, type TestUser } from "../support/helpers";
import { makeHousehold, makeResident } from "../support/three-line-fixtures";

async function rows(query: string, args: Array<string | number>) {
  return (await sql().execute({ sql: query, args })).rows;
}

interface LeadWorld {
  tree: TestTree;
  lead: TestUser;
  staff: TestUser;
  worker: TestUser;
  households: [string, string];
  residents: [string, string, string];
}

/** A lead of two households (two residents in the first, one in the second), with their village centre. */
async function leadWorld(): Promise<LeadWorld> {
  const tree = await makeTree();
  const [lead, staff, worker] = await Promise.all([
    makeUser("household_lead", tree.grid),
    makeUser("center_staff", tree.village),
    makeUser("grid_worker", tree.grid),
  ]);
  const households: [string, string] = [await makeHousehold(tree.grid), await makeHousehold(tree.grid)];
  const paired = await call(`/v1/contacts/${lead.id}/households`, {
    token: staff.token,
    body: { pairings: households.map((householdId) => ({ householdId, line: "household_lead" })) },
  });
  expect(paired.status).toBe(201);
  const residents: [string, string, string] = [
    await makeResident(households[0], tree.grid),
    await makeResident(households[0], tree.grid),
    await makeResident(households[1], tree.grid),
  ];
  return { tree, lead, staff, worker, households, residents };
}

/** The lead reports a case on behalf of a household; returns the case once projected. */
async function reportForHousehold(w: LeadWorld, householdId: string, title = "屋后边坡裂缝") {
  const res = await call("/v1/cases", {
    token: w.lead.token,
    body: {
      id: crypto.randomUUID(),
      type: "safety_hazard",
      title,
      householdIds: [householdId],
      location: { address: "二组" },
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  await projected(res.body.id, 1);
  return res.body;
}

/** Accepts a case as the lead's village centre and waits for the projection. */
async function accept(w: LeadWorld, caseId: string, version = 1) {
  const res = await call(`/v1/cases/${caseId}/accept`, {
    token: w.staff.token,
    body: {},
    headers: { "if-match": `"${version}"` },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  await projected(caseId, version + 1);
}

async function settingsOf(unitId: string) {
  return rows("SELECT key, value FROM unit_settings WHERE unit_id = ? ORDER BY key", [unitId]);
}

describe("subsidy settings in integer fen", () => {
  it("sets amounts on a unit, inherited below; negative, fractional or text money is 400 and writes nothing", async () => {
    const tree = await makeTree();
    const staff = await makeUser("center_staff", tree.town);
    const ok = await call(`/v1/units/${tree.village.id}/subsidy-settings`, {
      method: "PUT",
      token: staff.token,
      body: { caseFen: 2_550, eventFen: 1_234 },
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ caseFen: 2_550, eventFen: 1_234, flagBelowX100: 300, caseCapFen: 20_000 });
    const inherited = await call(`/v1/units/${tree.subgrid.id}/subsidy-settings`, { token: staff.token });
    expect(inherited.body).toEqual(ok.body);
    const before = await settingsOf(tree.village.id);

    for (const body of [
      { caseFen: -1 },
      { eventFen: 12.5 },
      { caseFen: "100" },
      { caseFen: 100, eventFen: -0.01 },
    ]) {
      const bad = await call(`/v1/units/${tree.village.id}/subsidy-settings`, {
        method: "PUT",
        token: staff.token,
        body,
      });
      expect(bad, JSON.stringify(body)).toBeProblem(400);
    }
    expect(await settingsOf(tree.village.id)).toEqual(before);
    const foreign = await makeUser("center_staff", (await makeTree()).town);
    const outside = await call(`/v1/units/${tree.village.id}/subsidy-settings`, {
      method: "PUT",
      token: foreign.token,
      body: { caseFen: 1 },
    });
    expect(outside).toBeProblem(404);
    expect(await settingsOf(tree.village.id)).toEqual(before);
  });

  it("an event with negative or fractional money is 400 and nothing is written", async () => {
    const w = await leadWorld();
    for (const amountFen of [-100, 0.5, 99.99]) {
      const bad = await call(`/v1/household-leads/${w.lead.id}/events`, {
        token: w.staff.token,
        body: { description: "组织清理河道", occurredAt: new Date().toISOString(), amountFen },
      });
      expect(bad).toBeProblem(400);
    }
    expect(await rows("SELECT id FROM lead_subsidy_items WHERE lead_id = ?", [w.lead.id])).toHaveLength(0);
  });

  it("an event in the future or outside any YYYY-MM month is 400 and nothing is written", async () => {
    const w = await leadWorld();
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString();
    for (const occurredAt of [tomorrow, "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"]) {
      const bad = await call(`/v1/household-leads/${w.lead.id}/events`, {
        token: w.staff.token,
        body: { description: "组织清理河道", occurredAt },
      });
      expect(bad).toBeProblem(400);
      expect(bad.body.errors).toEqual([
        { path: "occurredAt", message: "in the future or not in a YYYY-MM month" },
      ]);
    }
    expect(await rows("SELECT id FROM lead_subsidy_items WHERE lead_id = ?", [w.lead.id])).toHaveLength(0);
  });
});

describe("ratings by the lead's residents", () => {
  it("rates 1–5 once per period; out of range, a second rating or a stranger is refused and writes nothing", async () => {
    const w = await leadWorld();
    const rate = (residentId: string, rating: unknown, period = "2026-03") =>
      call(`/v1/household-leads/${w.lead.id}/ratings`, {
        token: w.worker.token,
        body: { residentId, rating, period },
      });
    const first = await rate(w.residents[0], 4);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      leadId: w.lead.id,
      residentId: w.residents[0],
      period: "2026-03",
      rating: 4,
    });

    for (const rating of [0, 6, 2.5, "5"]) expect(await rate(w.residents[1], rating)).toBeProblem(400);
    const second = await rate(w.residents[0], 1);
    expect(second).toBeProblem(409, "already-rated");
    const stranger = await makeResident(await makeHousehold(w.tree.grid), w.tree.grid);
    const notTheirs = await rate(stranger, 5);
    expect(notTheirs).toBeProblem(400);
    const byLead = await call(`/v1/household-leads/${w.lead.id}/ratings`, {
      token: w.lead.token,
      body: { residentId: w.residents[1], rating: 5 },
    });
    expect(byLead).toBeProblem(403);

    const stored = await rows("SELECT resident_id, rating FROM lead_ratings WHERE lead_id = ?", [w.lead.id]);
    expect(stored).toEqual([expect.objectContaining({ resident_id: w.residents[0], rating: 4 })]);
    // Another period takes a new rating from the same resident.
    expect((await rate(w.residents[0], 2, "2026-04")).status).toBe(201);
  });
});

describe("GET /v1/household-leads/{id}/statement", () => {
  it("lists the month's cases, events, exact fen amounts and average rating; a settlement fixes case amounts", async () => {
    const w = await leadWorld();
    await call(`/v1/units/${w.tree.village.id}/subsidy-settings`, {
      method: "PUT",
      token: w.staff.token,
      body: { caseFen: 2_550, eventFen: 1_234 },
    });
    const a = await reportForHousehold(w, w.households[0], "屋后边坡裂缝");
    const b = await reportForHousehold(w, w.households[1], "饮水管破裂");
    await accept(w, a.id);
    await accept(w, b.id);
    const rejected = await reportForHousehold(w, w.households[1], "重复上报");
    const rej = await call(`/v1/cases/${rejected.id}/reject`, {
      token: w.staff.token,
      body: { reason: "重复" },
      headers: { "if-match": '"1"' },
    });
    expect(rej.status).toBe(200);
    await projected(rejected.id, 2);
    const byWorker = await call("/v1/cases", {
      token: w.worker.token,
      body: {
        type: "safety_hazard",
        title: "网格员上报",
        householdIds: [w.households[0]],
        location: { address: "二组" },
      },
    });
    await projected(byWorker.body.id, 1);

    const now = new Date().toISOString();
    const month = periodOf(now);
    const event = (body: Record<string, unknown>) =>
      call(`/v1/household-leads/${w.lead.id}/events`, { token: w.staff.token, body });
    expect((await event({ description: "组织清理河道", occurredAt: now })).body).toMatchObject({
      amountFen: 1_234,
      month,
    });
    expect((await event({ description: "劝返走失老人", occurredAt: now, amountFen: 1 })).status).toBe(201);
    expect((await event({ description: "上年活动", occurredAt: "2020-01-10T02:00:00Z" })).body.month).toBe(
      "2020-01",
    );
    for (const [residentId, rating] of [
      [w.residents[0], 5],
      [w.residents[1], 2],
      [w.residents[2], 2],
    ] as const) {
      const res = await call(`/v1/household-leads/${w.lead.id}/ratings`, {
        token: w.worker.token,
        body: { residentId, rating, period: month },
      });
      expect(res.status).toBe(201);
    }

    const res = await call(`/v1/household-leads/${w.lead.id}/statement?month=${month}`, {
      token: w.staff.token,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.cases.map((x: any) => [x.caseId, x.amountFen, x.settled])).toEqual([
      [a.id, 2_550, false],
      [b.id, 2_550, false],
    ]);
    expect(res.body.uncountedCases.map((x: any) => [x.caseId, x.reason])).toEqual([
      [rejected.id, "rejected"],
    ]);
    expect(res.body.events.map((e: any) => e.amountFen).sort()).toEqual([1, 1_234]);
    // 2 × 25.50 + 12.34 + 0.01 = 63.35 yuan; (5 + 2 + 2) / 3 = 3.00 exactly.
    expect(res.body.totals).toEqual({
      cases: 2,
      events: 2,
      caseFen: 5_100,
      eventFen: 1_235,
      totalFen: 6_335,
      totalYuan: "63.35",
    });
    expect(res.body.rating).toEqual({ count: 3, averageX100: 300, average: "3.00" });
    expect(res.body.belowThreshold).toBe(false);

    // Settling fixes the case amounts; a later setting change applies only to unsettled cases.
    const settled = await call(`/v1/household-leads/${w.lead.id}/settlements`, {
      token: w.staff.token,
      body: { month },
    });
    expect(settled.body.cases.every((x: any) => x.settled)).toBe(true);
    await call(`/v1/units/${w.tree.village.id}/subsidy-settings`, {
      method: "PUT",
      token: w.staff.token,
      body: { caseFen: 3_000 },
    });
    const c = await reportForHousehold(w, w.households[0], "路灯不亮");
    await accept(w, c.id);
    const after = await call(`/v1/household-leads/${w.lead.id}/statement?month=${month}`, {
      token: w.lead.token,
    });
    expect(after.body.cases.map((x: any) => [x.caseId, x.amountFen, x.settled])).toEqual([
      [a.id, 2_550, true],
      [b.id, 2_550, true],
      [c.id, 3_000, false],
    ]);
    expect(after.body.totals).toMatchObject({
      cases: 3,
      caseFen: 8_100,
      totalFen: 9_335,
      totalYuan: "93.35",
    });
    expect(
      await rows(
        "SELECT ref_id, amount_fen FROM lead_subsidy_items WHERE lead_id = ? AND kind = 'case' ORDER BY occurred_at",
        [w.lead.id],
      ),
    ).toEqual([
      expect.objectContaining({ ref_id: a.id, amount_fen: 2_550 }),
      expect.objectContaining({ ref_id: b.id, amount_fen: 2_550 }),
    ]);

    // Another lead may not read it; a bad month is 400.
    const otherLead = await makeUser("household_lead", w.tree.grid);
    expect(
      await call(`/v1/household-leads/${w.lead.id}/statement?month=${month}`, { token: otherLead.token }),
    ).toBeProblem(404);
    expect(
      await call(`/v1/household-leads/${w.lead.id}/statement?month=2026-13`, { token: w.staff.token }),
    ).toBeProblem(400);
  });
});

describe("flagging leads for adjustment", () => {
  it("flags a lead whose average is below the threshold and lists flagged leads of a subtree", async () => {
    const w = await leadWorld();
    const other = await makeUser("household_lead", w.tree.grid2);
    for (const [residentId, rating] of [
      [w.residents[0], 3],
      [w.residents[1], 3],
      [w.residents[2], 4],
    ] as const) {
      await call(`/v1/household-leads/${w.lead.id}/ratings`, {
        token: w.worker.token,
        body: { residentId, rating, period: "2026-02" },
      });
    }
    // 10 / 3 = 3.33: not below the default 3.00.
    const notBelow = await call(`/v1/household-leads/${w.lead.id}/flag`, {
      token: w.staff.token,
      body: { period: "2026-02" },
    });
    expect(notBelow).toBeProblem(409, "not-below-threshold");
    const noRatings = await call(`/v1/household-leads/${other.id}/flag`, {
      token: w.staff.token,
      body: { period: "2026-02" },
    });
    expect(noRatings).toBeProblem(409, "not-below-threshold");
    expect(
      await rows("SELECT id FROM lead_flags WHERE lead_id IN (?, ?)", [w.lead.id, other.id]),
    ).toHaveLength(0);

    await call(`/v1/units/${w.tree.village.id}/subsidy-settings`, {
      method: "PUT",
      token: w.staff.token,
      body: { flagBelowX100: 350 },
    });
    const flagged = await call(`/v1/household-leads/${w.lead.id}/flag`, {
      token: w.staff.token,
      body: { period: "2026-02" },
    });
    expect(flagged.status).toBe(201);
    expect(flagged.body).toMatchObject({
      period: "2026-02",
      averageX100: 333,
      reason: "average rating 3.33 below 3.50",
    });
    expect(
      await call(`/v1/household-leads/${w.lead.id}/flag`, {
        token: w.staff.token,
        body: { period: "2026-02" },
      }),
    ).toBeProblem(409, "already-flagged");

    const list = await call(`/v1/units/${w.tree.village.id}/household-leads?flagged=true`, {
      token: w.staff.token,
    });
    expect(list.body.items.map((l: any) => [l.leadId, l.households, l.flag?.averageX100])).toEqual([
      [w.lead.id, 2, 333],
    ]);
    const unflagged = await call(`/v1/units/${w.tree.village.id}/household-leads?flagged=false`, {
      token: w.staff.token,
    });
    expect(unflagged.body.items.map((l: any) => l.leadId)).toEqual([other.id]);
    const town = await makeUser("center_staff", w.tree.village2);
    expect(
      await call(`/v1/units/${w.tree.village.id}/household-leads?flagged=true`, { token: town.token }),
    ).toBeProblem(404);

    expect(
      (await call(`/v1/household-leads/${w.lead.id}/flag`, { method: "DELETE", token: w.staff.token }))
        .status,
    ).toBe(204);
    const cleared = await call(`/v1/units/${w.tree.village.id}/household-leads?flagged=true`, {
      token: w.staff.token,
    });
    expect(cleared.body.items).toEqual([]);
    expect(
      await call(`/v1/household-leads/${w.lead.id}/flag`, { method: "DELETE", token: w.staff.token }),
    ).toBeProblem(404);
  });
});

describe("a household lead reports on behalf of a household", () => {
  it("the case records the lead as reporter and the household, in the desk and the projection", async () => {
    const w = await leadWorld();
    const created = await reportForHousehold(w, w.households[0]);
    expect(created.reporter).toEqual({ userId: w.lead.id, role: "household_lead", unitId: w.tree.grid.id });
    expect(created.householdIds).toEqual([w.households[0]]);
    const [row] = await rows("SELECT reporter_id, doc FROM cases WHERE id = ?", [created.id]);
    expect(row!.reporter_id).toBe(w.lead.id);
    expect(JSON.parse(String(row!.doc)).householdIds).toEqual([w.households[0]]);
  });
});

describe("one rating per resident and period, under concurrency", () => {
  it("two identical ratings at once: one 201, one 409, one stored rating and one audit row", async () => {
    const w = await leadWorld();
    const rate = () =>
      api(w.worker.token)
        .v1["household-leads"][":id"].ratings.$post({
          param: { id: w.lead.id },
          json: { residentId: w.residents[0], rating: 4, period: "2026-05" },
        })
        .then(read);
    const results = await Promise.all([rate(), rate()]);
    const created = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status !== 201);
    expect(created).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toBeProblem(409, "already-rated");
    expect(await rows("SELECT rating FROM lead_ratings WHERE lead_id = ?", [w.lead.id])).toEqual([
      expect.objectContaining({ rating: 4 }),
    ]);
    expect(
      await rows("SELECT id FROM audit_log WHERE action = 'lead.rating' AND object_id = ?", [w.lead.id]),
    ).toHaveLength(1);
  });
});

describe("GET /v1/units/{id}/household-leads and its schema", () => {
  it("answers flag null for an unflagged lead, and the served schema allows null there", async () => {
    const w = await leadWorld();
    const res = await read(
      await api(w.staff.token).v1.units[":id"]["household-leads"].$get({
        param: { id: w.tree.village.id },
        query: {},
      }),
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      items: [
        {
          leadId: w.lead.id,
          displayName: "Test household_lead",
          unitId: w.tree.grid.id,
          households: 2,
          flag: null,
        },
      ],
      nextCursor: null,
    });

    const doc = await call("/openapi.json");
    expect(doc.status).toBe(200);
    const schemas: Record<string, { properties: Record<string, unknown> }> = doc.body.components.schemas;
    const nullableRef = (ref: string) => ({
      anyOf: [{ $ref: `#/components/schemas/${ref}` }, { type: "null" }],
    });
    expect(schemas.HouseholdLeadSummary!.properties.flag).toMatchObject(nullableRef("LeadFlag"));
    expect(schemas.HouseholdLeadSummary!.properties.flag).not.toHaveProperty("allOf");
  });
});

describe("以案定补 pays for accepted cases, not reports", () => {
  /** The statement of the current month through the typed client. */
  async function statementNow(w: LeadWorld) {
    const res = await read(
      await api(w.staff.token).v1["household-leads"][":id"].statement.$get({
        param: { id: w.lead.id },
        query: { month: periodOf(new Date().toISOString()) },
      }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    if (!("uncountedCases" in res.body)) throw new Error("not a statement");
    return res.body;
  }

  it("100 synced junk reports add nothing until accepted; accepted ones count up to the cap; rejected and merged are listed with reasons", async () => {
    const w = await leadWorld();
    const reports = Array.from({ length: 100 }, (_, i) => ({
      id: crypto.randomUUID(),
      type: "other" as const,
      title: `路边有垃圾 ${i + 1}`,
      householdIds: [w.households[i % 2]!],
      location: { address: "二组" },
    }));
    const synced = await read(await api(w.lead.token).v1.cases.sync.$post({ json: { reports } }));
    expect(synced.status, JSON.stringify(synced.body)).toBe(200);
    if (!("results" in synced.body)) throw new Error("not a sync result");
    expect(synced.body.results.filter((r) => r.status === "created")).toHaveLength(100);
    for (const r of synced.body.results) await projected(r.case!.id, 1);

    const before = await statementNow(w);
    expect(before.totals).toMatchObject({ cases: 0, caseFen: 0, totalFen: 0, totalYuan: "0.00" });
    expect(before.cases).toEqual([]);
    expect(before.uncountedCases).toHaveLength(100);
    expect(new Set(before.uncountedCases.map((x) => x.reason))).toEqual(new Set(["not_accepted"]));

    // A cap of three cases at the default 20 yuan; five accepted, the fifth then merged into the first, one rejected.
    const capped = await call(`/v1/units/${w.tree.village.id}/subsidy-settings`, {
      method: "PUT",
      token: w.staff.token,
      body: { caseCapFen: 6_000 },
    });
    expect(capped.body).toMatchObject({ caseFen: 2_000, caseCapFen: 6_000 });
    const ids = synced.body.results.map((r) => r.case!.id);
    const [a1, a2, a3, a4, a5, r1] = ids as [string, string, string, string, string, string];
    for (const id of [a1, a2, a3, a4, a5]) await accept(w, id);
    const merged = await call(`/v1/cases/${a5}/merge`, {
      token: w.staff.token,
      body: { intoCaseId: a1, note: "同一处垃圾" },
      headers: { "if-match": '"2"' },
    });
    expect(merged.status, JSON.stringify(merged.body)).toBe(200);
    await projected(a5, 3);
    const rejected = await call(`/v1/cases/${r1}/reject`, {
      token: w.staff.token,
      body: { reason: "无效上报" },
      headers: { "if-match": '"1"' },
    });
    expect(rejected.status).toBe(200);
    await projected(r1, 2);

    const after = await statementNow(w);
    expect(after.cases.map((x) => [x.caseId, x.amountFen, x.settled])).toEqual([
      [a1, 2_000, false],
      [a2, 2_000, false],
      [a3, 2_000, false],
    ]);
    expect(after.cases.every((x) => x.acceptedAt !== null)).toBe(true);
    expect(after.totals).toMatchObject({ cases: 3, caseFen: 6_000, totalFen: 6_000, totalYuan: "60.00" });
    const reasonOf = new Map(after.uncountedCases.map((x) => [x.caseId, x.reason]));
    expect([reasonOf.get(a4), reasonOf.get(a5), reasonOf.get(r1)]).toEqual([
      "over_monthly_cap",
      "merged",
      "rejected",
    ]);
    expect(after.uncountedCases).toHaveLength(97);
    expect(after.uncountedCases.filter((x) => x.reason === "not_accepted")).toHaveLength(94);

    // Settling pays the three counted cases only; nothing for the 97 others is stored.
    const settled = await call(`/v1/household-leads/${w.lead.id}/settlements`, {
      token: w.staff.token,
      body: { month: after.month },
    });
    expect(settled.status).toBe(200);
    expect(
      await rows(
        "SELECT ref_id, amount_fen FROM lead_subsidy_items WHERE lead_id = ? AND kind = 'case' ORDER BY occurred_at",
        [w.lead.id],
      ),
    ).toEqual([a1, a2, a3].map((id) => expect.objectContaining({ ref_id: id, amount_fen: 2_000 })));
  }, 120_000);
});
