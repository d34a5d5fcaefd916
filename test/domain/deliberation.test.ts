import { describe, expect, it } from "vitest";
import {
  caseTurnsHistory,
  checkRollCall,
  checkStep,
  checkVote,
  DEFAULT_POWER_LIST,
  DEFAULT_RULES,
  decideVote,
  type Eligible,
  effectivePowerList,
  fewestMeeting,
  isAdultOn,
  listedKind,
  matterStatus,
  median,
  meets,
  missingForDecision,
  nextStep,
  noticeElapsed,
  noticeEndsOn,
  onTimeRate,
  procedureOf,
} from "../../src/domain/deliberation";

const eligible = (e: Partial<Eligible> = {}): Eligible => ({
  adults: 100,
  households: 30,
  representatives: 30,
  partyMembers: 10,
  ...e,
});
const votes = (f: number, a = 0, ab = 0) => ({ for: f, against: a, abstain: ab });

describe("quorum of a villagers' meeting (Organic Law art. 22)", () => {
  it("is not met by exactly half of the adults, and is met by one more", () => {
    const e = eligible({ adults: 100, households: 30 });
    expect(decideVote("villagers_meeting", { present: 50 }, votes(50), e).quorate).toBe(false);
    expect(decideVote("villagers_meeting", { present: 51 }, votes(26), e)).toEqual({
      quorate: true,
      passed: true,
      quorumNote: null,
    });
  });

  it("rounds an odd number of adults up: 51 of 101 is more than half, 50 is not", () => {
    const e = eligible({ adults: 101 });
    expect(decideVote("villagers_meeting", { present: 50 }, votes(50), e).quorate).toBe(false);
    expect(decideVote("villagers_meeting", { present: 51 }, votes(30), e).quorate).toBe(true);
    expect(fewestMeeting(101, DEFAULT_RULES.villagersAdults)).toBe(51);
  });

  it("is met by representatives of more than two thirds of the households, not by exactly two thirds", () => {
    const e = eligible({ adults: 100, households: 30 });
    const at20 = decideVote("villagers_meeting", { present: 40, households: 20 }, votes(30), e);
    expect(at20.quorate).toBe(false);
    expect(at20.quorumNote).toBe("needs 51 of 100 adults or 21 of 30 households");
    expect(decideVote("villagers_meeting", { present: 40, households: 21 }, votes(30), e).quorate).toBe(true);
  });

  it("decides by more than half of those present: exactly half present for fails", () => {
    const e = eligible({ adults: 100 });
    expect(decideVote("villagers_meeting", { present: 60 }, votes(30, 30), e).passed).toBe(false);
    expect(decideVote("villagers_meeting", { present: 60 }, votes(31, 29), e).passed).toBe(true);
    // Abstentions and absent votes count against: 31 of 61 present is more than half, 30 is not.
    expect(decideVote("villagers_meeting", { present: 61 }, votes(30, 0, 31), e).passed).toBe(false);
    expect(decideVote("villagers_meeting", { present: 61 }, votes(31, 0, 30), e).passed).toBe(true);
  });
});

describe("quorum of a representatives' meeting (art. 26)", () => {
  it("needs more than two thirds: 20 of 30 is not enough, 21 is", () => {
    const e = eligible({ representatives: 30 });
    const twoThirds = decideVote("representatives_meeting", { present: 20 }, votes(20), e);
    expect(twoThirds).toEqual({ quorate: false, passed: false, quorumNote: "needs 21 of 30 present" });
    expect(decideVote("representatives_meeting", { present: 21 }, votes(11), e).passed).toBe(true);
  });

  it("rounds thirds of an odd total up: of 31, 21 is not more than two thirds (20.67 → 21 is), of 32 it takes 22", () => {
    expect(fewestMeeting(31, DEFAULT_RULES.representatives)).toBe(21);
    expect(meets(20, 31, DEFAULT_RULES.representatives)).toBe(false);
    expect(meets(21, 31, DEFAULT_RULES.representatives)).toBe(true);
    expect(fewestMeeting(32, DEFAULT_RULES.representatives)).toBe(22);
    expect(meets(21, 32, DEFAULT_RULES.representatives)).toBe(false);
  });

  it("follows a village's own rules: at least two thirds (not more than) lets exactly two thirds through", () => {
    const rules = { ...DEFAULT_RULES, representatives: { num: 2, den: 3, strict: false } };
    const e = eligible({ representatives: 30 });
    expect(decideVote("representatives_meeting", { present: 20 }, votes(11), e, rules).passed).toBe(true);
  });

  it("decides nothing without a registered base", () => {
    expect(
      decideVote("representatives_meeting", { present: 0 }, votes(0), eligible({ representatives: 0 }))
        .quorate,
    ).toBe(false);
  });

  it("needs no quorum at the Party committee, and a majority still", () => {
    expect(decideVote("party_committee", { present: 3 }, votes(2, 1), eligible())).toEqual({
      quorate: true,
      passed: true,
      quorumNote: null,
    });
    expect(decideVote("party_committee", { present: 4 }, votes(2, 2), eligible()).passed).toBe(false);
  });
});

describe("vote input", () => {
  it("refuses more votes than attendees and more attendees than eligible", () => {
    const e = eligible({ representatives: 30 });
    expect(checkVote("representatives_meeting", { present: 20 }, votes(15, 5, 1), e)?.slug).toBe(
      "votes-exceed-attendance",
    );
    expect(checkVote("representatives_meeting", { present: 31 }, votes(15), e)?.slug).toBe(
      "attendance-exceeds-eligible",
    );
    expect(checkVote("villagers_meeting", { present: 60, households: 31 }, votes(40), e)?.path).toBe(
      "attendance.households",
    );
    expect(checkVote("party_committee", { present: 5, households: 3 }, votes(3), e)?.slug).toBe(
      "households-only-at-villagers-meeting",
    );
    expect(checkVote("representatives_meeting", { present: 30 }, votes(20, 5, 5), e)).toBeNull();
  });
});

describe("the four steps", () => {
  const all = procedureOf(null).steps;

  it("go in statutory order", () => {
    expect(nextStep(all, [])).toBe("proposal");
    expect(nextStep(all, ["proposal", "discussion"])).toBe("review");
    expect(nextStep(all, [...all])).toBeNull();
    expect(checkStep("open", all, ["proposal"], "review", "party_members_meeting")).toEqual({
      slug: "step-out-of-order",
      path: "step",
      message: "the next step is discussion (村“两委”会议商议), not review",
    });
    expect(checkStep("open", all, ["proposal", "discussion"], "proposal", "party_committee")?.slug).toBe(
      "step-out-of-order",
    );
  });

  it("skip what a listed kind does not require, and are taken at their own meeting", () => {
    const allowance = ["discussion", "resolution"] as const;
    expect(nextStep(allowance, [])).toBe("discussion");
    expect(nextStep(allowance, ["discussion"])).toBe("resolution");
    expect(checkStep("open", allowance, ["discussion"], "resolution", "party_committee")?.slug).toBe(
      "wrong-meeting",
    );
    expect(checkStep("resolved", all, [...all], "resolution", "villagers_meeting")?.slug).toBe(
      "item-not-open",
    );
  });
});

describe("notice periods in China dates", () => {
  it("start counting the day after publication (Civil Code art. 201) and elapse the day after they end", () => {
    expect(noticeEndsOn("2026-05-01", 7)).toBe("2026-05-08");
    expect(noticeEndsOn("2026-02-25", 7)).toBe("2026-03-04");
    expect(noticeElapsed("2026-05-08", "2026-05-08")).toBe(false);
    expect(noticeElapsed("2026-05-08", "2026-05-09")).toBe(true);
  });
});

describe("the micro-power list", () => {
  it("is tightened, never loosened, down the tree", () => {
    const county = [
      {
        kind: "subsistence_allowance",
        label: "低保评议",
        steps: ["review" as const],
        noticeDays: 10,
        minAmountYuan: null,
      },
    ];
    const village = [
      { kind: "subsistence_allowance", label: "低保评议", steps: [], noticeDays: 3, minAmountYuan: null },
      {
        kind: "construction_project",
        label: "工程建设项目",
        steps: [],
        noticeDays: 7,
        minAmountYuan: 20_000,
      },
    ];
    const list = effectivePowerList(DEFAULT_POWER_LIST, [county, village]);
    const allowance = list.find((k) => k.kind === "subsistence_allowance")!;
    expect(allowance.steps).toEqual(["discussion", "review", "resolution"]);
    expect(allowance.noticeDays).toBe(10);
    expect(list.find((k) => k.kind === "construction_project")!.minAmountYuan).toBe(20_000);
  });

  it("lists a construction project only from its amount", () => {
    expect(listedKind(DEFAULT_POWER_LIST, "construction_project", 49_999)).toBeNull();
    expect(listedKind(DEFAULT_POWER_LIST, "construction_project", 50_000)?.kind).toBe("construction_project");
    expect(listedKind(DEFAULT_POWER_LIST, null, 1e6)).toBeNull();
  });

  it("names the missing step, then the running notice, then open objections", () => {
    const p = procedureOf(listedKind(DEFAULT_POWER_LIST, "collective_asset_disposal", null));
    const notice = { endsOn: "2026-05-08", openObjections: 0 };
    expect(
      missingForDecision(p, ["proposal", "discussion", "resolution"], notice, "2026-06-01")?.message,
    ).toBe("missing step: review (党员大会审议)");
    const steps = [...p.steps];
    expect(missingForDecision(p, steps, null, "2026-06-01")?.message).toMatch(/not yet made public/);
    expect(missingForDecision(p, steps, notice, "2026-05-08")?.slug).toBe("notice-period-running");
    expect(missingForDecision(p, steps, { ...notice, openObjections: 1 }, "2026-05-09")?.slug).toBe(
      "objections-open",
    );
    expect(missingForDecision(p, steps, notice, "2026-05-09")).toBeNull();
  });
});

describe("ages and figures", () => {
  it("counts a resident as adult from their 18th birthday", () => {
    expect(isAdultOn("2008-05-10", "2026-05-09")).toBe(false);
    expect(isAdultOn("2008-05-10", "2026-05-10")).toBe(true);
    expect(isAdultOn("2008-02-29", "2026-02-28")).toBe(false);
    expect(isAdultOn("2008-02-29", "2026-03-01")).toBe(true);
  });

  it("computes on-time rate and median", () => {
    expect(onTimeRate([])).toBeNull();
    expect(
      onTimeRate([
        { doneOn: "2026-05-01", dueOn: "2026-05-01" },
        { doneOn: "2026-05-02", dueOn: "2026-05-01" },
        { doneOn: null, dueOn: "2026-04-01" },
      ]),
    ).toBe(50);
    expect(median([])).toBeNull();
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});

describe("roll calls", () => {
  const serving = new Set(["a", "b", "c"]);
  const rules = { rollCall: true };
  it("are required where the rules ask, at meetings of registered members only", () => {
    expect(checkRollCall(rules, "representatives_meeting", undefined, votes(2), serving)?.slug).toBe(
      "roll-call-required",
    );
    expect(checkRollCall(rules, "two_committees", undefined, votes(2), serving)).toBeNull();
    expect(
      checkRollCall({ rollCall: false }, "representatives_meeting", undefined, votes(2), serving),
    ).toBeNull();
    expect(checkRollCall(rules, "villagers_meeting", [], votes(0), serving)?.slug).toBe(
      "roll-call-not-taken",
    );
  });

  it("list serving members once and add up to the votes", () => {
    const call = (ids: string[], vs: Array<"for" | "against" | "abstain">) =>
      ids.map((memberId, i) => ({ memberId, vote: vs[i]! }));
    expect(
      checkRollCall(rules, "representatives_meeting", call(["a", "x"], ["for", "for"]), votes(2), serving)
        ?.path,
    ).toBe("rollCall.1.memberId");
    expect(
      checkRollCall(rules, "representatives_meeting", call(["a", "a"], ["for", "for"]), votes(2), serving)
        ?.message,
    ).toBe("listed twice");
    expect(
      checkRollCall(rules, "representatives_meeting", call(["a", "b"], ["for", "against"]), votes(2), serving)
        ?.slug,
    ).toBe("roll-call-mismatch");
    expect(
      checkRollCall(
        rules,
        "representatives_meeting",
        call(["a", "b", "c"], ["for", "against", "for"]),
        votes(2, 1),
        serving,
      ),
    ).toBeNull();
  });
});

describe("a matter follows the case it became", () => {
  it("closes with the case and reopens with a reopen command or a dissatisfied return visit", () => {
    expect(
      caseTurnsHistory([
        {
          type: "return_visited",
          at: "t1",
          payload: { satisfaction: "dissatisfied", note: "灯还是不亮", state: "reopened" },
        },
        {
          type: "return_visited",
          at: "t2",
          payload: { satisfaction: "satisfied", note: "满意", state: "resolved" },
        },
        { type: "closed", at: "t3", payload: {} },
        { type: "reopened", at: "t4", payload: { reason: "又坏了" } },
        { type: "return_visited", at: "t5", payload: { satisfaction: "dissatisfied", state: "reopened" } },
        { type: "reopened", at: "t6", payload: {} },
      ]),
    ).toEqual([
      { at: "t1", event: "case_reopened", detail: "回访不满意：灯还是不亮" },
      { at: "t3", event: "case_closed", detail: null },
      { at: "t4", event: "case_reopened", detail: "又坏了" },
      { at: "t5", event: "case_reopened", detail: "回访不满意" },
      { at: "t6", event: "case_reopened", detail: null },
    ]);
  });

  it("says nothing for the case's other events", () => {
    expect(caseTurnsHistory([{ type: "accepted", at: "t", payload: {} }])).toEqual([]);
  });
});

describe("a matter's status", () => {
  it("is raised until triaged, closed at once when answered or declined", () => {
    expect(matterStatus(null, null, null)).toBe("raised");
    expect(matterStatus("answered", null, null)).toBe("closed");
    expect(matterStatus("declined", null, null)).toBe("closed");
  });

  it("follows its case both ways, and closes with its item's published result", () => {
    expect(matterStatus("case", null, null)).toBe("in_hand");
    expect(matterStatus("case", "resolved", null)).toBe("in_hand");
    expect(matterStatus("case", "closed", null)).toBe("closed");
    expect(matterStatus("case", "reopened", null)).toBe("in_hand");
    expect(matterStatus("agenda", null, "decided")).toBe("in_hand");
    expect(matterStatus("agenda", null, "result_published")).toBe("closed");
  });
});
