import { describe, expect, it } from "vitest";
import { chinaMonth, chinaYear } from "../../src/domain/china-time";
import { call, makeUser, sql, type TestUser } from "../support/helpers";
import { freshIp, makeResidentWorld, type ResidentWorld, signUp } from "../support/resident-accounts";

/** Pairs a contact with the world's household on a line, as the contacts feature does. */
async function pair(world: ResidentWorld, contact: TestUser, line: "household_lead" | "party_member") {
  const now = new Date().toISOString();
  await sql().batch([
    {
      sql: `INSERT INTO contact_profiles (user_id, line, unit_id, unit_path, updated_at) VALUES (?, ?, ?, ?, ?)`,
      args: [contact.id, line, contact.unit.id, contact.unit.path, now],
    },
    {
      sql: `INSERT INTO contact_pairings (id, contact_id, household_id, line, unit_path, since, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      args: [
        crypto.randomUUID(),
        contact.id,
        world.householdId,
        line,
        world.tree.grid.path,
        now,
        world.gridWorker.id,
      ],
    },
  ]);
}

async function linkedResident(world: ResidentWorld, byIdNumber: boolean) {
  const signed = await signUp();
  const res = byIdNumber
    ? await call("/v1/resident/me/household-link", {
        token: signed.token,
        body: { idNumber: world.idNumber },
        headers: { "cf-connecting-ip": freshIp() },
      })
    : await call(`/v1/households/${world.householdId}/resident-accounts`, {
        token: world.gridWorker.token,
        body: { mobile: signed.mobile },
      });
  expect(res.status, res.text).toBe(200);
  return signed;
}

describe("residents rate their household lead and party members (群众评议)", () => {
  it("rates the paired household lead once a month, feeding the lead's statement, anonymous to the lead", async () => {
    const world = await makeResidentWorld();
    const lead = await makeUser("household_lead", world.tree.grid);
    await pair(world, lead, "household_lead");
    const unlinked = await signUp();
    expect(await call("/v1/resident/contacts", { token: unlinked.token })).toBeProblem(
      403,
      "household-not-linked",
    );
    expect(
      await call(`/v1/resident/contacts/${lead.id}/rating`, { token: unlinked.token, body: { rating: 5 } }),
    ).toBeProblem(403, "household-not-linked");

    const { token } = await linkedResident(world, true);
    const month = chinaMonth(Date.now());
    const before = await call("/v1/resident/contacts", { token });
    expect(before.body.items).toEqual([
      {
        contactId: lead.id,
        line: "household_lead",
        name: "Test household_lead",
        period: month,
        rated: false,
      },
    ]);
    const rated = await call(`/v1/resident/contacts/${lead.id}/rating`, { token, body: { rating: 4 } });
    expect(rated.status, rated.text).toBe(201);
    expect(rated.body).toEqual({ contactId: lead.id, line: "household_lead", period: month, rating: 4 });
    const again = await call(`/v1/resident/contacts/${lead.id}/rating`, { token, body: { rating: 1 } });
    expect(again).toBeProblem(409, "already-rated");
    expect((await call("/v1/resident/contacts", { token })).body.items[0].rated).toBe(true);

    const rows = await sql().execute({
      sql: "SELECT * FROM lead_ratings WHERE lead_id = ?",
      args: [lead.id],
    });
    expect(rows.rows).toHaveLength(1);
    expect(rows.rows[0]).toMatchObject({ period: month, rating: 4 });

    const statement = await call(`/v1/household-leads/${lead.id}/statement?month=${month}`, {
      token: lead.token,
    });
    expect(statement.status, statement.text).toBe(200);
    expect(statement.body.rating).toMatchObject({ count: 1, averageX100: 400 });
    expect(statement.text).not.toContain(String(rows.rows[0]!.resident_id));
  });

  it("rates paired party members once a year; reviewers see the count, and the average only from three ratings", async () => {
    const world = await makeResidentWorld();
    const member = await makeUser("party_member", world.tree.village);
    await pair(world, member, "party_member");
    const centre = await makeUser("center_staff", world.tree.village);
    const year = chinaYear(Date.now());
    const summary = () =>
      call(`/v1/contacts/${member.id}/resident-ratings?year=${year}`, { token: centre.token });

    const first = await linkedResident(world, true);
    expect(
      (await call(`/v1/resident/contacts/${member.id}/rating`, { token: first.token, body: { rating: 5 } }))
        .status,
    ).toBe(201);
    expect(
      await call(`/v1/resident/contacts/${member.id}/rating`, { token: first.token, body: { rating: 5 } }),
    ).toBeProblem(409, "already-rated");
    expect((await summary()).body).toEqual({
      memberId: member.id,
      year,
      count: 1,
      averageX100: null,
      average: null,
    });

    for (const rating of [4, 3]) {
      const other = await linkedResident(world, false);
      const res = await call(`/v1/resident/contacts/${member.id}/rating`, {
        token: other.token,
        body: { rating },
      });
      expect(res.status, res.text).toBe(201);
      expect(res.body.period).toBe(String(year));
    }
    expect((await summary()).body).toEqual({
      memberId: member.id,
      year,
      count: 3,
      averageX100: 400,
      average: "4.00",
    });

    const elsewhere = await makeUser("center_staff", world.tree.village2);
    expect(
      await call(`/v1/contacts/${member.id}/resident-ratings?year=${year}`, { token: elsewhere.token }),
    ).toBeProblem(404, "not-found");
    expect(
      await call(`/v1/contacts/${member.id}/resident-ratings?year=${year}`, { token: member.token }),
    ).toBeProblem(403, "forbidden");
  });

  it("refuses to rate a contact not paired with one's household, writing nothing", async () => {
    const world = await makeResidentWorld();
    const stranger = await makeUser("household_lead", world.tree.grid2);
    const { token } = await linkedResident(world, true);
    const res = await call(`/v1/resident/contacts/${stranger.id}/rating`, { token, body: { rating: 1 } });
    expect(res).toBeProblem(404, "not-found");
    expect(
      await call(`/v1/resident/contacts/${stranger.id}/rating`, { token, body: { rating: 6 } }),
    ).toBeProblem(400, "validation");
    const rows = await sql().execute({
      sql: "SELECT count(*) AS n FROM lead_ratings WHERE lead_id = ?",
      args: [stranger.id],
    });
    expect(Number(rows.rows[0]!.n)).toBe(0);
  });
});
