/**
 * Village deliberation (两说一商): sessions, matters and their triage, the statutory procedure for major
 * matters (四议两公开), quorum and majority (Organic Law of Villagers' Committees, art. 22 and 26), notice
 * periods and the micro-power list (小微权力清单). Pure rules, no I/O.
 */

/** The three kinds of session. */
export const SESSION_KINDS = ["policy_briefing", "open_talk", "consultation"] as const;
export type SessionKind = (typeof SESSION_KINDS)[number];
export const SESSION_KIND_LABELS: Record<SessionKind, string> = {
  policy_briefing: "说法说政策",
  open_talk: "说事说心声",
  consultation: "民主协商",
};

/** The one outcome a matter is triaged into. */
export const MATTER_OUTCOMES = ["answered", "case", "agenda", "declined"] as const;
export type MatterOutcome = (typeof MATTER_OUTCOMES)[number];
export const MATTER_OUTCOME_LABELS: Record<MatterOutcome, string> = {
  answered: "当场答复",
  case: "转为事件办理",
  agenda: "列入协商议题",
  declined: "不予受理（附理由）",
};

/** The four steps (四议), in their statutory order. */
export const STEPS = ["proposal", "discussion", "review", "resolution"] as const;
export type Step = (typeof STEPS)[number];
export const STEP_LABELS: Record<Step, string> = {
  proposal: "村党组织提议",
  discussion: "村“两委”会议商议",
  review: "党员大会审议",
  resolution: "村民会议或村民代表会议决议",
};

/** The meetings a step is taken at. */
export const MEETING_KINDS = [
  "party_committee",
  "two_committees",
  "party_members_meeting",
  "villagers_meeting",
  "representatives_meeting",
] as const;
export type MeetingKind = (typeof MEETING_KINDS)[number];
export const MEETING_KIND_LABELS: Record<MeetingKind, string> = {
  party_committee: "村党组织会议",
  two_committees: "村“两委”联席会议",
  party_members_meeting: "党员大会",
  villagers_meeting: "村民会议",
  representatives_meeting: "村民代表会议",
};

/** Which meetings may take each step. */
export const STEP_MEETINGS: Record<Step, readonly MeetingKind[]> = {
  proposal: ["party_committee"],
  discussion: ["two_committees"],
  review: ["party_members_meeting"],
  resolution: ["villagers_meeting", "representatives_meeting"],
};

/** An agenda item's state. */
export const ITEM_STATES = ["open", "resolved", "rejected", "decided", "result_published"] as const;
export type ItemState = (typeof ITEM_STATES)[number];
export const ITEM_STATE_LABELS: Record<ItemState, string> = {
  open: "议事中",
  resolved: "已决议（公示中）",
  rejected: "决议未通过",
  decided: "决议生效",
  result_published: "实施结果已公开",
};

/** The kinds of registered member whose numbers make a quorum. */
export const MEMBER_KINDS = ["representative", "party_member"] as const;
export type MemberKind = (typeof MEMBER_KINDS)[number];

/**
 * A threshold as a fraction: `count` meets it when count/base is more than (`strict`) or at least num/den.
 * Integers only, so "exactly two thirds" is never a rounding question.
 */
export interface Fraction {
  num: number;
  den: number;
  strict: boolean;
}

/** A village's rules of procedure (议事规则): quorum and majority per meeting. */
export interface ProcedureRules {
  /** 村民会议: residents aged 18 and over present (art. 22). */
  villagersAdults: Fraction;
  /** 村民会议: or households represented (art. 22). */
  villagersHouseholds: Fraction;
  /** 村民代表会议: representatives present (art. 26). */
  representatives: Fraction;
  /** 党员大会: Party members present. */
  partyMembers: Fraction;
  /** Every meeting decides by this share of those present (art. 22, 26). */
  majority: Fraction;
  /** Representatives' and Party members' meetings record each member's vote (记名表决). */
  rollCall: boolean;
}

const MORE_THAN_HALF: Fraction = { num: 1, den: 2, strict: true };
const MORE_THAN_TWO_THIRDS: Fraction = { num: 2, den: 3, strict: true };

/** The Organic Law's defaults. */
export const DEFAULT_RULES: ProcedureRules = {
  villagersAdults: MORE_THAN_HALF,
  villagersHouseholds: MORE_THAN_TWO_THIRDS,
  representatives: MORE_THAN_TWO_THIRDS,
  partyMembers: MORE_THAN_HALF,
  majority: MORE_THAN_HALF,
  rollCall: false,
};

/**
 * Whether `count` of `base` meets a threshold, in integer arithmetic.
 *
 * @example
 * meets(5, 10, { num: 1, den: 2, strict: true }); // false: exactly half is not more than half
 */
export function meets(count: number, base: number, f: Fraction): boolean {
  if (base <= 0) return false;
  return f.strict ? count * f.den > base * f.num : count * f.den >= base * f.num;
}

/** The fewest of `base` that meet a threshold (for messages: "needs 7 of 10"). */
export function fewestMeeting(base: number, f: Fraction): number {
  if (base <= 0) return 1;
  const exact = (base * f.num) / f.den;
  return f.strict ? Math.floor(exact) + 1 : Math.ceil(exact);
}

/** How many could attend a meeting, from the registry as of its date. */
export interface Eligible {
  adults: number;
  households: number;
  representatives: number;
  partyMembers: number;
}

/** Who attended: a count per meeting; households only for a villagers' meeting counted by households. */
export interface Attendance {
  present: number;
  households?: number;
}

/** The votes cast, as counts. */
export interface Votes {
  for: number;
  against: number;
  abstain: number;
}

/** A rule the input broke: 400 with the field and rule. */
export interface RuleBreach {
  slug: string;
  path: string;
  message: string;
}

/** The base a meeting's quorum is counted on, or null when the meeting has no registered base. */
export function quorumBase(meeting: MeetingKind, eligible: Eligible): number | null {
  switch (meeting) {
    case "villagers_meeting":
      return eligible.adults;
    case "representatives_meeting":
      return eligible.representatives;
    case "party_members_meeting":
      return eligible.partyMembers;
    default:
      return null;
  }
}

/**
 * Input rules of a vote: no more votes than attendees, no more attendees than could attend. Null when sound.
 */
export function checkVote(
  meeting: MeetingKind,
  attendance: Attendance,
  votes: Votes,
  eligible: Eligible,
): RuleBreach | null {
  const cast = votes.for + votes.against + votes.abstain;
  if (cast > attendance.present) {
    return {
      slug: "votes-exceed-attendance",
      path: "votes",
      message: `${cast} votes cast by ${attendance.present} present`,
    };
  }
  const base = quorumBase(meeting, eligible);
  if (base !== null && attendance.present > base) {
    return {
      slug: "attendance-exceeds-eligible",
      path: "attendance.present",
      message: `${attendance.present} present of ${base} eligible on the meeting date`,
    };
  }
  if (attendance.households !== undefined) {
    if (meeting !== "villagers_meeting") {
      return {
        slug: "households-only-at-villagers-meeting",
        path: "attendance.households",
        message: "households are counted only at a villagers' meeting",
      };
    }
    if (attendance.households > eligible.households) {
      return {
        slug: "attendance-exceeds-eligible",
        path: "attendance.households",
        message: `${attendance.households} households of ${eligible.households} registered on the meeting date`,
      };
    }
  }
  return null;
}

/** What a vote decided. */
export interface VoteOutcome {
  quorate: boolean;
  passed: boolean;
  /** Why it is not quorate, or null. */
  quorumNote: string | null;
}

/**
 * Quorum and majority of a meeting. A villagers' meeting is quorate with more than half of the adults or
 * representatives of more than two thirds of the households (art. 22); a representatives' meeting with more
 * than two thirds of the representatives (art. 26); a Party members' meeting with more than half of the
 * members. Meetings without a registered base (Party committee, two committees) need no quorum here. Every
 * meeting decides by more than half of those present. A vote without quorum decides nothing.
 */
export function decideVote(
  meeting: MeetingKind,
  attendance: Attendance,
  votes: Votes,
  eligible: Eligible,
  rules: ProcedureRules = DEFAULT_RULES,
): VoteOutcome {
  let quorate = true;
  let quorumNote: string | null = null;
  if (meeting === "villagers_meeting") {
    const byAdults = meets(attendance.present, eligible.adults, rules.villagersAdults);
    const byHouseholds =
      attendance.households !== undefined &&
      meets(attendance.households, eligible.households, rules.villagersHouseholds);
    quorate = byAdults || byHouseholds;
    if (!quorate)
      quorumNote = `needs ${fewestMeeting(eligible.adults, rules.villagersAdults)} of ${eligible.adults} adults or ${fewestMeeting(eligible.households, rules.villagersHouseholds)} of ${eligible.households} households`;
  } else {
    const base = quorumBase(meeting, eligible);
    const rule = meeting === "representatives_meeting" ? rules.representatives : rules.partyMembers;
    if (base !== null) {
      quorate = meets(attendance.present, base, rule);
      if (!quorate) quorumNote = `needs ${fewestMeeting(base, rule)} of ${base} present`;
    }
  }
  return { quorate, passed: quorate && meets(votes.for, attendance.present, rules.majority), quorumNote };
}

/** A kind of matter on the micro-power list and the procedure it requires. */
export interface PowerKind {
  kind: string;
  label: string;
  /** The steps it requires, in statutory order. */
  steps: Step[];
  /** The notice period of its resolution, in days. */
  noticeDays: number;
  /** Listed only at or above this amount (yuan); null for every amount. */
  minAmountYuan: number | null;
}

/** The notice period when nothing else says (公示期). */
export const DEFAULT_NOTICE_DAYS = 7;

/** The micro-power list a typical village starts with. */
export const DEFAULT_POWER_LIST: readonly PowerKind[] = [
  {
    kind: "collective_asset_disposal",
    label: "集体资产处置",
    steps: [...STEPS],
    noticeDays: 7,
    minAmountYuan: null,
  },
  {
    kind: "construction_project",
    label: "工程建设项目",
    steps: [...STEPS],
    noticeDays: 7,
    minAmountYuan: 50_000,
  },
  {
    kind: "subsistence_allowance",
    label: "低保评议",
    steps: ["discussion", "resolution"],
    noticeDays: 7,
    minAmountYuan: null,
  },
  {
    kind: "land_contract_adjustment",
    label: "土地承包调整",
    steps: [...STEPS],
    noticeDays: 7,
    minAmountYuan: null,
  },
];

/**
 * The list in force at a unit: the defaults tightened by each unit's own list from the top of the tree down.
 * A unit may add kinds and require more; it never loosens what a unit above requires (steps are united, the
 * longer notice period and the lower amount threshold win).
 */
export function effectivePowerList(
  defaults: readonly PowerKind[],
  ownListsTopDown: ReadonlyArray<readonly PowerKind[]>,
): PowerKind[] {
  const byKind = new Map(defaults.map((k) => [k.kind, { ...k, steps: [...k.steps] }]));
  for (const list of ownListsTopDown) {
    for (const k of list) {
      const prev = byKind.get(k.kind);
      if (!prev) {
        byKind.set(k.kind, { ...k, steps: STEPS.filter((s) => k.steps.includes(s)) });
        continue;
      }
      byKind.set(k.kind, {
        kind: k.kind,
        label: k.label,
        steps: STEPS.filter((s) => prev.steps.includes(s) || k.steps.includes(s)),
        noticeDays: Math.max(prev.noticeDays, k.noticeDays),
        minAmountYuan:
          prev.minAmountYuan === null || k.minAmountYuan === null
            ? null
            : Math.min(prev.minAmountYuan, k.minAmountYuan),
      });
    }
  }
  return [...byKind.values()].sort((a, b) => a.kind.localeCompare(b.kind));
}

/** The listed kind an item falls under, or null (not listed: any amount below its threshold, or no kind). */
export function listedKind(
  list: readonly PowerKind[],
  kind: string | null,
  amountYuan: number | null,
): PowerKind | null {
  const k = kind ? list.find((p) => p.kind === kind) : undefined;
  if (!k) return null;
  if (k.minAmountYuan !== null && (amountYuan ?? 0) < k.minAmountYuan) return null;
  return k;
}

/** The procedure an item follows: its listed kind's, or all four steps and the default notice period. */
export function procedureOf(listed: PowerKind | null): { steps: Step[]; noticeDays: number } {
  return listed
    ? { steps: listed.steps, noticeDays: listed.noticeDays }
    : { steps: [...STEPS], noticeDays: DEFAULT_NOTICE_DAYS };
}

/**
 * The step an item may record next: the first required step after the last one it passed. A step before it
 * is out of order; a step after it skips a required one. Null when the procedure's steps are all passed.
 */
export function nextStep(required: readonly Step[], passed: readonly Step[]): Step | null {
  const lastIndex = Math.max(-1, ...passed.map((s) => STEPS.indexOf(s)));
  return required.find((s) => STEPS.indexOf(s) > lastIndex) ?? null;
}

/** Why `step` may not be recorded now (409 `step-out-of-order`), or null. */
export function checkStep(
  state: ItemState,
  required: readonly Step[],
  passed: readonly Step[],
  step: Step,
  meeting: MeetingKind,
): RuleBreach | null {
  if (state !== "open")
    return { slug: "item-not-open", path: "step", message: `the item is ${state}, not open for steps` };
  const next = nextStep(required, passed);
  if (step !== next) {
    const message = next
      ? `the next step is ${next} (${STEP_LABELS[next]}), not ${step}`
      : `all required steps are passed; ${step} is not required`;
    return { slug: "step-out-of-order", path: "step", message };
  }
  if (!STEP_MEETINGS[step].includes(meeting))
    return {
      slug: "wrong-meeting",
      path: "meeting",
      message: `${step} is taken at ${STEP_MEETINGS[step].join(" or ")}`,
    };
  return null;
}

/**
 * The China date a notice period ends on: a period of `days` starting on the China date of publication runs
 * from the next day (Civil Code art. 201: the first day is not counted) through this date.
 *
 * @example
 * noticeEndsOn("2026-05-01", 7); // "2026-05-08"
 */
export function noticeEndsOn(publishedOn: string, days: number): string {
  const d = new Date(`${publishedOn}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** Whether a notice that ends on `endsOn` has run its course on the China date `today`. */
export function noticeElapsed(endsOn: string, today: string): boolean {
  return today > endsOn;
}

/** What a decision still lacks: the first missing step, or the notice still running; null when complete. */
export function missingForDecision(
  procedure: { steps: readonly Step[] },
  passed: readonly Step[],
  notice: { endsOn: string; openObjections: number } | null,
  today: string,
): RuleBreach | null {
  const missing = procedure.steps.find((s) => !passed.includes(s));
  if (missing)
    return {
      slug: "procedure-incomplete",
      path: "steps",
      message: `missing step: ${missing} (${STEP_LABELS[missing]})`,
    };
  if (!notice)
    return {
      slug: "procedure-incomplete",
      path: "notice",
      message: "missing step: the resolution is not yet made public (决议公开)",
    };
  if (!noticeElapsed(notice.endsOn, today))
    return {
      slug: "notice-period-running",
      path: "notice",
      message: `missing step: the notice period (公示期) runs through ${notice.endsOn}`,
    };
  if (notice.openObjections > 0)
    return {
      slug: "objections-open",
      path: "notice",
      message: `missing step: ${notice.openObjections} objection(s) to the notice are not yet answered`,
    };
  return null;
}

/** Whether a resident born on `birthDate` (YYYY-MM-DD) is 18 or over on the China date `on`. */
export function isAdultOn(birthDate: string, on: string): boolean {
  const [y, md] = [Number(birthDate.slice(0, 4)), birthDate.slice(5)];
  const adultFrom = md === "02-29" ? `${y + 18}-03-01` : `${y + 18}-${md}`;
  return adultFrom <= on;
}

/** The share of tasks done by their deadline, in whole percent; null without tasks done. */
export function onTimeRate(tasks: ReadonlyArray<{ doneOn: string | null; dueOn: string }>): number | null {
  const done = tasks.filter((t) => t.doneOn !== null);
  if (done.length === 0) return null;
  return Math.round((100 * done.filter((t) => t.doneOn! <= t.dueOn).length) / done.length);
}

/** The median of a list of numbers, or null when empty. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Whole China days between two China dates. */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

/** One member's vote in a roll call. */
export interface RollCallVote {
  memberId: string;
  vote: "for" | "against" | "abstain";
}

/**
 * A roll call's rules: required at a representatives' or Party members' meeting when the village's rules ask
 * for one; each voter a member of that meeting's kind serving on its date, once; its tally the votes given.
 * Null when sound.
 */
export function checkRollCall(
  rules: Pick<ProcedureRules, "rollCall">,
  meeting: MeetingKind,
  rollCall: readonly RollCallVote[] | undefined,
  votes: Votes,
  serving: ReadonlySet<string>,
): RuleBreach | null {
  const byMembers = meeting === "representatives_meeting" || meeting === "party_members_meeting";
  if (!rollCall) {
    return rules.rollCall && byMembers
      ? {
          slug: "roll-call-required",
          path: "rollCall",
          message: "the village's rules ask for a roll call at this meeting",
        }
      : null;
  }
  if (!byMembers)
    return {
      slug: "roll-call-not-taken",
      path: "rollCall",
      message: "a roll call is taken at a representatives' or Party members' meeting",
    };
  const seen = new Set<string>();
  for (const [i, v] of rollCall.entries()) {
    if (!serving.has(v.memberId) || seen.has(v.memberId))
      return {
        slug: "roll-call-member",
        path: `rollCall.${i}.memberId`,
        message: seen.has(v.memberId) ? "listed twice" : "not a member serving on the meeting date",
      };
    seen.add(v.memberId);
  }
  const tally = (k: RollCallVote["vote"]) => rollCall.filter((v) => v.vote === k).length;
  if (tally("for") !== votes.for || tally("against") !== votes.against || tally("abstain") !== votes.abstain)
    return {
      slug: "roll-call-mismatch",
      path: "rollCall",
      message: "the roll call does not add up to the votes",
    };
  return null;
}

/** A session holds at most this many photos and sign-in sheets. */
export const MAX_SESSION_ATTACHMENTS = 30;
/** What a session's attachment shows: 现场照片 or 签到表. */
export const SESSION_ATTACHMENT_KINDS = ["photo", "sign_in_sheet"] as const;
export type SessionAttachmentKind = (typeof SESSION_ATTACHMENT_KINDS)[number];

/** An entry of a matter's history. */
export interface MatterHistoryEntry {
  at: string;
  event: string;
  detail: string | null;
}

/**
 * The history entries of the case a matter was turned into, from its closing and reopening events: `closed`
 * closes the matter (`case_closed`); a `reopened` command (its reason) or a dissatisfied return visit (回访不满意,
 * its note) reopens it (`case_reopened`). Other events say nothing to the matter.
 *
 * @example
 * caseTurnsHistory([{ type: "closed", at: "t1", payload: {} }]) // [{ at: "t1", event: "case_closed", detail: null }]
 */
export function caseTurnsHistory(
  events: ReadonlyArray<{ type: string; at: string; payload: Record<string, unknown> }>,
): MatterHistoryEntry[] {
  const text = (v: unknown) => (typeof v === "string" && v !== "" ? v : null);
  return events.flatMap((e): MatterHistoryEntry[] => {
    if (e.type === "closed") return [{ at: e.at, event: "case_closed", detail: null }];
    if (e.type === "reopened") return [{ at: e.at, event: "case_reopened", detail: text(e.payload.reason) }];
    if (e.type === "return_visited" && e.payload.state === "reopened")
      return [
        {
          at: e.at,
          event: "case_reopened",
          detail: `回访不满意${text(e.payload.note) ? `：${e.payload.note}` : ""}`,
        },
      ];
    return [];
  });
}

/** Where a matter stands: `raised` (待分流), `in_hand` (办理中) or `closed` (已办结). */
export type MatterStatus = "raised" | "in_hand" | "closed";

/**
 * A matter's status from its outcome and what became of it: answered or declined closes it at once; a case
 * closes it while the case is closed (it is in hand again once the case is reopened); an agenda item closes it
 * when the item's result is published (实施结果公开).
 *
 * @example
 * matterStatus("case", "reopened", null) // "in_hand"
 */
export function matterStatus(
  outcome: MatterOutcome | null,
  caseState: string | null,
  itemState: string | null,
): MatterStatus {
  if (outcome === null) return "raised";
  const closed =
    outcome === "answered" ||
    outcome === "declined" ||
    (outcome === "case" && caseState === "closed") ||
    (outcome === "agenda" && itemState === "result_published");
  return closed ? "closed" : "in_hand";
}
