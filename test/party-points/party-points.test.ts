import { describe, expect, it } from "vitest";
import { rankByPoints } from "../../src/domain/points";
import { projected } from "../support/case-fixtures";
import { api, read } from "../support/client";
import { call, makeTree, makeUser, sql, type TestUser } from "../support/helpers";
import { makeHousehold } from "../support/three-line-fixtures";

async function rows(query: string, args: Array<string | number>) {
  return (await sql().execute({ sql: query, args })).rows;
}

async function ledger(memberId: string) {
  return rows("SELECT * FROM party_point_entries WHERE member_id = ? ORDER BY seq", [memberId]);
}

async function setSetting(unitId: string, key: string, value: string) {
  await sql().execute({
    sql: "INSERT INTO unit_settings (unit_id, key, value, updated_at) VALUES (?, ?, ?, ?)",
    args: [unitId, key, value, new Date().toISOString()],
  });
}

/** Records a visit by `member` through the households area's endpoint; returns its id. */
async function visit(member: TestUser, householdId: string): Promise<string> {
  const res = await call(`/v1/households/${householdId}/visits`, {
    token: member.token,
    body: { kind: "visit", notes: "走访" },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

/** Confirms a member's fulfilment as `by`; returns the response (asserting 200). */
async function confirm(by: TestUser, memberId: string, fulfilmentId: string) {
  const res = await call(`/v1/party-members/${memberId}/fulfilments/${fulfilmentId}/decision`, {
    token: by.token,
    body: { decision: "confirm" },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res;
}

describe("party pledges", () => {
  it("a member pledges for a year; a pledge for another member is 403 and writes nothing", async () => {
    const tree = await makeTree();
    const a = await makeUser("party_member", tree.grid);
    const b = await makeUser("party_member", tree.grid);
    const staff = await makeUser("center_staff", tree.village);
    const body = { year: 2026, text: "每月走访联系户", target: "12 次走访", dueDate: "2026-12-31" };

    const ok = await call(`/v1/party-members/${a.id}/pledges`, { token: a.token, body });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ memberId: a.id, year: 2026, target: "12 次走访" });

    const forOther = await call(`/v1/party-members/${b.id}/pledges`, { token: a.token, body });
    expect(forOther).toBeProblem(403);
    const byStaff = await call(`/v1/party-members/${b.id}/pledges`, { token: staff.token, body });
    expect(byStaff).toBeProblem(403);
    const wrongYear = await call(`/v1/party-members/${a.id}/pledges`, {
      token: a.token,
      body: { ...body, dueDate: "2027-01-01" },
    });
    expect(wrongYear).toBeProblem(400);
    expect(wrongYear.body.errors).toEqual([{ path: "dueDate", message: "not in 2026" }]);

    expect(await rows("SELECT id FROM party_pledges WHERE member_id = ?", [b.id])).toHaveLength(0);
    expect(await rows("SELECT id FROM party_pledges WHERE member_id = ?", [a.id])).toHaveLength(1);
    const listed = await call(`/v1/party-members/${a.id}/pledges?year=2026`, { token: staff.token });
    expect(listed.body.pledges.map((p: { id: string }) => p.id)).toEqual([ok.body.id]);
  });
});

describe("fulfilments and the points ledger", () => {
  it("a visit earns the points set on the branch's unit (deepest setting wins) with reason and source", async () => {
    const tree = await makeTree();
    const member = await makeUser("party_member", tree.grid);
    const other = await makeUser("party_member", tree.grid);
    const staff = await makeUser("center_staff", tree.town);
    await setSetting(tree.city.id, "points.visit", "7");
    await setSetting(tree.village.id, "points.visit", "3");
    await setSetting(tree.grid.id, "points.visit", "9"); // below the branch: does not apply
    const profile = await call(`/v1/contacts/${member.id}/profile`, {
      method: "PUT",
      token: staff.token,
      body: { partyBranch: "一村党支部", branchUnitId: tree.village.id },
    });
    expect(profile.status).toBe(200);
    const household = await makeHousehold(tree.grid);
    const visitId = await visit(member, household);
    const pledge = await call(`/v1/party-members/${member.id}/pledges`, {
      token: member.token,
      body: { year: 2025, text: "走访", target: "走访困难户", dueDate: "2025-12-31" },
    });

    const res = await call(`/v1/party-members/${member.id}/fulfilments`, {
      token: member.token,
      body: { evidenceKind: "visit", evidenceId: visitId, pledgeId: pledge.body.id, note: "送米面油" },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({
      evidenceKind: "visit",
      points: 3,
      year: 2025,
      pledgeId: pledge.body.id,
      status: "pending",
      entry: null,
    });
    expect(await ledger(member.id)).toHaveLength(0);
    const confirmed = await confirm(staff, member.id, res.body.id);
    expect(confirmed.body).toMatchObject({ status: "confirmed", decidedBy: staff.id });
    expect(confirmed.body.entry).toMatchObject({
      points: 3,
      sourceKind: "fulfilment",
      sourceId: res.body.id,
      createdBy: staff.id,
    });
    expect(confirmed.body.entry.reason).toContain(visitId);
    const entries = await ledger(member.id);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      points: 3,
      year: 2025,
      source_kind: "fulfilment",
      source_id: res.body.id,
    });

    // The same evidence twice, someone else's visit, a missing visit, or for another member: nothing written.
    const twice = await call(`/v1/party-members/${member.id}/fulfilments`, {
      token: member.token,
      body: { evidenceKind: "visit", evidenceId: visitId },
    });
    expect(twice).toBeProblem(409, "evidence-claimed");
    const othersVisit = await visit(other, household);
    const notMine = await call(`/v1/party-members/${member.id}/fulfilments`, {
      token: member.token,
      body: { evidenceKind: "visit", evidenceId: othersVisit },
    });
    expect(notMine).toBeProblem(400);
    expect(notMine.body.errors).toEqual([
      { path: "evidenceId", message: "the visit was made by someone else" },
    ]);
    const missing = await call(`/v1/party-members/${member.id}/fulfilments`, {
      token: member.token,
      body: { evidenceKind: "visit", evidenceId: crypto.randomUUID() },
    });
    expect(missing).toBeProblem(400);
    const forOther = await call(`/v1/party-members/${other.id}/fulfilments`, {
      token: member.token,
      body: { evidenceKind: "visit", evidenceId: othersVisit },
    });
    expect(forOther).toBeProblem(403);
    expect(await ledger(member.id)).toHaveLength(1);
    expect(await ledger(other.id)).toHaveLength(0);
    expect(
      await rows("SELECT id FROM party_fulfilments WHERE member_id IN (?, ?)", [member.id, other.id]),
    ).toHaveLength(1);
  });

  it("a case the member reported and a dispute they mediated earn the default points; others' cases do not", async () => {
    const tree = await makeTree();
    const member = await makeUser("party_member", tree.grid);
    const worker = await makeUser("grid_worker", tree.grid);
    const staff = await makeUser("center_staff", tree.village);
    const report = async (user: TestUser, type: string) => {
      const res = await call("/v1/cases", {
        token: user.token,
        body: { id: crypto.randomUUID(), type, title: "邻里纠纷", location: { address: "三组" } },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      await projected(res.body.id, 1);
      return res.body.id as string;
    };
    const dispute = await report(member, "dispute");
    const hazard = await report(member, "safety_hazard");
    const workers = await report(worker, "dispute");
    const fulfil = (evidenceKind: string, evidenceId: string) =>
      call(`/v1/party-members/${member.id}/fulfilments`, {
        token: member.token,
        body: { evidenceKind, evidenceId },
      });

    const handled = await fulfil("case", hazard);
    expect(handled.body).toMatchObject({ points: 5, year: new Date().getUTCFullYear() });
    const mediated = await fulfil("mediation", dispute);
    expect(mediated.body).toMatchObject({ points: 8 });
    await confirm(staff, member.id, handled.body.id);
    await confirm(staff, member.id, mediated.body.id);
    const notDispute = await fulfil("mediation", hazard);
    expect(notDispute).toBeProblem(400);
    expect(notDispute.body.errors[0].message).toBe("a mediation is a dispute case");
    const notTheirs = await fulfil("mediation", workers);
    expect(notTheirs).toBeProblem(400);
    expect(await fulfil("case", crypto.randomUUID())).toBeProblem(400);
    expect((await ledger(member.id)).map((e) => e.points)).toEqual([5, 8]);
  });

  it("the ledger refuses UPDATE and DELETE at the database; a correction is a new entry", async () => {
    const tree = await makeTree();
    const member = await makeUser("party_member", tree.grid);
    const staff = await makeUser("center_staff", tree.village);
    const visitId = await visit(member, await makeHousehold(tree.grid));
    const made = await call(`/v1/party-members/${member.id}/fulfilments`, {
      token: member.token,
      body: { evidenceKind: "visit", evidenceId: visitId },
    });
    const seq = (await confirm(staff, member.id, made.body.id)).body.entry.seq as number;
    await expect(
      sql().execute({ sql: "UPDATE party_point_entries SET points = 100 WHERE seq = ?", args: [seq] }),
    ).rejects.toThrow(/append-only/);
    await expect(
      sql().execute({ sql: "DELETE FROM party_point_entries WHERE seq = ?", args: [seq] }),
    ).rejects.toThrow(/append-only/);
    expect((await ledger(member.id))[0]).toMatchObject({ seq, points: 2 });

    const year = made.body.year as number;
    const correction = await call(`/v1/party-members/${member.id}/point-corrections`, {
      token: staff.token,
      body: { correctsSeq: seq, points: -2, reason: "走访记录重复" },
    });
    expect(correction.status, JSON.stringify(correction.body)).toBe(201);
    expect(correction.body).toMatchObject({
      points: -2,
      year,
      sourceKind: "correction",
      sourceId: String(seq),
      reason: "走访记录重复",
      createdBy: staff.id,
    });
    const points = await call(`/v1/party-members/${member.id}/points?year=${year}`, { token: staff.token });
    expect(points.body).toMatchObject({ total: 0 });
    expect(points.body.entries.map((e: { points: number }) => e.points)).toEqual([2, -2]);

    // Bad corrections: zero, unknown entry, by the member themself. Nothing is written.
    const zero = await call(`/v1/party-members/${member.id}/point-corrections`, {
      token: staff.token,
      body: { correctsSeq: seq, points: 0, reason: "x" },
    });
    expect(zero).toBeProblem(400);
    const unknown = await call(`/v1/party-members/${member.id}/point-corrections`, {
      token: staff.token,
      body: { correctsSeq: 2_000_000_000, points: 1, reason: "x" },
    });
    expect(unknown).toBeProblem(400);
    const self = await call(`/v1/party-members/${member.id}/point-corrections`, {
      token: member.token,
      body: { correctsSeq: seq, points: 10, reason: "x" },
    });
    expect(self).toBeProblem(403);
    expect(await ledger(member.id)).toHaveLength(2);
  });
});

describe("annual review and ranking", () => {
  it("the branch records one rating per member and year", async () => {
    const tree = await makeTree();
    const member = await makeUser("party_member", tree.grid);
    const villageStaff = await makeUser("center_staff", tree.village);
    const townStaff = await makeUser("center_staff", tree.town);
    const otherVillage = await makeUser("center_staff", tree.village2);
    await call(`/v1/contacts/${member.id}/profile`, {
      method: "PUT",
      token: townStaff.token,
      body: { partyBranch: "镇机关党支部", branchUnitId: tree.town.id },
    });
    // The branch is the town: village staff do not hold its review.
    const village = await call(`/v1/party-members/${member.id}/reviews`, {
      token: villageStaff.token,
      body: { year: 2025, rating: "excellent" },
    });
    expect(village).toBeProblem(403);
    const outside = await call(`/v1/party-members/${member.id}/reviews`, {
      token: otherVillage.token,
      body: { year: 2025, rating: "excellent" },
    });
    expect(outside).toBeProblem(404);
    const ok = await call(`/v1/party-members/${member.id}/reviews`, {
      token: townStaff.token,
      body: { year: 2025, rating: "qualified", note: "完成承诺" },
    });
    expect(ok.status).toBe(201);
    const again = await call(`/v1/party-members/${member.id}/reviews`, {
      token: townStaff.token,
      body: { year: 2025, rating: "excellent" },
    });
    expect(again).toBeProblem(409, "already-reviewed");
    const stored = await rows("SELECT rating, reviewed_by FROM party_reviews WHERE member_id = ?", [
      member.id,
    ]);
    expect(stored).toEqual([expect.objectContaining({ rating: "qualified", reviewed_by: townStaff.id })]);
  });

  it("ranks a subtree's members by the year's total, ties sharing a rank, across pages", async () => {
    const tree = await makeTree();
    const staff = await makeUser("center_staff", tree.town);
    const [a, b, c, d, outside] = await Promise.all([
      makeUser("party_member", tree.grid),
      makeUser("party_member", tree.subgrid),
      makeUser("party_member", tree.village),
      makeUser("party_member", tree.grid2),
      makeUser("party_member", tree.otherGrid),
    ]);
    const add = (memberId: string, year: number, points: number) =>
      sql().execute({
        sql: `INSERT INTO party_point_entries (member_id, year, points, reason, source_kind, source_id, created_by, created_at)
              VALUES (?, ?, ?, 'test', 'fulfilment', ?, ?, ?)`,
        args: [memberId, year, points, crypto.randomUUID(), staff.id, new Date().toISOString()],
      });
    await add(a.id, 2026, 10);
    await add(b.id, 2026, 30);
    await add(c.id, 2026, 8);
    await add(c.id, 2026, 2); // c totals 10, tied with a
    await add(d.id, 2025, 50); // another year
    await add(outside.id, 2026, 99);
    await sql().execute({
      sql: `INSERT INTO party_reviews (id, member_id, unit_path, year, rating, reviewed_by, created_at)
            VALUES (?, ?, ?, 2026, 'excellent', ?, ?)`,
      args: [crypto.randomUUID(), b.id, tree.subgrid.path, staff.id, new Date().toISOString()],
    });

    const res = await call(`/v1/units/${tree.village.id}/party-points?year=2026`, { token: staff.token });
    expect(res.status).toBe(200);
    const expected = rankByPoints([
      { id: b.id, total: 30 },
      ...[
        { id: a.id, total: 10 },
        { id: c.id, total: 10 },
      ].sort((x, y) => (x.id < y.id ? -1 : 1)),
      { id: d.id, total: 0 },
    ]).map((r) => [r.item.id, r.item.total, r.rank]);
    expect(res.body.items.map((i: any) => [i.memberId, i.total, i.rank])).toEqual(expected);
    expect(expected.map((e) => e[2])).toEqual([1, 2, 2, 4]);
    expect(res.body.items[0].review).toBe("excellent");

    const page1 = await call(`/v1/units/${tree.village.id}/party-points?year=2026&limit=2`, {
      token: staff.token,
    });
    const page2 = await call(
      `/v1/units/${tree.village.id}/party-points?year=2026&limit=2&cursor=${page1.body.nextCursor}`,
      { token: staff.token },
    );
    expect([...page1.body.items, ...page2.body.items].map((i: any) => [i.memberId, i.total, i.rank])).toEqual(
      expected,
    );
    expect(page2.body.nextCursor).toBeNull();

    const foreign = await makeUser("center_staff", tree.village2);
    expect(
      await call(`/v1/units/${tree.village.id}/party-points?year=2026`, { token: foreign.token }),
    ).toBeProblem(404);
    expect(
      await call(`/v1/units/${tree.village.id}/party-points?year=20x6`, { token: staff.token }),
    ).toBeProblem(400);
  });
});

describe("one review per member and year, under concurrency", () => {
  it("two reviews of one year at once: one 201, one 409, one stored review and one audit row", async () => {
    const tree = await makeTree();
    const member = await makeUser("party_member", tree.grid);
    const staff = await makeUser("center_staff", tree.village);
    const review = (rating: "excellent" | "qualified") =>
      api(staff.token)
        .v1["party-members"][":memberId"].reviews.$post({
          param: { memberId: member.id },
          json: { year: 2025, rating, note: "年度评议" },
        })
        .then(read);
    const results = await Promise.all([review("excellent"), review("qualified")]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    expect(results.find((r) => r.status === 409)).toBeProblem(409, "already-reviewed");
    const stored = await rows("SELECT id FROM party_reviews WHERE member_id = ?", [member.id]);
    expect(stored).toHaveLength(1);
    expect(
      await rows("SELECT object_id FROM audit_log WHERE action = 'party.review' AND object_id IN (?, ?)", [
        String(stored[0]!.id),
        crypto.randomUUID(),
      ]),
    ).toHaveLength(1);
  });

  it("the points response's review is null before the review, and the served schema allows null there", async () => {
    const tree = await makeTree();
    const member = await makeUser("party_member", tree.grid);
    const res = await read(
      await api(member.token).v1["party-members"][":memberId"].points.$get({
        param: { memberId: member.id },
        query: { year: "2025" },
      }),
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ memberId: member.id, year: 2025, total: 0, entries: [], review: null });
    const doc = await call("/openapi.json");
    const operation = doc.body.paths["/v1/party-members/{memberId}/points"].get;
    const review = operation.responses["200"].content["application/json"].schema.properties.review;
    expect(review).toMatchObject({ anyOf: [{ $ref: "#/components/schemas/PartyReview" }, { type: "null" }] });
  });
});

describe("a fulfilment counts only once someone else confirms it", () => {
  it("a visit's points stay pending until the village centre confirms; the member, a stranger or a second decision cannot", async () => {
    const tree = await makeTree();
    const member = await makeUser("party_member", tree.grid);
    const villageStaff = await makeUser("center_staff", tree.village);
    const worker = await makeUser("grid_worker", tree.grid);
    const otherVillage = await makeUser("center_staff", tree.village2);
    const visitId = await visit(member, await makeHousehold(tree.grid));
    const year = new Date().getUTCFullYear();
    const made = await read(
      await api(member.token).v1["party-members"][":memberId"].fulfilments.$post({
        param: { memberId: member.id },
        json: { evidenceKind: "visit", evidenceId: visitId, note: "入户走访独居老人" },
      }),
    );
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    if (!("status" in made.body)) throw new Error("not a fulfilment");
    expect(made.body).toMatchObject({ status: "pending", points: 2, entry: null, decidedBy: null });
    const pointsNow = async () =>
      read(
        await api(villageStaff.token).v1["party-members"][":memberId"].points.$get({
          param: { memberId: member.id },
          query: { year: String(year) },
        }),
      );
    expect((await pointsNow()).body).toMatchObject({ total: 0, entries: [] });

    const decide = (user: TestUser, decision: "confirm" | "reject") =>
      api(user.token)
        .v1["party-members"][":memberId"].fulfilments[":fulfilmentId"].decision.$post({
          param: { memberId: member.id, fulfilmentId: made.body.id },
          json: { decision },
        })
        .then(read);
    expect(await decide(member, "confirm")).toBeProblem(403);
    const notHandler = await decide(worker, "confirm");
    expect(notHandler).toBeProblem(403, "confirmation-rule");
    expect(await decide(otherVillage, "confirm")).toBeProblem(404);
    expect(await ledger(member.id)).toHaveLength(0);
    expect(await rows("SELECT status FROM party_fulfilments WHERE id = ?", [made.body.id])).toEqual([
      expect.objectContaining({ status: "pending" }),
    ]);

    const confirmed = await decide(villageStaff, "confirm");
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);
    expect(confirmed.body).toMatchObject({
      status: "confirmed",
      decidedBy: villageStaff.id,
      entry: {
        points: 2,
        year,
        sourceKind: "fulfilment",
        sourceId: made.body.id,
        createdBy: villageStaff.id,
      },
    });
    expect((await pointsNow()).body).toMatchObject({ total: 2 });
    expect(await decide(villageStaff, "reject")).toBeProblem(409, "already-decided");
    expect(await ledger(member.id)).toHaveLength(1);
    expect(
      await rows("SELECT status, decided_by FROM party_fulfilments WHERE id = ?", [made.body.id]),
    ).toEqual([expect.objectContaining({ status: "confirmed", decided_by: villageStaff.id })]);
  });

  it("the case's handler confirms a mediation; a rejected fulfilment earns nothing", async () => {
    const tree = await makeTree();
    const member = await makeUser("party_member", tree.grid);
    const handler = await makeUser("grid_worker", tree.grid);
    const bystander = await makeUser("grid_worker", tree.grid);
    const staff = await makeUser("center_staff", tree.village);
    const reported = await call("/v1/cases", {
      token: member.token,
      body: {
        id: crypto.randomUUID(),
        type: "dispute",
        title: "两户因排水沟争执",
        location: { address: "三组" },
      },
    });
    expect(reported.status, JSON.stringify(reported.body)).toBe(201);
    const caseId = reported.body.id as string;
    const accepted = await call(`/v1/cases/${caseId}/accept`, {
      token: handler.token,
      body: {},
      headers: { "if-match": '"1"' },
    });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    await projected(caseId, 2);
    const fulfil = (evidenceKind: "case" | "mediation") =>
      call(`/v1/party-members/${member.id}/fulfilments`, {
        token: member.token,
        body: { evidenceKind, evidenceId: caseId },
      });
    const mediation = await fulfil("mediation");
    const handled = await fulfil("case");
    expect([mediation.body.status, handled.body.status]).toEqual(["pending", "pending"]);

    const decideAs = (user: TestUser, fulfilmentId: string, decision: "confirm" | "reject") =>
      call(`/v1/party-members/${member.id}/fulfilments/${fulfilmentId}/decision`, {
        token: user.token,
        body: { decision, note: "核实属实" },
      });
    expect(await decideAs(bystander, mediation.body.id, "confirm")).toBeProblem(403, "confirmation-rule");
    const byHandler = await decideAs(handler, mediation.body.id, "confirm");
    expect(byHandler.status, JSON.stringify(byHandler.body)).toBe(200);
    expect(byHandler.body.entry).toMatchObject({ points: 8, createdBy: handler.id });
    const rejected = await decideAs(staff, handled.body.id, "reject");
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({ status: "rejected", decidedBy: staff.id, entry: null });
    expect((await ledger(member.id)).map((e) => [e.points, e.source_id])).toEqual([[8, mediation.body.id]]);
  });
});
