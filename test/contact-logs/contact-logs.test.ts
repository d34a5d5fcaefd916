import { describe, expect, it } from "vitest";
import { projected } from "../support/case-fixtures";
import { api, read } from "../support/client";
import { call, makeTree, makeUser, sql, type TestUser } from "../support/helpers";
import { makeHousehold } from "../support/three-line-fixtures";

async function links(contactId: string) {
  return (
    await sql().execute({
      sql: "SELECT case_id, kind, visit_id FROM contact_case_links WHERE contact_id = ?",
      args: [contactId],
    })
  ).rows;
}

async function report(user: TestUser, body: Record<string, unknown>) {
  const res = await call("/v1/cases", {
    token: user.token,
    body: { id: crypto.randomUUID(), title: "邻里宅基地纠纷", location: { address: "三组" }, ...body },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  await projected(res.body.id, 1);
  return res.body.id as string;
}

/** Pairs a contact with a household on their line, as the grid worker. */
async function pair(worker: TestUser, contact: TestUser, householdId: string, line: string) {
  const res = await call(`/v1/contacts/${contact.id}/households`, {
    token: worker.token,
    body: { pairings: [{ householdId, line }] },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

describe("contact logs linked to cases", () => {
  it("links information collected on a visit and a dispute mediated; the links earn party points", async () => {
    const tree = await makeTree();
    const member = await makeUser("party_member", tree.grid);
    const worker = await makeUser("grid_worker", tree.grid);
    const household = await makeHousehold(tree.grid);
    await pair(worker, member, household, "party_member");
    const visit = await call(`/v1/households/${household}/visits`, {
      token: member.token,
      body: { kind: "visit", notes: "了解到两户因宅基地争执" },
    });
    expect(visit.status).toBe(201);
    const dispute = await report(worker, { type: "dispute", householdIds: [household] });
    const hazard = await report(worker, { type: "safety_hazard" });

    // Before a link, the worker's cases are not the member's evidence.
    const early = await call(`/v1/party-members/${member.id}/fulfilments`, {
      token: member.token,
      body: { evidenceKind: "mediation", evidenceId: dispute },
    });
    expect(early).toBeProblem(400);

    const info = await call(`/v1/contacts/${member.id}/case-links`, {
      token: member.token,
      body: { caseId: dispute, kind: "information", visitId: visit.body.id, note: "走访中发现" },
    });
    expect(info.status, JSON.stringify(info.body)).toBe(201);
    const mediated = await call(`/v1/contacts/${member.id}/case-links`, {
      token: worker.token,
      body: { caseId: dispute, kind: "mediation" },
    });
    expect(mediated.status).toBe(201);
    expect(await links(member.id)).toHaveLength(2);
    const listed = await call(`/v1/contacts/${member.id}/case-links`, { token: worker.token });
    expect(listed.body.items.map((l: any) => l.kind).sort()).toEqual(["information", "mediation"]);

    const mediation = await call(`/v1/party-members/${member.id}/fulfilments`, {
      token: member.token,
      body: { evidenceKind: "mediation", evidenceId: dispute },
    });
    expect(mediation.body).toMatchObject({ points: 8 });
    const handled = await call(`/v1/party-members/${member.id}/fulfilments`, {
      token: member.token,
      body: { evidenceKind: "case", evidenceId: dispute },
    });
    expect(handled.body).toMatchObject({ points: 5 });
    const unlinked = await call(`/v1/party-members/${member.id}/fulfilments`, {
      token: member.token,
      body: { evidenceKind: "case", evidenceId: hazard },
    });
    expect(unlinked).toBeProblem(400);
  });

  it("refuses a mediation of a non-dispute, a foreign visit or case, another contact's log, and a repeat", async () => {
    const tree = await makeTree();
    const member = await makeUser("party_member", tree.grid);
    const lead = await makeUser("household_lead", tree.grid);
    const worker = await makeUser("grid_worker", tree.grid);
    const household = await makeHousehold(tree.grid);
    const elsewhere = await makeHousehold(tree.grid);
    const hazard = await report(worker, { type: "safety_hazard", householdIds: [household] });
    const foreignWorker = await makeUser("grid_worker", tree.otherGrid);
    const foreign = await report(foreignWorker, { type: "dispute" });
    const leadsVisit = await call(`/v1/households/${household}/visits`, {
      token: lead.token,
      body: { kind: "phone" },
    });
    const visitElsewhere = await call(`/v1/households/${elsewhere}/visits`, {
      token: member.token,
      body: { kind: "visit" },
    });
    const post = (user: TestUser, contactId: string, body: Record<string, unknown>) =>
      call(`/v1/contacts/${contactId}/case-links`, { token: user.token, body });

    const cases: Array<[number, Awaited<ReturnType<typeof post>>]> = [
      [400, await post(member, member.id, { caseId: hazard, kind: "mediation" })],
      [400, await post(member, member.id, { caseId: foreign, kind: "information" })],
      [400, await post(member, member.id, { caseId: crypto.randomUUID(), kind: "information" })],
      [
        400,
        await post(member, member.id, { caseId: hazard, kind: "information", visitId: leadsVisit.body.id }),
      ],
      [
        400,
        await post(member, member.id, {
          caseId: hazard,
          kind: "information",
          visitId: visitElsewhere.body.id,
        }),
      ],
      [403, await post(lead, member.id, { caseId: hazard, kind: "information" })],
      [400, await post(worker, worker.id, { caseId: hazard, kind: "information" })],
    ];
    for (const [status, res] of cases) expect(res, JSON.stringify(res.body)).toBeProblem(status);
    expect(await links(member.id)).toHaveLength(0);
    expect(await links(lead.id)).toHaveLength(0);
    await pair(worker, lead, household, "household_lead");

    expect(
      (await post(lead, lead.id, { caseId: hazard, kind: "information", visitId: leadsVisit.body.id }))
        .status,
    ).toBe(201);
    expect(await post(lead, lead.id, { caseId: hazard, kind: "information" })).toBeProblem(
      409,
      "already-linked",
    );
    expect(await links(lead.id)).toHaveLength(1);
  });
});

describe("a contact links logs only to cases they are on", () => {
  it("refuses a self-link to a dispute the member had no part in (403 not-on-case, nothing stored, no points)", async () => {
    const tree = await makeTree();
    const member = await makeUser("party_member", tree.grid);
    const worker = await makeUser("grid_worker", tree.grid);
    const household = await makeHousehold(tree.grid);
    const dispute = await report(worker, { type: "dispute", householdIds: [household] });

    for (const kind of ["mediation", "information"] as const) {
      const res = await read(
        await api(member.token).v1.contacts[":userId"]["case-links"].$post({
          param: { userId: member.id },
          json: { caseId: dispute, kind },
        }),
      );
      expect(res).toBeProblem(403, "not-on-case");
      expect(JSON.stringify(res.body)).toContain("paired with one of its households");
    }
    // Staff cannot link them either: the rule is about the contact, not who asks.
    const byWorker = await call(`/v1/contacts/${member.id}/case-links`, {
      token: worker.token,
      body: { caseId: dispute, kind: "mediation" },
    });
    expect(byWorker).toBeProblem(403, "not-on-case");
    expect(await links(member.id)).toHaveLength(0);
    const claim = await call(`/v1/party-members/${member.id}/fulfilments`, {
      token: member.token,
      body: { evidenceKind: "mediation", evidenceId: dispute },
    });
    expect(claim).toBeProblem(400);
    expect(
      (
        await sql().execute({
          sql: "SELECT id FROM party_fulfilments WHERE member_id = ?",
          args: [member.id],
        })
      ).rows,
    ).toHaveLength(0);
  });

  it("accepts a link by the case's reporter, and refuses the same contact on a case they are not on", async () => {
    const tree = await makeTree();
    const lead = await makeUser("household_lead", tree.grid);
    const worker = await makeUser("grid_worker", tree.grid);
    const own = await report(lead, { type: "dispute" });
    const res = await read(
      await api(lead.token).v1.contacts[":userId"]["case-links"].$post({
        param: { userId: lead.id },
        json: { caseId: own, kind: "mediation", note: "组织双方当面协商" },
      }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const byWorker = await report(worker, { type: "dispute" });
    expect(await links(lead.id)).toEqual([expect.objectContaining({ case_id: own, kind: "mediation" })]);
    const notOn = await call(`/v1/contacts/${lead.id}/case-links`, {
      token: lead.token,
      body: { caseId: byWorker, kind: "mediation" },
    });
    expect(notOn).toBeProblem(403, "not-on-case");
  });
});

describe("back-dated contacts with households", () => {
  async function clock(householdId: string) {
    const [row] = (
      await sql().execute({
        sql: "SELECT last_visit_at, next_visit_due FROM households WHERE id = ?",
        args: [householdId],
      })
    ).rows;
    return { last: row!.last_visit_at, due: row!.next_visit_due };
  }
  const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();

  it("refuses contacts dated beyond the window (five phone calls dated in 2025: no visit, no clock change, no points)", async () => {
    const tree = await makeTree();
    const member = await makeUser("party_member", tree.grid);
    const households = await Promise.all(Array.from({ length: 5 }, () => makeHousehold(tree.grid, "yellow")));
    const before = await Promise.all(households.map(clock));
    for (const [i, householdId] of households.entries()) {
      const res = await read(
        await api(member.token).v1.households[":id"].visits.$post({
          param: { id: householdId },
          json: { kind: "phone", visitedAt: `2025-0${i + 1}-15T02:00:00.000Z`, notes: "电话回访" },
        }),
      );
      expect(res).toBeProblem(400);
      expect(JSON.stringify(res.body)).toContain("more than 7 days back");
    }
    expect(await Promise.all(households.map(clock))).toEqual(before);
    const stored = await sql().execute({
      sql: "SELECT id FROM visits WHERE visitor_user_id = ?",
      args: [member.id],
    });
    expect(stored.rows).toHaveLength(0);
  });

  it("marks a contact within the window as recorded late and moves the clock only to its date", async () => {
    const tree = await makeTree();
    const member = await makeUser("party_member", tree.grid);
    const household = await makeHousehold(tree.grid, "yellow");
    const threeDaysAgo = daysAgo(3);
    const late = await read(
      await api(member.token).v1.households[":id"].visits.$post({
        param: { id: household },
        json: { kind: "visit", visitedAt: threeDaysAgo, notes: "补录入户走访" },
      }),
    );
    expect(late.status, JSON.stringify(late.body)).toBe(201);
    if (!("recordedLate" in late.body)) throw new Error("not a visit");
    expect(late.body).toMatchObject({ recordedLate: true, visitedAt: threeDaysAgo });
    expect((await clock(household)).last).toBe(threeDaysAgo);
    const onTime = await call(`/v1/households/${household}/visits`, {
      token: member.token,
      body: { kind: "phone" },
    });
    expect(onTime.status).toBe(201);
    expect(onTime.body.recordedLate).toBe(false);
    const stored = await sql().execute({
      sql: "SELECT id, recorded_late FROM visits WHERE household_id = ? ORDER BY visited_at",
      args: [household],
    });
    expect(stored.rows.map((r) => [r.id, Number(r.recorded_late)])).toEqual([
      [late.body.id, 1],
      [onTime.body.id, 0],
    ]);
  });

  it("takes the window from the unit setting, inherited down the tree", async () => {
    const tree = await makeTree();
    const member = await makeUser("party_member", tree.grid);
    const household = await makeHousehold(tree.grid, "yellow");
    await sql().execute({
      sql: "INSERT INTO unit_settings (unit_id, key, value, updated_at) VALUES (?, 'contacts.late_window_days', '2', ?)",
      args: [tree.village.id, new Date().toISOString()],
    });
    const before = await clock(household);
    const tooOld = await call(`/v1/households/${household}/visits`, {
      token: member.token,
      body: { kind: "visit", visitedAt: daysAgo(3) },
    });
    expect(tooOld).toBeProblem(400);
    expect(tooOld.body.errors).toEqual([{ path: "visitedAt", message: "more than 2 days back" }]);
    expect(await clock(household)).toEqual(before);
    const inside = await call(`/v1/households/${household}/visits`, {
      token: member.token,
      body: { kind: "visit", visitedAt: daysAgo(1.5) },
    });
    expect(inside.status).toBe(201);
    expect(inside.body.recordedLate).toBe(true);
  });
});
