import { describe, expect, it } from "vitest";
import {
  chinaDay,
  deliberationVillage,
  elapseNotice,
  householdWith,
  ok,
  registerMembers,
  rowsOf,
} from "../support/deliberation";
import { call, sql } from "../support/helpers";

const votes = (f: number, a = 0, ab = 0) => ({ for: f, against: a, abstain: ab });

describe("from a matter raised at an open talk to a published result (两说一商, 四议两公开)", () => {
  it("walks all four steps, the notice period, tasks and the result, refusing each rule broken on the way", async () => {
    const v = await deliberationVillage();
    const { staff, party, lead, tree } = v;
    const today = chinaDay();
    // The registry: four representatives serving, two Party members of whom one's term has ended.
    await registerMembers(staff, tree.village, "representative", ["李四", "王五", "赵六", "钱七"]);
    await registerMembers(staff, tree.village, "party_member", ["孙八"]);
    await registerMembers(staff, tree.village, "party_member", ["周九"], {
      termStart: "2020-01-01",
      termEnd: "2023-12-31",
    });
    const householdId = await householdWith(staff, tree.grid, ["1970-03-02", "1972-08-15"], "陈家富");

    // An open talk in the village; the household lead raises a matter on a resident's behalf.
    const session = await ok(`/v1/units/${tree.village.id}/deliberation/sessions`, staff.token, {
      kind: "open_talk",
      title: "三月说事会",
      heldAt: new Date().toISOString(),
      place: "村委会议室",
      attendeeUserIds: [lead.id, party.id],
      attendeeHouseholdIds: [householdId],
      unregisteredCount: 12,
      minutes: "群众反映村口闲置仓库如何处置",
    });
    const matter = await ok("/v1/deliberation/matters", lead.token, {
      sessionId: session.id,
      summary: "村口闲置仓库长期无人使用，建议出租增加集体收入",
      raisedByName: "陈家富",
      householdId,
    });
    expect(matter).toMatchObject({ status: "raised", outcome: null, raisedByName: "陈家富" });

    // Triage: a major matter of a listed kind goes on the agenda with the whole procedure.
    const triaged = await ok(
      `/v1/deliberation/matters/${matter.id}/triage`,
      staff.token,
      { outcome: "agenda", title: "村集体闲置仓库出租", kind: "collective_asset_disposal" },
      200,
    );
    expect(triaged).toMatchObject({ outcome: "agenda", status: "in_hand", itemState: "open" });
    const itemId = triaged.itemId as string;
    const again = await call(`/v1/deliberation/matters/${matter.id}/triage`, {
      token: staff.token,
      body: { outcome: "declined", reason: "重复" },
    });
    expect(again).toBeProblem(409, "already-triaged");

    const step = (body: Record<string, unknown>) =>
      call(`/v1/deliberation/items/${itemId}/steps`, {
        token: staff.token,
        body: { heldOn: today, ...body },
      });

    // A step out of order is 409 and writes nothing.
    const early = await step({
      step: "review",
      meeting: "party_members_meeting",
      attendance: { present: 1 },
      votes: votes(1),
    });
    expect(early).toBeProblem(409, "step-out-of-order");
    expect(early.body.detail).toBe("the next step is proposal (村党组织提议), not review");
    expect(await rowsOf("deliberation_steps", itemId)).toHaveLength(0);

    expect(
      (
        await step({
          step: "proposal",
          meeting: "party_committee",
          attendance: { present: 5 },
          votes: votes(5),
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await step({
          step: "discussion",
          meeting: "two_committees",
          attendance: { present: 7 },
          votes: votes(6, 1),
        })
      ).status,
    ).toBe(201);

    // The Party members' meeting counts the members serving on its date: one, not the one whose term ended.
    const tooMany = await step({
      step: "review",
      meeting: "party_members_meeting",
      attendance: { present: 2 },
      votes: votes(2),
    });
    expect(tooMany).toBeProblem(400, "attendance-exceeds-eligible");
    expect(tooMany.body.detail).toBe("2 present of 1 eligible on the meeting date");
    expect(
      (
        await step({
          step: "review",
          meeting: "party_members_meeting",
          attendance: { present: 1 },
          votes: votes(1),
        })
      ).status,
    ).toBe(201);

    // The representatives' meeting: more votes than attendees is 400; exactly half of four present is no
    // quorum (recorded, decides nothing); three of four is more than two thirds.
    const overVoted = await step({
      step: "resolution",
      meeting: "representatives_meeting",
      attendance: { present: 3 },
      votes: votes(3, 1),
    });
    expect(overVoted).toBeProblem(400, "votes-exceed-attendance");
    const noQuorum = await step({
      step: "resolution",
      meeting: "representatives_meeting",
      attendance: { present: 2 },
      votes: votes(2),
    });
    expect(noQuorum.status).toBe(201);
    expect(noQuorum.body).toMatchObject({ state: "open", passedSteps: ["proposal", "discussion", "review"] });
    expect(noQuorum.body.steps.at(-1)).toMatchObject({
      quorate: false,
      passed: false,
      note: "no quorum: needs 3 of 4 present",
    });
    const resolved = await step({
      step: "resolution",
      meeting: "representatives_meeting",
      attendance: { present: 3 },
      votes: votes(2, 1),
    });
    expect(resolved.body).toMatchObject({
      state: "resolved",
      passedSteps: ["proposal", "discussion", "review", "resolution"],
    });
    expect(resolved.body.steps.at(-1).eligible).toEqual({
      adults: 2,
      households: 1,
      representatives: 4,
      partyMembers: 1,
    });

    // A task may be planned now, but not marked done before the item is decided.
    const task = await ok(`/v1/deliberation/items/${itemId}/tasks`, staff.token, {
      title: "签订仓库租赁合同",
      ownerUserId: staff.id,
      dueOn: chinaDay(30),
    });
    const doneEarly = await call(`/v1/deliberation/tasks/${task.id}/progress`, {
      token: staff.token,
      body: { progress: 100, note: "合同已签" },
    });
    expect(doneEarly).toBeProblem(409, "item-not-decided");
    expect(doneEarly.body.detail).toMatch(/not yet made public/);

    // Deciding needs the resolution public and its notice period (7 China days) over.
    expect(
      await call(`/v1/deliberation/items/${itemId}/decision`, { token: staff.token, method: "POST" }),
    ).toBeProblem(409, "procedure-incomplete");
    const noticed = await ok(`/v1/deliberation/items/${itemId}/resolution-notice`, staff.token, {
      title: "关于村集体闲置仓库出租的决议公示",
      body: "经村民代表会议表决通过，仓库按年租金两万元公开出租。",
    });
    const notice = noticed.notices[0];
    expect(notice).toMatchObject({ publishedOn: today, endsOn: chinaDay(7), withdrawn: false });
    const running = await call(`/v1/deliberation/items/${itemId}/decision`, {
      token: staff.token,
      method: "POST",
    });
    expect(running).toBeProblem(409, "notice-period-running");
    expect(running.body.detail).toBe(`missing step: the notice period (公示期) runs through ${chinaDay(7)}`);

    // An objection during the period holds the decision until it is answered.
    const objected = await ok(`/v1/deliberation/notices/${notice.id}/objections`, party.token, {
      text: "租金偏低，建议公开竞价",
    });
    await elapseNotice(itemId);
    expect(
      await call(`/v1/deliberation/items/${itemId}/decision`, { token: staff.token, method: "POST" }),
    ).toBeProblem(409, "objections-open");
    await ok(
      `/v1/deliberation/objections/${objected.objections[0].id}/answer`,
      staff.token,
      { upheld: false, answer: "租金经评估确定，已采用公开招租" },
      200,
    );
    const decided = await ok(
      `/v1/deliberation/items/${itemId}/decision`,
      staff.token,
      undefined,
      200,
      "POST",
    );
    expect(decided).toMatchObject({ state: "decided", missing: null });

    // Carrying out: progress with a timeline, then the result, then satisfaction.
    await ok(
      `/v1/deliberation/tasks/${task.id}/progress`,
      staff.token,
      { progress: 50, note: "已完成招租公告" },
      200,
    );
    const done = await ok(
      `/v1/deliberation/tasks/${task.id}/progress`,
      staff.token,
      { progress: 100, note: "合同已签" },
      200,
    );
    expect(done).toMatchObject({ progress: 100, doneOn: today, overdue: false });
    const published = await ok(`/v1/deliberation/items/${itemId}/result`, staff.token, {
      title: "村集体闲置仓库出租实施结果公开",
      body: "仓库已出租，年租金两万元已入村集体账户。",
    });
    expect(published).toMatchObject({ state: "result_published" });
    expect(published.tasks[0].timeline.map((e: { progress: number }) => e.progress)).toEqual([50, 100]);
    const rated = await ok(
      `/v1/deliberation/items/${itemId}/feedback`,
      lead.token,
      { satisfaction: "satisfied" },
      200,
    );
    expect(rated.satisfaction).toEqual({ satisfied: 1 });

    // The raiser reads the matter's whole history.
    const history = await ok(`/v1/deliberation/matters/${matter.id}`, lead.token, undefined, 200, "GET");
    expect(history).toMatchObject({ status: "closed", itemState: "result_published" });
    expect(history.history.map((h: { event: string }) => h.event)).toEqual([
      "raised",
      "agenda",
      "resolved",
      "decided",
      "result_published",
    ]);

    // Every write is audited.
    const audit = await sql().execute({
      sql: "SELECT action FROM audit_log WHERE object_id = ? ORDER BY seq",
      args: [itemId],
    });
    expect(audit.rows.map((r) => r.action)).toContain("deliberation.decide");
  });
});
