import { describe, expect, it } from "vitest";
import { api, read } from "../support/client";
import { call, makeTree, makeUser, sql } from "../support/helpers";
import { makeHousehold, nameHelper } from "../support/three-line-fixtures";

async function activePairings(contactId: string) {
  const rs = await sql().execute({
    sql: "SELECT household_id, line, ended_at FROM contact_pairings WHERE contact_id = ? ORDER BY since",
    args: [contactId],
  });
  return rs.rows;
}

describe("contact pairings", () => {
  it("pairs a contact with households on their line and ends a pairing keeping its history", async () => {
    const tree = await makeTree();
    const staff = await makeUser("center_staff", tree.village);
    const lead = await makeUser("household_lead", tree.grid);
    const h1 = await makeHousehold(tree.grid);
    const h2 = await makeHousehold(tree.subgrid);
    const res = await call(`/v1/contacts/${lead.id}/households`, {
      token: staff.token,
      body: {
        pairings: [
          { householdId: h1, line: "household_lead" },
          { householdId: h2, line: "household_lead" },
        ],
      },
    });
    expect(res.status).toBe(201);
    expect(res.body.paired).toHaveLength(2);
    const again = await call(`/v1/contacts/${lead.id}/households`, {
      token: staff.token,
      body: { pairings: [{ householdId: h1, line: "household_lead" }] },
    });
    expect(again.body).toMatchObject({ paired: [], alreadyPaired: [h1] });

    const ended = await call(`/v1/contacts/${lead.id}/households/${h1}`, {
      method: "DELETE",
      token: staff.token,
    });
    expect(ended.status).toBe(204);
    const rows = await activePairings(lead.id);
    expect(rows).toHaveLength(2);
    expect(rows.find((r) => r.household_id === h1)!.ended_at).not.toBeNull();
    const profile = await call(`/v1/contacts/${lead.id}`, { token: staff.token });
    expect(profile.body.households.map((p: { householdId: string }) => p.householdId)).toEqual([h2]);
    const twice = await call(`/v1/contacts/${lead.id}/households/${h1}`, {
      method: "DELETE",
      token: staff.token,
    });
    expect(twice).toBeProblem(404);
  });

  it("refuses a household outside the contact's subtree, or the wrong line, and writes nothing", async () => {
    const tree = await makeTree();
    const townStaff = await makeUser("center_staff", tree.town);
    const member = await makeUser("party_member", tree.grid);
    const inside = await makeHousehold(tree.grid);
    const sibling = await makeHousehold(tree.otherGrid);
    const outside = await makeHousehold((await makeTree()).grid);
    for (const householdId of [sibling, outside]) {
      const res = await call(`/v1/contacts/${member.id}/households`, {
        token: townStaff.token,
        body: {
          pairings: [
            { householdId: inside, line: "party_member" },
            { householdId, line: "party_member" },
          ],
        },
      });
      expect(res).toBeProblem(404);
      expect(res.body.errors).toEqual([
        { path: "pairings.1.householdId", message: "no such household in the contact's subtree" },
      ]);
    }
    const wrongLine = await call(`/v1/contacts/${member.id}/households`, {
      token: townStaff.token,
      body: { pairings: [{ householdId: inside, line: "deputy" }] },
    });
    expect(wrongLine).toBeProblem(400);
    const worker = await makeUser("grid_worker", tree.grid);
    const notAContact = await call(`/v1/contacts/${worker.id}/households`, {
      token: townStaff.token,
      body: { pairings: [{ householdId: inside, line: "party_member" }] },
    });
    expect(notAContact).toBeProblem(400);
    const foreignStaff = await makeUser("center_staff", (await makeTree()).town);
    const foreign = await call(`/v1/contacts/${member.id}/households`, {
      token: foreignStaff.token,
      body: { pairings: [{ householdId: inside, line: "party_member" }] },
    });
    expect(foreign).toBeProblem(404);
    expect(await activePairings(member.id)).toHaveLength(0);
  });

  it("sets profiles per line and refuses fields of another line", async () => {
    const tree = await makeTree();
    const staff = await makeUser("center_staff", tree.town);
    const member = await makeUser("party_member", tree.grid);
    const ok = await call(`/v1/contacts/${member.id}/profile`, {
      method: "PUT",
      token: staff.token,
      body: { partyBranch: "第一党支部", branchUnitId: tree.village.id },
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      line: "party_member",
      partyBranch: "第一党支部",
      branchUnitId: tree.village.id,
    });
    const bad = await call(`/v1/contacts/${member.id}/profile`, {
      method: "PUT",
      token: staff.token,
      body: { deputyLevel: "town" },
    });
    expect(bad).toBeProblem(400);
  });
});

describe("GET /v1/units/{id}/coverage", () => {
  it("reports shares per line, red households without a helper and contacts over the maximum", async () => {
    const tree = await makeTree();
    const staff = await makeUser("center_staff", tree.village);
    const greens = [];
    for (let i = 0; i < 6; i++) greens.push(await makeHousehold(i < 4 ? tree.grid : tree.grid2));
    const red1 = await makeHousehold(tree.grid, "red");
    const red2 = await makeHousehold(tree.subgrid, "red");
    await makeHousehold(tree.otherGrid, "red"); // another village: not counted
    const member = await makeUser("party_member", tree.grid);
    const lead = await makeUser("household_lead", tree.village);
    await nameHelper(red1, member.id, tree.grid);
    await sql().execute({
      sql: "INSERT INTO unit_settings (unit_id, key, value) VALUES (?, 'contacts.max_households', '3')",
      args: [tree.village.id],
    });
    const pairWith = (user: { id: string }, ids: string[], line: string) =>
      call(`/v1/contacts/${user.id}/households`, {
        token: staff.token,
        body: { pairings: ids.map((householdId) => ({ householdId, line })) },
      });
    expect((await pairWith(member, [greens[0]!, red1], "party_member")).status).toBe(201);
    expect(
      (await pairWith(lead, [greens[0]!, greens[1]!, greens[2]!, greens[3]!], "household_lead")).status,
    ).toBe(201);

    const res = await call(`/v1/units/${tree.village.id}/coverage`, { token: staff.token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      households: 8,
      redHouseholds: 2,
      maxHouseholds: 3,
      lines: {
        party_member: { covered: 2, share: 0.25 },
        household_lead: { covered: 4, share: 0.5 },
        deputy: { covered: 0, share: 0 },
      },
      anyLine: { covered: 5, share: 0.625 },
      redWithoutHelper: { count: 1, householdIds: [red2] },
    });
    expect(res.body.overloadedContacts).toEqual([
      { contactId: lead.id, displayName: "Test household_lead", role: "household_lead", households: 4 },
    ]);

    // The grid's own view (its level-3 subgrid included), with the village's maximum inherited.
    const grid = await call(`/v1/units/${tree.grid.id}/coverage`, { token: staff.token });
    expect(grid.body).toMatchObject({ households: 6, redHouseholds: 2, maxHouseholds: 3 });
    expect(grid.body.redWithoutHelper).toEqual({ count: 1, householdIds: [red2] });

    const outsider = await makeUser("center_staff", tree.village2);
    expect(await call(`/v1/units/${tree.village.id}/coverage`, { token: outsider.token })).toBeProblem(404);
  });
});

describe("pairing under concurrency", () => {
  it("two requests pairing one household at once leave one active pairing; the later lists it as already paired", async () => {
    const tree = await makeTree();
    const staff = await makeUser("center_staff", tree.village);
    const lead = await makeUser("household_lead", tree.grid);
    const household = await makeHousehold(tree.grid);
    const pair = () =>
      api(staff.token)
        .v1.contacts[":userId"].households.$post({
          param: { userId: lead.id },
          json: { pairings: [{ householdId: household, line: "household_lead" }] },
        })
        .then(read);
    const results = await Promise.all([pair(), pair()]);
    expect(results.map((r) => r.status)).toEqual([201, 201]);
    const bodies = results.map(
      (r) => r.body as { paired: Array<{ householdId: string }>; alreadyPaired: string[] },
    );
    expect(bodies.flatMap((b) => b.paired.map((p) => p.householdId))).toEqual([household]);
    expect(bodies.flatMap((b) => b.alreadyPaired)).toEqual([household]);
    const rows = await activePairings(lead.id);
    expect(rows).toEqual([
      expect.objectContaining({ household_id: household, line: "household_lead", ended_at: null }),
    ]);
  });
});
