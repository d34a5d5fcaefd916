import { describe, expect, it } from "vitest";
import { projected } from "../support/case-fixtures";
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

describe("contact logs linked to cases", () => {
  it("links information collected on a visit and a dispute mediated; the links earn party points", async () => {
    const tree = await makeTree();
    const member = await makeUser("party_member", tree.grid);
    const worker = await makeUser("grid_worker", tree.grid);
    const household = await makeHousehold(tree.grid);
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
