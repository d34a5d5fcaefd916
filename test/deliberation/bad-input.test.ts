import { describe, expect, it } from "vitest";
import { chinaDay, deliberationVillage, ok } from "../support/deliberation";
import { call, sql } from "../support/helpers";

describe("bad input to deliberation is a 4xx and writes nothing", () => {
  it("refuses wrong types, huge numbers, impossible dates, unknown ids, other villages and wrong levels", async () => {
    const v = await deliberationVillage();
    const m = await ok("/v1/deliberation/matters", v.staff.token, {
      unitId: v.tree.village.id,
      summary: "议题",
    });
    const { itemId } = await ok(
      `/v1/deliberation/matters/${m.id}/triage`,
      v.staff.token,
      { outcome: "agenda", title: "议题" },
      200,
    );
    const step = (body: unknown) =>
      call(`/v1/deliberation/items/${itemId}/steps`, { token: v.staff.token, body });
    const good = {
      step: "proposal",
      meeting: "party_committee",
      heldOn: chinaDay(),
      attendance: { present: 3 },
      votes: { for: 3, against: 0, abstain: 0 },
    };

    for (const bad of [
      { ...good, attendance: { present: -1 } },
      { ...good, attendance: { present: 1e300 } },
      { ...good, votes: { for: "3", against: 0, abstain: 0 } },
      { ...good, heldOn: "2026-02-30" },
      { ...good, step: "appeal" },
      { ...good, note: "\ud800" },
      { ...good, extra: true },
    ])
      expect(await step(bad)).toBeProblem(400);
    // The wrong meeting for the step is a conflict with the procedure, named.
    expect(await step({ ...good, meeting: "villagers_meeting" })).toBeProblem(409, "wrong-meeting");
    const written = await sql().execute({
      sql: "SELECT count(*) AS n FROM deliberation_steps WHERE item_id = ?",
      args: [itemId],
    });
    expect(Number(written.rows[0]!.n)).toBe(0);

    expect(await call(`/v1/deliberation/items/${crypto.randomUUID()}`, { token: v.staff.token })).toBeProblem(
      404,
    );
    expect(await call(`/v1/deliberation/items/not-a-uuid`, { token: v.staff.token })).toBeProblem(400);
    expect(await call(`/v1/deliberation/items/${itemId}`, { token: v.otherStaff.token })).toBeProblem(404);
    expect(
      await call("/v1/deliberation/matters", {
        token: v.staff.token,
        body: { unitId: v.tree.village2.id, summary: "x" },
      }),
    ).toBeProblem(404);
    expect(
      await call(`/v1/units/${v.tree.town.id}/deliberation/eligible?on=${chinaDay()}`, {
        token: v.county.token,
      }),
    ).toBeProblem(400, "bad-request");
    expect(
      await call(`/v1/units/${v.tree.village.id}/deliberation/members`, {
        token: v.staff.token,
        body: { kind: "representative", name: "甲", termStart: "2026-05-01", termEnd: "2026-04-30" },
      }),
    ).toBeProblem(400);
    expect(
      await call(`/v1/deliberation/matters/${m.id}/triage`, {
        token: v.staff.token,
        body: { outcome: "agenda", title: "x", amountYuan: 1e20 },
      }),
    ).toBeProblem(400);
    // A session's attending households are the unit's own.
    expect(
      await call(`/v1/units/${v.tree.village.id}/deliberation/sessions`, {
        token: v.staff.token,
        body: {
          kind: "open_talk",
          title: "说事会",
          heldAt: new Date().toISOString(),
          place: "村委会",
          attendeeHouseholdIds: [crypto.randomUUID()],
        },
      }),
    ).toBeProblem(400);
    // Users named are real users of the village's branch.
    expect(
      await call(`/v1/units/${v.tree.village.id}/deliberation/sessions`, {
        token: v.staff.token,
        body: {
          kind: "open_talk",
          title: "说事会",
          heldAt: new Date().toISOString(),
          place: "村委会",
          attendeeUserIds: [v.lead.id, v.otherStaff.id],
        },
      }),
    ).toBeProblem(400);
    expect(
      await call(`/v1/units/${v.tree.village.id}/deliberation/members`, {
        token: v.staff.token,
        body: { kind: "representative", name: "甲", termStart: "2026-05-01", userId: crypto.randomUUID() },
      }),
    ).toBeProblem(400);
    // A Party member may raise but not run the procedure.
    expect(
      await call(`/v1/deliberation/items/${itemId}/steps`, { token: v.party.token, body: good }),
    ).toBeProblem(403);
  });
});
