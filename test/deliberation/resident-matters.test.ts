import { describe, expect, it } from "vitest";
import { caseIdOf, must, projected } from "../support/case-fixtures";
import { ok } from "../support/deliberation";
import { call, sql } from "../support/helpers";
import { makeResidentWorld, signUp } from "../support/resident-accounts";

/** A resident of a household registered in the world's grid, signed up and linked by its grid worker. */
async function linkedResident() {
  const w = await makeResidentWorld();
  const r = await signUp();
  await ok(
    `/v1/households/${w.householdId}/resident-accounts`,
    w.gridWorker.token,
    { mobile: r.mobile },
    200,
  );
  return { w, r };
}

const events = (m: { history: Array<{ event: string }> }) => m.history.map((h) => h.event);

describe("residents raise matters to their village", () => {
  it("refuses an unlinked account and a staff token, and writes nothing", async () => {
    const w = await makeResidentWorld();
    const r = await signUp();
    const summary = `村口垃圾无人清运-${crypto.randomUUID()}`;
    expect(await call("/v1/resident/matters", { token: r.token, body: { summary } })).toBeProblem(
      403,
      "household-not-linked",
    );
    expect(
      await call("/v1/resident/matters", { token: w.villageCentre.token, body: { summary } }),
    ).toBeProblem(401);
    expect(await call("/v1/resident/matters", { token: r.token, body: { summary: "   " } })).toBeProblem(400);
    expect(
      await call("/v1/resident/matters", { token: r.token, body: { summary: "井".repeat(2001) } }),
    ).toBeProblem(400);
    expect(
      await call("/v1/resident/matters", {
        token: r.token,
        body: { summary: "水井", unitId: w.tree.village.id },
      }),
    ).toBeProblem(400);
    expect(await call("/v1/resident/matters?cursor=not-a-cursor", { token: r.token })).toBeProblem(400);
    expect(await call("/v1/resident/matters/not-a-uuid", { token: r.token })).toBeProblem(400);
    const stored = await sql().execute({
      sql: "SELECT count(*) AS n FROM deliberation_matters WHERE summary = ? OR raised_by_account_id = ?",
      args: [summary, r.account.id],
    });
    expect(Number(stored.rows[0]?.n)).toBe(0);
  });

  it("raises a matter to the household's village, shows it to the village, and only to its raiser among residents", async () => {
    const { w, r } = await linkedResident();
    const res = await call("/v1/resident/matters", {
      token: r.token,
      body: { summary: "二组水井水质浑浊，希望检测" },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.headers.get("location")).toBe(`/v1/resident/matters/${res.body.id}`);
    expect(res.body).toMatchObject({
      unitId: w.tree.village.id,
      summary: "二组水井水质浑浊，希望检测",
      status: "raised",
      outcome: null,
    });
    expect(events(res.body)).toEqual(["raised"]);
    expect(res.body).not.toHaveProperty("raisedByUserId");
    const row = (
      await sql().execute({ sql: "SELECT * FROM deliberation_matters WHERE id = ?", args: [res.body.id] })
    ).rows[0]!;
    expect(row).toMatchObject({
      unit_id: w.tree.village.id,
      household_id: w.householdId,
      raised_by_account_id: r.account.id,
      session_id: null,
    });
    const audit = await sql().execute({
      sql: "SELECT actor_role FROM audit_log WHERE object_id = ? AND action = 'deliberation.matter'",
      args: [res.body.id],
    });
    expect(audit.rows.map((a) => a.actor_role)).toEqual(["resident"]);

    const seen = await ok(
      `/v1/deliberation/matters/${res.body.id}`,
      w.villageCentre.token,
      undefined,
      200,
      "GET",
    );
    expect(seen).toMatchObject({ raisedByResident: true, raisedByUserId: null, householdId: w.householdId });

    // Another resident neither reads it nor lists it; a staff token is not a resident's.
    const other = await signUp();
    expect(await call(`/v1/resident/matters/${res.body.id}`, { token: other.token })).toBeProblem(404);
    expect((await call("/v1/resident/matters", { token: other.token })).body).toEqual({
      items: [],
      nextCursor: null,
    });
    expect(await call(`/v1/resident/matters/${res.body.id}`, { token: w.villageCentre.token })).toBeProblem(
      401,
    );

    // Declined: the reason is shown to the resident; the list pages newest first.
    await ok(
      `/v1/deliberation/matters/${res.body.id}/triage`,
      w.villageCentre.token,
      { outcome: "declined", reason: "已由县疾控中心检测，水质达标" },
      200,
    );
    const second = await ok("/v1/resident/matters", r.token, { summary: "希望增设健身器材" });
    const page1 = (await call("/v1/resident/matters?limit=1", { token: r.token })).body;
    expect(page1.items.map((m: { id: string }) => m.id)).toEqual([second.id]);
    const page2 = (await call(`/v1/resident/matters?limit=1&cursor=${page1.nextCursor}`, { token: r.token }))
      .body;
    expect(page2).toEqual({
      items: [
        {
          id: res.body.id,
          summary: "二组水井水质浑浊，希望检测",
          raisedAt: res.body.raisedAt,
          outcome: "declined",
          status: "closed",
        },
      ],
      nextCursor: null,
    });
    const declined = await ok(`/v1/resident/matters/${res.body.id}`, r.token, undefined, 200, "GET");
    expect(declined).toMatchObject({ status: "closed", answer: "已由县疾控中心检测，水质达标" });
    expect(events(declined)).toEqual(["raised", "declined"]);
  });
});

describe("a matter follows its case both ways", () => {
  it("reopens with a dissatisfied return visit, closes with the case, and reopens when the case is reopened", async () => {
    const { w, r } = await linkedResident();
    const raised = await ok("/v1/resident/matters", r.token, { summary: "村委会门前路灯不亮" });
    const triaged = await ok(
      `/v1/deliberation/matters/${raised.id}/triage`,
      w.villageCentre.token,
      {
        outcome: "case",
        gridId: w.tree.grid.id,
        type: "livelihood",
        severity: "normal",
        title: "村委会门前路灯损坏",
      },
      200,
    );
    const caseId = triaged.caseId as string;
    expect(caseId).toBe(caseIdOf(w.tree.grid.id, raised.id));
    const read = () => ok(`/v1/resident/matters/${raised.id}`, r.token, undefined, 200, "GET");

    const staff = w.villageCentre;
    await must(staff, caseId, "accept", 1, { note: "受理" });
    await must(staff, caseId, "resolve", 2, { note: "已更换灯泡" });
    await must(staff, caseId, "return-visit", 3, { satisfaction: "dissatisfied", note: "灯还是不亮" });
    await projected(caseId, 4);
    const reopened = await read();
    expect(reopened).toMatchObject({ status: "in_hand", caseState: "reopened" });
    expect(reopened.history.slice(-1)).toMatchObject([
      { event: "case_reopened", detail: "回访不满意：灯还是不亮" },
    ]);

    await must(staff, caseId, "resolve", 4, { note: "更换线路后已亮" });
    await must(staff, caseId, "return-visit", 5, { satisfaction: "satisfied", note: "群众满意" });
    await must(staff, caseId, "close", 6);
    await projected(caseId, 7);
    const closed = await read();
    expect(closed).toMatchObject({ status: "closed", caseState: "closed" });
    expect(events(closed)).toEqual(["raised", "case", "case_reopened", "case_closed"]);

    await must(staff, caseId, "reopen", 7, { reason: "群众反映路灯又不亮了" });
    await projected(caseId, 8);
    const again = await read();
    expect(again).toMatchObject({ status: "in_hand", caseState: "reopened" });
    expect(events(again)).toEqual(["raised", "case", "case_reopened", "case_closed", "case_reopened"]);
    expect(again.history.at(-1).detail).toBe("群众反映路灯又不亮了");
    // The village reads the same history.
    const staffView = await ok(`/v1/deliberation/matters/${raised.id}`, staff.token, undefined, 200, "GET");
    expect(staffView.status).toBe("in_hand");
    expect(staffView.history).toEqual(again.history);
  });
});
