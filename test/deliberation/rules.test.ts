import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { reportOverdueTasks } from "../../src/services/deliberation";
import { caseIdOf, must, projected } from "../support/case-fixtures";
import {
  chinaDay,
  deliberationVillage,
  householdWith,
  ok,
  registerMembers,
  resolveItem,
  rowsOf,
} from "../support/deliberation";
import { call, sql } from "../support/helpers";

const votes = (f: number, a = 0, ab = 0) => ({ for: f, against: a, abstain: ab });

/** A date `years` before the China date `date`, same month and day. */
const yearsBefore = (date: string, years: number) => `${Number(date.slice(0, 4)) - years}${date.slice(4)}`;

describe("eligible numbers come from the registry as of the meeting date", () => {
  it("counts a resident as adult from their 18th birthday, and households and members registered by then", async () => {
    const v = await deliberationVillage();
    // A meeting 40 days ahead (avoiding 29 February), and a resident who turns 18 that very day.
    let meeting = chinaDay(40);
    if (meeting.endsWith("02-29")) meeting = chinaDay(41);
    await householdWith(
      v.staff,
      v.tree.grid,
      ["1975-01-01", yearsBefore(meeting, 18), "2015-06-01"],
      "刘德明",
    );
    await registerMembers(v.staff, v.tree.village, "representative", ["甲", "乙", "丙"], {
      termStart: chinaDay(1),
    });
    const on = (date: string) =>
      ok(
        `/v1/units/${v.tree.village.id}/deliberation/eligible?on=${date}`,
        v.party.token,
        undefined,
        200,
        "GET",
      );

    const dayBefore = await on(
      new Date(Date.parse(`${meeting}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10),
    );
    expect(dayBefore).toMatchObject({ adults: 1, households: 1, representatives: 3 });
    expect(await on(meeting)).toMatchObject({ adults: 2, households: 1, representatives: 3 });
    // Before anyone was registered: nobody.
    expect(await on(chinaDay(-1))).toMatchObject({ adults: 0, households: 0, representatives: 0 });
    const bad = await call(`/v1/units/${v.tree.village.id}/deliberation/eligible?on=2026-02-30`, {
      token: v.party.token,
    });
    expect(bad).toBeProblem(400, "validation");
  });
});

describe("triage", () => {
  it("gives each matter exactly one outcome: answered, declined with its reason, or a case that names the matter", async () => {
    const v = await deliberationVillage();
    const raise = (summary: string) =>
      ok("/v1/deliberation/matters", v.lead.token, {
        unitId: v.tree.grid.id,
        summary,
        raisedByName: "吴老汉",
      });
    const answered = await raise("新农合报销比例是多少？");
    const declined = await raise("要求村里给每户发放过节费");
    const toCase = await raise("二组路灯坏了三盏");

    const a = await ok(
      `/v1/deliberation/matters/${answered.id}/triage`,
      v.staff.token,
      { outcome: "answered", answer: "按县医保政策，乡镇卫生院住院报销85%" },
      200,
    );
    expect(a).toMatchObject({ outcome: "answered", status: "closed", outcomeBy: v.staff.id });
    // The reason is shown to whoever raised it.
    await ok(
      `/v1/deliberation/matters/${declined.id}/triage`,
      v.staff.token,
      { outcome: "declined", reason: "不属于村集体开支范围" },
      200,
    );
    const seen = await ok(`/v1/deliberation/matters/${declined.id}`, v.lead.token, undefined, 200, "GET");
    expect(seen).toMatchObject({ outcome: "declined", answer: "不属于村集体开支范围", status: "closed" });

    const c = await ok(
      `/v1/deliberation/matters/${toCase.id}/triage`,
      v.staff.token,
      {
        outcome: "case",
        gridId: v.tree.grid.id,
        type: "livelihood",
        severity: "normal",
        title: "二组路灯损坏",
      },
      200,
    );
    expect(c).toMatchObject({
      outcome: "case",
      status: "in_hand",
      caseId: caseIdOf(v.tree.grid.id, toCase.id),
    });
    const kase = await call(`/v1/cases/${c.caseId}`, { token: v.staff.token });
    expect(kase.status).toBe(200);
    expect(kase.body.description).toContain(`源自说事事项 ${toCase.id}`);

    // The case runs its loop; its closing closes the matter, as its raiser reads it.
    await must(v.staff, c.caseId, "accept", 1, { note: "受理" });
    await must(v.staff, c.caseId, "resolve", 2, { note: "已更换灯泡" });
    await must(v.staff, c.caseId, "return-visit", 3, { satisfaction: "satisfied", note: "群众满意" });
    await must(v.staff, c.caseId, "close", 4);
    await projected(c.caseId, 5);
    const closed = await ok(`/v1/deliberation/matters/${toCase.id}`, v.lead.token, undefined, 200, "GET");
    expect(closed).toMatchObject({ status: "closed", caseState: "closed" });
    expect(closed.history.map((h: { event: string }) => h.event)).toEqual(["raised", "case", "case_closed"]);

    // Another village's centre neither sees nor triages it; a Party member may not triage.
    expect(await call(`/v1/deliberation/matters/${toCase.id}`, { token: v.otherStaff.token })).toBeProblem(
      404,
    );
    expect(
      await call(`/v1/deliberation/matters/${answered.id}/triage`, {
        token: v.party.token,
        body: { outcome: "declined", reason: "x" },
      }),
    ).toBeProblem(403);
  });
});

describe("the micro-power list", () => {
  it("blocks a listed kind a county tightened until its extra step is taken, and leaves small projects unlisted", async () => {
    const v = await deliberationVillage();
    await registerMembers(v.staff, v.tree.village, "representative", ["甲", "乙", "丙"]);
    // The county requires its villages' subsistence-allowance appraisals to pass the Party members' meeting too.
    const tightened = await ok(
      `/v1/units/${v.tree.county.id}/deliberation/power-list`,
      v.county.token,
      {
        kinds: [
          {
            kind: "subsistence_allowance",
            label: "低保评议",
            steps: ["review"],
            noticeDays: 10,
            minAmountYuan: null,
          },
        ],
      },
      200,
      "PUT",
    );
    expect(tightened.list.find((k: { kind: string }) => k.kind === "subsistence_allowance")).toMatchObject({
      steps: ["discussion", "review", "resolution"],
      noticeDays: 10,
    });
    const agenda = async (body: Record<string, unknown>) => {
      const m = await ok("/v1/deliberation/matters", v.staff.token, {
        unitId: v.tree.village.id,
        summary: "议题",
      });
      return (
        await ok(
          `/v1/deliberation/matters/${m.id}/triage`,
          v.staff.token,
          { outcome: "agenda", ...body },
          200,
        )
      ).itemId as string;
    };
    const allowance = await agenda({ title: "2026年低保评议", kind: "subsistence_allowance" });
    const item = await ok(`/v1/deliberation/items/${allowance}`, v.staff.token, undefined, 200, "GET");
    expect(item).toMatchObject({
      listedKind: "subsistence_allowance",
      requiredSteps: ["discussion", "review", "resolution"],
      noticeDays: 10,
    });

    const step = (body: Record<string, unknown>) =>
      call(`/v1/deliberation/items/${allowance}/steps`, {
        token: v.staff.token,
        body: { heldOn: chinaDay(), ...body },
      });
    expect(
      (
        await step({
          step: "discussion",
          meeting: "two_committees",
          attendance: { present: 5 },
          votes: votes(5),
        })
      ).status,
    ).toBe(201);
    const skipped = await step({
      step: "resolution",
      meeting: "representatives_meeting",
      attendance: { present: 3 },
      votes: votes(3),
    });
    expect(skipped).toBeProblem(409, "step-out-of-order");
    expect(skipped.body.detail).toBe("the next step is review (党员大会审议), not resolution");
    expect(await rowsOf("deliberation_steps", allowance)).toHaveLength(1);

    // A construction project below the threshold is not listed: all four steps, the default notice.
    const small = await agenda({ title: "修缮文化广场", kind: "construction_project", amountYuan: 30_000 });
    expect(await ok(`/v1/deliberation/items/${small}`, v.staff.token, undefined, 200, "GET")).toMatchObject({
      listedKind: null,
      requiredSteps: ["proposal", "discussion", "review", "resolution"],
      noticeDays: 7,
    });
    // An agenda item of another village: not found, nothing written.
    const foreign = await call(`/v1/deliberation/items/${allowance}/steps`, {
      token: v.otherStaff.token,
      body: {
        step: "review",
        meeting: "party_members_meeting",
        heldOn: chinaDay(),
        attendance: { present: 0 },
        votes: votes(0),
      },
    });
    expect(foreign).toBeProblem(404);
    expect(await rowsOf("deliberation_steps", allowance)).toHaveLength(1);
  });
});

describe("the public notice board (村务公开)", () => {
  it("shows resolutions without a token, with no attendee, raiser or voter, and caches by ETag", async () => {
    const v = await deliberationVillage();
    await registerMembers(v.staff, v.tree.village, "representative", ["代表甲", "代表乙", "代表丙"]);
    await registerMembers(v.staff, v.tree.village, "party_member", ["党员甲"]);
    const session = await ok(`/v1/units/${v.tree.village.id}/deliberation/sessions`, v.staff.token, {
      kind: "consultation",
      title: "民主协商会",
      heldAt: new Date().toISOString(),
      place: "村委会",
      attendeeUserIds: [v.lead.id, v.party.id],
      minutes: "到会：欧阳明珠、司马青山",
    });
    const m = await ok("/v1/deliberation/matters", v.lead.token, {
      sessionId: session.id,
      summary: "欧阳明珠反映水渠堵塞",
      raisedByName: "欧阳明珠",
    });
    const triaged = await ok(
      `/v1/deliberation/matters/${m.id}/triage`,
      v.staff.token,
      { outcome: "agenda", title: "疏通灌溉水渠" },
      200,
    );
    const itemId = triaged.itemId as string;
    await resolveItem(v.staff, itemId, session.id);
    const noticed = await ok(`/v1/deliberation/items/${itemId}/resolution-notice`, v.staff.token, {
      title: "疏通灌溉水渠决议公示",
      body: "村民代表会议通过：本月内疏通二组灌溉水渠。",
    });
    await ok(`/v1/deliberation/notices/${noticed.notices[0].id}/objections`, v.party.token, {
      text: "司马青山认为应先疏通一组",
    });

    const board = await call(`/v1/public/units/${v.tree.village.id}/notices`);
    expect(board.status).toBe(200);
    expect(board.headers.get("cache-control")).toBe("public, max-age=60");
    expect(board.body.notices).toHaveLength(1);
    expect(board.body.notices[0]).toMatchObject({
      kind: "resolution",
      title: "疏通灌溉水渠决议公示",
      current: true,
      item: { title: "疏通灌溉水渠", state: "resolved" },
      resolution: { meeting: "representatives_meeting", present: 3, votes: votes(3) },
    });
    for (const personal of [
      "欧阳明珠",
      "司马青山",
      v.lead.id,
      v.party.id,
      v.staff.id,
      m.id,
      session.id,
      "代表甲",
      "党员甲",
    ])
      expect(board.text).not.toContain(personal);

    const etag = board.headers.get("etag")!;
    const again = await call(`/v1/public/units/${v.tree.village.id}/notices`, {
      headers: { "if-none-match": etag },
    });
    expect(again.status).toBe(304);
    expect(again.headers.get("etag")).toBe(etag);
    // A town is not a village's board; an unknown unit is 404 too.
    expect(await call(`/v1/public/units/${v.tree.town.id}/notices`)).toBeProblem(404);
    expect(await call(`/v1/public/units/${crypto.randomUUID()}/notices`)).toBeProblem(404);

    // The figures of the town's subtree count what happened.
    const from = chinaDay(-1);
    const figures = await ok(
      `/v1/units/${v.tree.town.id}/deliberation/figures?from=${from}&to=${chinaDay(1)}`,
      v.leader.token,
      undefined,
      200,
      "GET",
    );
    expect(figures).toMatchObject({
      sessions: { consultation: 1 },
      matters: { raised: 1, byOutcome: { agenda: 1 }, sharePercent: { agenda: 100 } },
      medianDaysProposalToResolution: 0,
    });
    const stored = await sql().execute({
      sql: "SELECT raised_by_name FROM deliberation_matters WHERE id = ?",
      args: [m.id],
    });
    expect(stored.rows[0]?.raised_by_name).toBe("欧阳明珠");
  });
});

describe("carrying out", () => {
  it("puts an overdue task into the village centre's inbox once, without the warning its deadline overtook", async () => {
    const v = await deliberationVillage();
    await registerMembers(v.staff, v.tree.village, "representative", ["甲", "乙", "丙"]);
    await registerMembers(v.staff, v.tree.village, "party_member", ["丁"]);
    const m = await ok("/v1/deliberation/matters", v.staff.token, {
      unitId: v.tree.village.id,
      summary: "修桥",
    });
    const { itemId } = await ok(
      `/v1/deliberation/matters/${m.id}/triage`,
      v.staff.token,
      { outcome: "agenda", title: "修复村口便桥" },
      200,
    );
    await resolveItem(v.staff, itemId);
    const task = await ok(`/v1/deliberation/items/${itemId}/tasks`, v.staff.token, {
      title: "采购桥面材料",
      ownerUnitId: v.tree.grid.id,
      dueOn: chinaDay(-1),
    });
    expect(task).toMatchObject({ overdue: true, progress: 0 });
    expect(await reportOverdueTasks(env, Date.now())).toBeGreaterThanOrEqual(1);
    expect(await reportOverdueTasks(env, Date.now())).toBe(0);
    const inbox = await ok(`/v1/units/${v.tree.village.id}/inbox`, v.staff.token, undefined, 200, "GET");
    const items = inbox.items.filter((i: { payload: { taskId?: string } }) => i.payload.taskId === task.id);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      kind: "overdue",
      payload: { step: "overdue", title: "采购桥面材料", itemTitle: "修复村口便桥" },
    });
  });
});

describe("objections", () => {
  it("an upheld objection sends the item back a step: later steps voided, the notice withdrawn from the board", async () => {
    const v = await deliberationVillage();
    await registerMembers(v.staff, v.tree.village, "representative", ["甲", "乙", "丙"]);
    await registerMembers(v.staff, v.tree.village, "party_member", ["丁"]);
    const m = await ok("/v1/deliberation/matters", v.party.token, {
      unitId: v.tree.village.id,
      summary: "调整二组承包地",
    });
    const { itemId } = await ok(
      `/v1/deliberation/matters/${m.id}/triage`,
      v.staff.token,
      { outcome: "agenda", title: "二组土地承包调整", kind: "land_contract_adjustment" },
      200,
    );
    await resolveItem(v.staff, itemId);
    const noticed = await ok(`/v1/deliberation/items/${itemId}/resolution-notice`, v.staff.token, {
      title: "二组土地承包调整方案公示",
      body: "方案见村务公开栏。",
    });
    const objected = await ok(`/v1/deliberation/notices/${noticed.notices[0].id}/objections`, v.lead.token, {
      text: "方案未征求三户意见",
    });
    const back = await ok(
      `/v1/deliberation/objections/${objected.objections[0].id}/answer`,
      v.staff.token,
      { upheld: true, answer: "异议成立，重新提交党员大会审议", backTo: "review" },
      200,
    );
    expect(back).toMatchObject({ state: "open", passedSteps: ["proposal", "discussion"] });
    expect(
      back.steps.filter((s: { voided: boolean }) => s.voided).map((s: { step: string }) => s.step),
    ).toEqual(["review", "resolution"]);
    expect(back.notices[0].withdrawn).toBe(true);
    const board = await call(`/v1/public/units/${v.tree.village.id}/notices`);
    expect(board.body.notices).toEqual([]);
    // Answered once only; the procedure resumes at the review.
    expect(
      await call(`/v1/deliberation/objections/${objected.objections[0].id}/answer`, {
        token: v.staff.token,
        body: { upheld: false, answer: "x" },
      }),
    ).toBeProblem(409, "objection-answered");
    const resumed = await call(`/v1/deliberation/items/${itemId}/steps`, {
      token: v.staff.token,
      body: {
        step: "resolution",
        meeting: "representatives_meeting",
        heldOn: chinaDay(),
        attendance: { present: 3 },
        votes: { for: 3, against: 0, abstain: 0 },
      },
    });
    expect(resumed).toBeProblem(409, "step-out-of-order");
  });
});

describe("oversight", () => {
  it("lets a centre above the village require a review, delivered to the village centre's inbox", async () => {
    const v = await deliberationVillage();
    const m = await ok("/v1/deliberation/matters", v.staff.token, {
      unitId: v.tree.village.id,
      summary: "集体林地流转",
    });
    const { itemId } = await ok(
      `/v1/deliberation/matters/${m.id}/triage`,
      v.staff.token,
      { outcome: "agenda", title: "集体林地流转" },
      200,
    );
    const required = await ok(`/v1/deliberation/items/${itemId}/review-requests`, v.county.token, {
      reason: "流转价格明显偏低，请复核",
    });
    expect(required).toMatchObject({ itemId, unitId: v.tree.village.id });
    const inbox = await ok(`/v1/units/${v.tree.village.id}/inbox`, v.staff.token, undefined, 200, "GET");
    expect(
      inbox.items.find((i: { payload: { itemId?: string } }) => i.payload.itemId === itemId),
    ).toMatchObject({
      kind: "supervision",
      payload: { reason: "流转价格明显偏低，请复核" },
    });
    expect(
      await call(`/v1/deliberation/items/${itemId}/review-requests`, {
        token: v.staff.token,
        body: { reason: "自查" },
      }),
    ).toBeProblem(403);
    expect(
      await call(`/v1/deliberation/items/${itemId}/review-requests`, {
        token: v.otherStaff.token,
        body: { reason: "x" },
      }),
    ).toBeProblem(404);
  });
});

describe("roll calls", () => {
  it("are required where the village's rules ask, tallied against the votes, and never on the public board", async () => {
    const v = await deliberationVillage();
    await registerMembers(v.staff, v.tree.village, "representative", ["代表甲", "代表乙", "代表丙"]);
    await registerMembers(v.staff, v.tree.village, "party_member", ["党员甲"]);
    await ok(
      `/v1/units/${v.tree.village.id}/deliberation/power-list`,
      v.staff.token,
      { kinds: [], procedure: { rollCall: true } },
      200,
      "PUT",
    );
    const m = await ok("/v1/deliberation/matters", v.staff.token, {
      unitId: v.tree.village.id,
      summary: "村规民约修订",
    });
    const { itemId } = await ok(
      `/v1/deliberation/matters/${m.id}/triage`,
      v.staff.token,
      { outcome: "agenda", title: "修订村规民约" },
      200,
    );
    const members = await ok(
      `/v1/units/${v.tree.village.id}/deliberation/members?kind=representative`,
      v.staff.token,
      undefined,
      200,
      "GET",
    );
    const ids = members.items.map((r: { id: string }) => r.id) as string[];
    const step = (body: Record<string, unknown>) =>
      call(`/v1/deliberation/items/${itemId}/steps`, {
        token: v.staff.token,
        body: { heldOn: chinaDay(), ...body },
      });
    const at = (step: string, meeting: string, present: number, extra: Record<string, unknown> = {}) => ({
      step,
      meeting,
      attendance: { present },
      votes: { for: present, against: 0, abstain: 0 },
      ...extra,
    });
    expect((await step(at("proposal", "party_committee", 3))).status).toBe(201);
    expect((await step(at("discussion", "two_committees", 5))).status).toBe(201);
    expect(await step(at("review", "party_members_meeting", 1))).toBeProblem(400, "roll-call-required");
    const party = await ok(
      `/v1/units/${v.tree.village.id}/deliberation/members?kind=party_member`,
      v.staff.token,
      undefined,
      200,
      "GET",
    );
    expect(
      (
        await step(
          at("review", "party_members_meeting", 1, {
            rollCall: [{ memberId: party.items[0].id, vote: "for" }],
          }),
        )
      ).status,
    ).toBe(201);
    const wrongTally = await step({
      ...at("resolution", "representatives_meeting", 3),
      rollCall: ids.map((memberId) => ({ memberId, vote: "against" })),
    });
    expect(wrongTally).toBeProblem(400, "roll-call-mismatch");
    const resolved = await step({
      ...at("resolution", "representatives_meeting", 3),
      votes: { for: 2, against: 1, abstain: 0 },
      rollCall: ids.map((memberId, i) => ({ memberId, vote: i === 0 ? "against" : "for" })),
    });
    expect(resolved.status).toBe(201);
    expect(resolved.body.state).toBe("resolved");
    expect(resolved.body.steps.at(-1).rollCall).toHaveLength(3);
    await ok(`/v1/deliberation/items/${itemId}/resolution-notice`, v.staff.token, {
      title: "村规民约修订公示",
      body: "修订稿见公开栏。",
    });
    const board = await call(`/v1/public/units/${v.tree.village.id}/notices`);
    expect(board.body.notices[0].resolution.votes).toEqual({ for: 2, against: 1, abstain: 0 });
    for (const id of [...ids, party.items[0].id]) expect(board.text).not.toContain(id);
  });
});
